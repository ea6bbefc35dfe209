"""Read the machine's own health: disk, SD-card errors, temperature, power and throttling.

Each reader answers ``None`` when the machine cannot tell (no such sensor, no permission),
never a made-up "fine". ``sys_root`` lets the tests point the readers at a fake /sys tree.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# `vcgencmd get_throttled` bits (Raspberry Pi firmware documentation)
UNDER_VOLTAGE_NOW = 1 << 0
THROTTLED_NOW = 1 << 2
UNDER_VOLTAGE_SEEN = 1 << 16
THROTTLED_SEEN = 1 << 18


@dataclass(frozen=True)
class PowerFlags:
    under_voltage: bool | None = None
    under_voltage_seen: bool | None = None
    throttled: bool | None = None
    throttled_seen: bool | None = None


def disk_mb(path: Path) -> tuple[int | None, int | None]:
    """(free, total) MB of the file system holding ``path`` (its nearest existing parent)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError:
        return None, None
    return usage.free // 2**20, usage.total // 2**20


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def sd_write_errors(sys_root: Path = Path("/sys")) -> int | None:
    """Errors the kernel counted on ext4 file systems since they were made (the data and
    root partitions of the SD card); ``None`` when the kernel exposes no counter."""
    base = sys_root / "fs" / "ext4"
    counts = [_read_int(d / "errors_count") for d in sorted(base.glob("*"))]
    known = [c for c in counts if c is not None]
    return sum(known) if known else None


def cpu_temp_c(sys_root: Path = Path("/sys")) -> float | None:
    """The CPU's temperature: a thermal zone of type cpu/soc first, then any hwmon sensor."""
    zones = sorted((sys_root / "class" / "thermal").glob("thermal_zone*"))
    preferred = [z for z in zones if "cpu" in _text(z / "type") or "soc" in _text(z / "type")]
    for zone in preferred + zones:
        milli = _read_int(zone / "temp")
        if milli is not None:
            return round(milli / 1000, 1)
    for mon in sorted((sys_root / "class" / "hwmon").glob("hwmon*")):
        milli = _read_int(mon / "temp1_input")
        if milli is not None:
            return round(milli / 1000, 1)
    return None


def _text(path: Path) -> str:
    try:
        return path.read_text().strip().lower()
    except OSError:
        return ""


def parse_throttled(text: str) -> PowerFlags:
    """``throttled=0x50005`` (vcgencmd's answer) to flags; anything else is unknown."""
    key, _, value = text.strip().partition("=")
    if key != "throttled":
        return PowerFlags()
    try:
        bits = int(value, 16)
    except ValueError:
        return PowerFlags()
    return PowerFlags(
        under_voltage=bool(bits & UNDER_VOLTAGE_NOW),
        under_voltage_seen=bool(bits & UNDER_VOLTAGE_SEEN),
        throttled=bool(bits & THROTTLED_NOW),
        throttled_seen=bool(bits & THROTTLED_SEEN),
    )


def power_flags(sys_root: Path = Path("/sys"), vcgencmd: str | None = None) -> PowerFlags:
    """Under-voltage and throttling from the firmware (vcgencmd) when it is there, else from
    the kernel's ``rpi_volt`` hwmon (under-voltage only), else unknown."""
    tool = vcgencmd or shutil.which("vcgencmd")
    if tool:
        try:
            done = subprocess.run([tool, "get_throttled"], capture_output=True, text=True,
                                  timeout=2, check=False)
        except (OSError, subprocess.TimeoutExpired):
            done = None
        if done is not None and done.returncode == 0:
            flags = parse_throttled(done.stdout)
            if flags.under_voltage is not None:
                return flags
    for mon in sorted((sys_root / "class" / "hwmon").glob("hwmon*")):
        if _text(mon / "name") == "rpi_volt":
            alarm = _read_int(mon / "in0_lcrit_alarm")
            if alarm is not None:
                return PowerFlags(under_voltage=bool(alarm))
    return PowerFlags()
