"""Strict config: every problem at once, with the file and the key path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from appliance.config import check_files, load_unit_config
from appliance.errors import ConfigError
from tests.conftest import DEMO_SITE


def test_every_example_file_is_valid():
    files = sorted(str(p) for p in DEMO_SITE.glob("*.toml"))
    assert len(files) >= 8
    assert check_files(files) == []


def test_unit_id_defaults_to_file_name_and_data_dir_is_relative_to_the_file():
    cfg = load_unit_config(DEMO_SITE / "counter-2.toml")
    assert cfg.unit == "counter-2" and cfg.role == "counter"
    assert cfg.data_path == (DEMO_SITE / "data" / "counter-2").resolve()
    other = load_unit_config(DEMO_SITE / "counter-2.toml", data_dir="/tmp/x",
                             broker_url="mqtt://10.0.0.5:1884")
    assert str(other.data_path) == "/tmp/x" and other.broker.port == 1884


def test_all_problems_reported_with_file_and_key(tmp_path: Path):
    bad = tmp_path / "hub.toml"
    bad.write_text(
        'site = "demo"\nrole = "hub"\ncolour = "red"\n'
        '[broker]\nurl = "http://x"\nkeepalive = "soon"\n'
        '[hub]\noffice_name = "X"\n'
        '[[hub.services]]\nid = "A"\nname = "A"\nfirst = 5\nlast = 2\n'
        '[[hub.counters]]\nid = "1"\nservices = ["A"]\n'
    )
    with pytest.raises(ConfigError) as err:
        load_unit_config(bad)
    text = "\n".join(err.value.problems)
    assert all(p.startswith(str(bad)) for p in err.value.problems)
    assert "colour: unknown key" in text
    assert "broker.url: must start with mqtt://" in text
    assert "broker.keepalive:" in text
    assert "hub.services[0]: last (2) is below first (5)" in text
    assert len(err.value.problems) == 4


def test_cross_checks_of_the_site(tmp_path: Path):
    text = (DEMO_SITE / "hub.toml").read_text()
    text = text.replace('services = ["C", "D"]', 'services = ["C", "E"]')
    text = text.replace("A = { first = 800, last = 999 }", "A = { first = 700, last = 999 }")
    bad = tmp_path / "hub.toml"
    bad.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_unit_config(bad)
    text = "\n".join(err.value.problems)
    assert "counters.3.services: unknown service 'E'" in text
    assert "units.dispenser-1.offline_bands.A: 700-999 overlaps the hub's own numbers" in text


def test_section_of_another_role_is_refused(tmp_path: Path):
    f = tmp_path / "counter-1.toml"
    f.write_text('site = "demo"\nrole = "counter"\n[board]\n')
    with pytest.raises(ConfigError, match=r"\[board\] does not belong in a counter unit"):
        load_unit_config(f)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"site = \n", "not valid TOML"), (b"\xff\xfe", "not UTF-8"), (None, "cannot read")],
)
def test_unreadable_files(tmp_path: Path, content, expected):
    f = tmp_path / "x.toml"
    if content is not None:
        f.write_bytes(content)
    with pytest.raises(ConfigError, match=expected):
        load_unit_config(f)


def test_check_config_command(tmp_path: Path):
    bad = tmp_path / "b.toml"
    bad.write_text('site = "demo"\nrole = "dispenser"\nbogus = 1\n')
    good = DEMO_SITE / "hub.toml"
    run = subprocess.run([sys.executable, "-m", "appliance.cli", "check-config", str(good),
                          str(bad)], capture_output=True, text=True)
    assert run.returncode == 2
    assert f"{bad}: bogus: unknown key" in run.stderr
    ok = subprocess.run([sys.executable, "-m", "appliance.cli", "check-config", str(good)],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "OK" in ok.stdout
