"""The health block units publish: real readers on a fake /sys, the fake, the bus hook."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from appliance.clock import SystemClock
from appliance.contract import decode
from appliance.health import HealthCollector, HealthFacts, attach_health
from appliance.health.facts import device_facts
from appliance.health.fake import FakeHealth
from appliance.health.sources import (
    cpu_temp_c,
    disk_mb,
    parse_throttled,
    power_flags,
    sd_write_errors,
)
from tests.waiting import poll


def _sys(tmp_path: Path) -> Path:
    root = tmp_path / "sys"
    zone = root / "class" / "thermal" / "thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "type").write_text("cpu-thermal\n")
    (zone / "temp").write_text("83456\n")
    for dev, n in (("mmcblk0p2", 3), ("mmcblk0p3", 1)):
        d = root / "fs" / "ext4" / dev
        d.mkdir(parents=True)
        (d / "errors_count").write_text(f"{n}\n")
    mon = root / "class" / "hwmon" / "hwmon0"
    mon.mkdir(parents=True)
    (mon / "name").write_text("rpi_volt\n")
    (mon / "in0_lcrit_alarm").write_text("1\n")
    return root


def test_readers_on_a_pi_like_sys(tmp_path: Path) -> None:
    root = _sys(tmp_path)
    assert cpu_temp_c(root) == 83.5
    assert sd_write_errors(root) == 4
    flags = power_flags(root, vcgencmd="/nonexistent/vcgencmd")
    assert flags.under_voltage is True and flags.throttled is None


def test_readers_say_unknown_when_the_machine_cannot_tell(tmp_path: Path) -> None:
    empty = tmp_path / "sys"
    empty.mkdir()
    assert cpu_temp_c(empty) is None
    assert sd_write_errors(empty) is None
    assert power_flags(empty, vcgencmd="/nonexistent").under_voltage is None


def test_vcgencmd_wins_over_hwmon(tmp_path: Path) -> None:
    tool = tmp_path / "vcgencmd"
    tool.write_text("#!/bin/sh\necho throttled=0x50005\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    flags = power_flags(_sys(tmp_path), vcgencmd=str(tool))
    assert (flags.under_voltage, flags.throttled, flags.under_voltage_seen,
            flags.throttled_seen) == (True, True, True, True)
    assert parse_throttled("throttled=0x0").under_voltage is False
    assert parse_throttled("error=1").under_voltage is None


def test_disk_of_a_data_dir_not_yet_made(tmp_path: Path) -> None:
    free, total = disk_mb(tmp_path / "not" / "yet")
    assert free is not None and total is not None and 0 <= free <= total


def test_device_facts_from_role_fields() -> None:
    assert device_facts("dispenser", {"paper": "out", "printer": "ok"}) == {
        "paper": "out", "printer_connected": True}
    assert device_facts("dispenser", {"printer": "unreachable"})["printer_connected"] is False
    assert device_facts("counter", {"keypad_present": False, "board_answering": None,
                                    "board_written": True}) == {
        "keypad_connected": False, "board_connected": True}
    assert device_facts("board", {"paper": "out"}) == {}


def test_bad_fields_are_dropped_one_by_one() -> None:
    facts = HealthFacts.read({"paper": "soggy", "disk_free_mb": 12, "new_field": 1})
    assert facts.paper is None and facts.disk_free_mb == 12
    assert HealthFacts.read("nonsense") == HealthFacts()


def test_collector_with_a_fake_file(tmp_path: Path) -> None:
    control = tmp_path / "facts.json"
    fake = FakeHealth(control, disk_free_mb=5000, paper="ok")
    col = HealthCollector(tmp_path, clock=SystemClock(), fake=fake, version="9.9")
    assert col.facts("dispenser", {"paper": "ok"})["disk_free_mb"] == 5000
    FakeHealth.write(control, disk_free_mb=3, paper="out")
    facts = col.facts("dispenser", {"paper": "ok"})
    assert facts["disk_free_mb"] == 3 and facts["paper"] == "out" and facts["version"] == "9.9"


def test_collector_reads_the_real_machine(tmp_path: Path) -> None:
    col = HealthCollector(tmp_path, clock=SystemClock())
    facts = col.facts("board", {})
    assert facts["disk_free_mb"] is not None and facts["disk_total_mb"] >= facts["disk_free_mb"]
    assert facts["clock_offset_s"] is None  # no hub heard yet: unknown, not zero
    json.dumps(facts)


def test_status_carries_health_and_clock_offset(make_bus, tmp_path: Path) -> None:
    seen: list[dict] = []
    watcher = make_bus("watcher", role="admin")
    watcher.subscribe(watcher.topics.status("counter-9"), lambda m: seen.append(decode(m.payload)))
    unit = make_bus("counter-9", role="counter")
    collector = attach_health(unit, tmp_path, fake=FakeHealth(cpu_temp_c=51.0))
    hub = make_bus("hub", role="hub")
    hub.set_status("ready")  # a live (not retained) hub status: the unit reads its clock
    assert poll(lambda: collector.facts("counter", {})["clock_offset_s"] is not None, 5)
    unit.set_status("ready", reasons=[], keypad_present=True)
    assert poll(lambda: bool(seen) and "health" in seen[-1] and
                seen[-1]["health"]["clock_offset_s"] is not None, 5)
    health = seen[-1]["health"]
    assert health["cpu_temp_c"] == 51.0 and health["keypad_connected"] is True
    assert abs(health["clock_offset_s"]) <= 1.5
    unit.stop()
    assert poll(lambda: seen[-1]["state"] == "stopped", 5)
    assert "health" not in seen[-1]
