"""The care commands as a person types them: enrol, keygen, release, restore."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.care_helpers import ROOT, site_file
from tests.test_care_update import make_wheel

CARE_TOML = """province = "Tỉnh Mẫu"
data_dir = "care-data"
[broker]
url = "mqtt://127.0.0.1:1"
username = "care"
password = "care-secret"
[web]
session_secret = "0123456789abcdef0123"
[sites.s1]
name = "Phường Một"
"""


def motcua(*args: str, cwd: Path, lang: str = "en") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "appliance.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin:/usr/sbin",
                               "MOTCUA_LANG": lang})


def test_enrol_keygen_release_restore(tmp_path: Path) -> None:
    (tmp_path / "care.toml").write_text(CARE_TOML)
    hub = site_file(tmp_path / "site", "s1", {"counter-1": "counter"})
    done = motcua("care", "--config", "care.toml", "enrol", "s1", "--site-file", str(hub),
                  cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    card = tmp_path / "care-data" / "sites" / "s1"
    assert "password = " in done.stdout and (card / "bridge.conf").exists()
    wrong = motcua("care", "--config", "care.toml", "enrol", "s2", cwd=tmp_path)
    assert wrong.returncode == 2 and "not in the care config" in wrong.stderr
    # staff read it in Vietnamese first
    vi = motcua("care", "--config", "care.toml", "enrol", "s2", cwd=tmp_path, lang="vi")
    assert vi.returncode == 2 and "không có trong mục [sites]" in vi.stderr

    assert motcua("care", "--config", "care.toml", "keygen", cwd=tmp_path).returncode == 0
    again = motcua("care", "--config", "care.toml", "keygen", cwd=tmp_path)
    assert again.returncode == 1 and "exists" in again.stderr
    make_wheel(tmp_path / "bundle", "0.2.0", "")
    rel = motcua("care", "--config", "care.toml", "release", str(tmp_path / "bundle"),
                 "--version", "0.2.0", cwd=tmp_path)
    assert (tmp_path / "care-data" / "releases" / "0.2.0" / "manifest.sig").exists()
    assert rel.returncode == 1 and "public_url is not set" in rel.stderr

    nothing = motcua("restore", "--config", "care.toml", "--site", "s1", "--to",
                     str(tmp_path / "spare"), cwd=tmp_path)
    assert nothing.returncode == 1 and "no backup of site 's1'" in nothing.stderr
    # no care broker runs from these files: reload says so instead of pretending
    reload = motcua("care", "--config", "care.toml", "reload", cwd=tmp_path)
    assert reload.returncode == 1 and "no care broker is running" in reload.stderr
    bad = motcua("care", "--config", "care.toml", "--nonsense", cwd=tmp_path)
    assert bad.returncode == 2


def test_a_release_goes_to_one_site_first(tmp_path: Path, broker) -> None:
    """`release --site s1` announces to s1 only; s2 hears nothing until it is named."""
    import json
    import threading

    import paho.mqtt.client as mqtt

    toml = CARE_TOML.replace('url = "mqtt://127.0.0.1:1"', f'url = "{broker.url}"').replace(
        "[web]\n", '[web]\npublic_url = "https://care.example:8440"\n') + \
        '[sites.s2]\nname = "Xã Hai"\n'
    (tmp_path / "care.toml").write_text(toml)
    assert motcua("care", "--config", "care.toml", "keygen", cwd=tmp_path).returncode == 0
    make_wheel(tmp_path / "bundle", "0.2.0", "")
    rel = motcua("care", "--config", "care.toml", "release", str(tmp_path / "bundle"),
                 "--version", "0.2.0", "--site", "s1", cwd=tmp_path)
    assert rel.returncode == 0, rel.stderr
    heard: dict[str, dict] = {}
    got = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

    def on_message(client, userdata, m) -> None:
        heard[m.topic] = json.loads(m.payload)
        got.set()

    c.on_connect = lambda client, *a: client.subscribe("motcua/v1/+/care/release", qos=1)
    c.on_message = on_message
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    try:
        assert got.wait(10)
        time.sleep(1)  # a second retained announcement would have come by now
    finally:
        c.loop_stop()
        c.disconnect()
    assert list(heard) == ["motcua/v1/s1/care/release"]
    assert heard["motcua/v1/s1/care/release"]["url"] == \
        "https://care.example:8440/releases/0.2.0/"
