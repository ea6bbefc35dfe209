"""The systemd units as systemd itself reads them: verify clean, exposure under 5, real
device classes, Type=notify with a watchdog for every role."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[1] / "systemd"
ROLES = ("hub", "store", "dispenser", "counter", "board", "lookup")
# care from afar: the province's server and broker, the hub card's backup sender, a role
# under the care updater (a template: its instance is the role)
CARE = ("care", "care-broker", "backup", "update@counter", "update@dispenser")
# Names in /proc/devices (what DeviceAllow=char-NAME matches), with the driver that
# registers each; sysfs class names such as "usbmisc" match nothing there.
DEVICE_CLASSES = {
    "usb": "usblp: /dev/usb/lp*, major 180",
    "usb_device": "usbcore: /dev/bus/usb/*, major 189",
    "ttyUSB": "usbserial: /dev/ttyUSB*, major 188",
    "ttyACM": "cdc_acm: /dev/ttyACM*, major 166",
    "ttyAMA": "amba-pl011: the Pi's UART, major 204",
    "gpiochip": "gpiolib: /dev/gpiochip*",
    "input": "input core: /dev/input/*, major 13",
    "drm": "DRM: /dev/dri/*, major 226",
    "alsa": "ALSA: /dev/snd/*, major 116",
}

analyze = shutil.which("systemd-analyze") or ""
needs_analyze = pytest.mark.skipif(not analyze, reason="systemd-analyze not installed")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root file system with the host's systemd units and ours, as the image installs them."""
    r = tmp_path_factory.mktemp("root")
    for lib in ("/usr/lib/systemd/system", "/lib/systemd/system"):
        if Path(lib).is_dir():
            shutil.copytree(lib, r / "usr/lib/systemd/system", symlinks=True,
                            dirs_exist_ok=True)
            break
    dest = r / "etc/systemd/system"
    shutil.copytree(UNITS, dest, dirs_exist_ok=True)
    for name in ("mosquitto", "chrony", "postgresql"):
        (dest / f"{name}.service").write_text(
            f"[Unit]\nDescription=stand-in for Debian's {name}\n[Service]\n"
            "ExecStart=/bin/true\n")
    motcua = r / "opt/motcua/venv/bin/motcua"
    motcua.parent.mkdir(parents=True)
    motcua.write_text("#!/bin/sh\n")
    motcua.chmod(0o755)
    return r


def _unit(role: str) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read([UNITS / "motcua-common.conf", UNITS / f"motcua-{role}.service"])
    return cp


@needs_analyze
@pytest.mark.parametrize("role", [*ROLES, "setup", *CARE])
def test_units_verify_clean(root, role):
    out = subprocess.run([analyze, f"--root={root}", "verify", f"motcua-{role}.service"],
                         capture_output=True, text=True, timeout=120)
    # verify exits 0 on warnings: any line about our units is a failure
    ours = [line for line in out.stderr.splitlines() if "motcua" in line]
    assert out.returncode == 0 and not ours, out.stderr


@needs_analyze
@pytest.mark.parametrize("role", [*ROLES, *CARE])
def test_exposure_under_5(root, role):
    out = subprocess.run([analyze, f"--root={root}", "security", "--offline=true",
                          f"motcua-{role}.service"], capture_output=True, text=True,
                         timeout=120)
    m = re.search(r"Overall exposure level for motcua-[\w@-]+\.service: (\d+\.\d)",
                  out.stdout)
    assert m, out.stdout + out.stderr
    score = float(m.group(1))
    print(f"motcua-{role}.service exposure {score}")
    assert score < 5.0


def test_every_role_is_notify_with_a_watchdog_and_a_back_off():
    for role in ROLES:
        s = _unit(role)["Service"]
        assert s["Type"] == "notify" and int(s["WatchdogSec"]) > 0, role
        assert s["Restart"] == "always"
        assert "record-exit --backoff" in (UNITS / f"motcua-{role}.service.d/10-common.conf"
                                           ).read_text()
        assert "--config /etc/motcua/unit.toml --data ${MOTCUA_DATA}" in s["ExecStart"]
        text = (UNITS / f"motcua-{role}.service").read_text()
        assert f"Environment=MOTCUA_DATA=/var/lib/motcua/{role}" in text


def test_the_updater_runs_the_role_it_replaces():
    text = (UNITS / "motcua-update@.service").read_text()
    assert "Conflicts=motcua-%i.service" in text and "NotifyAccess=all" in text
    assert "-- /opt/motcua/venv/bin/motcua %i --config /etc/motcua/unit.toml" in text
    assert (UNITS / "motcua-update@.service.d/10-common.conf").resolve() == \
        (UNITS / "motcua-common.conf").resolve()
    broker = (UNITS / "motcua-care-broker.service").read_text()
    assert "ExecReload=" in broker and " broker\n" in broker


def test_device_allow_names_real_device_classes():
    seen = set()
    for path in UNITS.glob("*.service"):
        for m in re.finditer(r"^DeviceAllow=char-(\S+)", path.read_text(), re.M):
            assert m.group(1) in DEVICE_CLASSES, f"{path.name}: char-{m.group(1)}"
            seen.add(m.group(1))
    assert {"usb", "ttyUSB", "gpiochip"} <= seen  # the dispenser's printer and pins
    # the names this machine's kernel has registered are spelled exactly so
    majors = {line.split()[1] for line in Path("/proc/devices").read_text().splitlines()
              if line[:1] == " " or line[:1].isdigit()}
    assert "input" in majors
    assert not (seen - set(DEVICE_CLASSES))


def test_hardware_devices_need_their_groups():
    groups = {r: set(_unit(r)["Service"].get("SupplementaryGroups", "").split())
              for r in ROLES}
    assert {"gpio", "lp", "dialout"} <= groups["dispenser"]
    assert {"input", "dialout", "gpio"} <= groups["counter"]
    assert {"video", "render", "audio"} <= groups["board"]
    rules = (UNITS.parent / "image/files/60-motcua.rules").read_text()
    assert 'KERNEL=="gpiochip*", GROUP="gpio"' in rules
    assert 'KERNEL=="lp[0-9]*", GROUP="lp"' in rules
    sysusers = (UNITS.parent / "image/files/motcua.sysusers").read_text()
    for g in ("gpio", "lp", "dialout", "input", "audio", "video"):
        assert f"m motcua {g}\n" in sysusers
