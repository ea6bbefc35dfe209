"""Signed releases and updates with rollback, on a real site broker, downloaded over
HTTPS from the care server: a good release is kept; one whose role exits at start is
rolled back within its deadline and reported; a bad signature or a truncated download is
refused and nothing changes; a power cut mid-switch leaves one of the two slots."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from appliance.broker import MosquittoBroker
from appliance.care.bootstrap import CareServer
from appliance.care.release import announcement, keygen, make_release
from appliance.config.base import BrokerConfig
from appliance.update.bundle import Fetcher, UpdateRefused, download, load_public_key
from appliance.update.slots import MARKER, Slots
from appliance.update.updater import Launcher, StatusWatch, Updater, python_command
from tests import care_fixtures
from tests.care_helpers import ROOT, SimUnit
from tests.waiting import poll

GOOD = "import sys\nfrom tests.care_unit import main\nsys.exit(main(sys.argv[1:]))\n"
care = care_fixtures.care  # the HTTPS care server fixture
BAD = "import sys\nsys.exit(3)  # this release's role dies at start\n"


def make_wheel(folder: Path, version: str, main_src: str) -> Path:
    """A real (pure Python) wheel of 'motcua' VERSION with a probe role, as pip wants it."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"motcua-{version}-py3-none-any.whl"
    di = f"motcua-{version}.dist-info"
    files = {
        "motcua_probe/__init__.py": "",
        "motcua_probe/__main__.py": main_src,
        f"{di}/METADATA": f"Metadata-Version: 2.1\nName: motcua\nVersion: {version}\n",
        f"{di}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                       "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest())
        record.append(f"{path},sha256={digest.rstrip(b'=').decode()},{len(text.encode())}")
    record.append(f"{di}/RECORD,,")
    files[f"{di}/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(folder / name, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    return folder / name


def _release(care: CareServer, tmp: Path, version: str, src: str) -> dict[str, str]:
    make_release(make_wheel(tmp / f"bundle-{version}", version, src).parent, version,
                 care.config.data_path / "release.key", care.config.data_path / "releases")
    assert care.config.web.public_url
    return announcement(version, care.config.web.public_url)


def test_update_kept_rolled_back_refused(care: CareServer, broker: MosquittoBroker,
                                         tmp_path: Path) -> None:
    data = care.config.data_path
    key = load_public_key(data / "release.pub")
    fetcher = Fetcher(ca_file=data / "pki" / "ca.crt")
    sim = SimUnit("demo", "counter-1", "counter", broker.url, tmp_path / "unit")
    slots = Slots(tmp_path / "releases")
    launcher = Launcher(python_command("motcua_probe", "--site", "demo", "--unit", "counter-1",
                                       "--role", "counter", "--broker", broker.url,
                                       "--facts", str(sim.facts)), base_path=[str(ROOT)])
    watch = StatusWatch(BrokerConfig(url=broker.url), "demo", "counter-1")
    reports: list[dict] = []
    real_report = watch.report

    def report(body: dict) -> None:
        reports.append(body)
        real_report(body)
    watch.report = report  # type: ignore[method-assign]
    updater = Updater(slots, key, fetcher, launcher, watch, deadline_s=20)
    try:
        # a good release: installed, switched, ready on the new version, kept
        assert updater.apply(_release(care, tmp_path, "0.2.0", GOOD)) == "kept"
        assert slots.current == "0.2.0" and reports[-1]["state"] == "kept"
        assert watch.latest["health"]["version"] == "0.2.0"

        # a release whose role exits at start: rolled back by itself, reported
        t0 = time.monotonic()
        assert updater.apply(_release(care, tmp_path, "0.3.0", BAD)) == "update_failed"
        assert time.monotonic() - t0 < 20 + 15
        assert slots.current == "0.2.0" and slots.start_version() == "0.2.0"
        assert reports[-1]["state"] == "update_failed"
        assert "exited with code 3" in reports[-1]["reason"]
        assert poll(lambda: watch.latest.get("state") == "ready" and
                    watch.latest["health"]["version"] == "0.2.0", 20)
        # its retained announcement, seen again after a restart, is not tried again
        assert updater.apply(announcement("0.3.0", care.config.web.public_url or "")) == \
            "already"
        assert slots.current == "0.2.0"

        # signed with another key: refused before anything is installed
        other = tmp_path / "other"
        keygen(other / "k", other / "k.pub")
        bad_sig = make_release(make_wheel(tmp_path / "b4", "0.4.0", GOOD).parent, "0.4.0",
                               other / "k", tmp_path / "elsewhere")
        (data / "releases" / "0.4.0").mkdir()
        for f in bad_sig.iterdir():
            (data / "releases" / "0.4.0" / f.name).write_bytes(f.read_bytes())
        before = sorted(p.name for p in slots.root.iterdir())
        assert updater.apply(announcement("0.4.0", care.config.web.public_url or "")) == \
            "refused"
        assert "bad signature" in reports[-1]["reason"]

        # a truncated download (the file on the server cut short): refused
        ann = _release(care, tmp_path, "0.5.0", GOOD)
        wheel = next((data / "releases" / "0.5.0").glob("*.whl"))
        wheel.write_bytes(wheel.read_bytes()[:-100])
        assert updater.apply(ann) == "refused"
        assert "truncated" in reports[-1]["reason"]
        with pytest.raises(UpdateRefused, match="truncated"):
            download(ann["url"], key, fetcher)
        # nothing changed: same slots, same current, the role still up on 0.2.0
        assert sorted(p.name for p in slots.root.iterdir()) == before
        assert slots.current == "0.2.0" and launcher.exit_code() is None
    finally:
        launcher.stop()
        watch.close()


SWITCHER = """
import sys
from pathlib import Path
from appliance.update.slots import Slots
s = Slots(Path(sys.argv[1]))
print("go", flush=True)
while True:
    for v in ("1.0", "2.0"):
        s.switch(v)
"""


def test_power_cut_mid_switch_leaves_one_of_two_slots(tmp_path: Path) -> None:
    root = tmp_path / "releases"
    for v in ("1.0", "2.0"):
        (root / v / "lib").mkdir(parents=True)
        (root / v / MARKER).write_text("{}")
    (root / ".3.0.partial").mkdir()  # a power cut mid-install: never started
    rng = random.Random(11)
    seen = set()
    for _ in range(15):
        proc = subprocess.Popen([sys.executable, "-c", SWITCHER, str(root)], cwd=ROOT,
                                stdout=subprocess.PIPE, env={**os.environ,
                                                             "PYTHONPATH": str(ROOT)})
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"go"
        time.sleep(rng.uniform(0.0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        started = Slots(root).start_version()
        assert started in ("1.0", "2.0")
        seen.add(started)
    assert Slots(root).complete("3.0") is False


def test_a_role_that_dies_by_itself_ends_the_updater(tmp_path: Path) -> None:
    """Outside a switch, the role's exit is a crash: the updater exits with its code, so
    systemd (Restart=always) starts both again instead of leaving a unit without its role."""
    from tests.care_helpers import site_file

    keygen(tmp_path / "release.key", tmp_path / "release.pub")
    unit_file = site_file(tmp_path / "site", "s1", {"counter-1": "counter"})
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "appliance.cli", "update", "--config", str(unit_file),
         "--key", str(tmp_path / "release.pub"), "--root", str(tmp_path / "releases"), "--",
         sys.executable, "-c", "import sys, time; time.sleep(1); sys.exit(7)"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 7, done.stderr
    assert "exited by itself with code 7" in done.stderr
    assert time.monotonic() - started < 60
