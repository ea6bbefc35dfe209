"""The demo plug-in: a scripted visit to the kiosk leaves readable PNG frames."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

import pytest

from appliance.clock import VN_TZ, ManualClock
from appliance.demo import lookup_unit
from appliance.demo import office as office_mod
from appliance.demo.office import Office


def _last(folder: Path) -> str:
    return sorted(folder.glob("*.png"))[-1].name


def test_headless_visit_searches_and_looks_up_a_dossier(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    # no store plug-in: the lookup plug-in runs the demo store itself and adds a dossier
    monkeypatch.setattr(office_mod, "PLUGINS", ["lookup"])
    clock = ManualClock(datetime(2026, 11, 30, 8, 0, tzinfo=VN_TZ))
    office = Office(tmp_path / "out", clock, headless=True)
    caplog.set_level(logging.INFO, logger="demo.lookup")
    try:
        stop = lookup_unit.attach(office)
        clock.advance(120)  # nobody at the kiosk for two minutes: the dossier is wiped
        frames = tmp_path / "out" / "lookup-1"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not _last(frames).endswith("-home.png"):
            time.sleep(0.05)
        stop()
    finally:
        office.stop()
    names = [p.name for p in sorted(frames.glob("*.png"))]
    screens = [n.split("-", 1)[1].removesuffix(".png") for n in names]
    for screen in ("home", "procedures", "detail", "search", "dossier_entry", "dossier_wait"):
        assert screen in screens, (screens, caplog.text)
    assert screens.count("dossier_result") == 2, screens  # typed, then scanned
    assert screens[-1] == "home"  # wiped after the idle timeout
    text = caplog.text
    assert "kiosk search 'đăng ký khai sinh' shows ['Đăng ký khai sinh'" in text
    assert "kiosk typed lookup of" in text and ": dossier_result" in text


def test_live_kiosk_runs_in_its_own_process_and_takes_a_serial_scan(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from appliance.bus import Bus
    from appliance.config.base import BrokerConfig
    from appliance.contract import decode

    monkeypatch.setattr(office_mod, "PLUGINS", ["lookup"])
    monkeypatch.setattr(lookup_unit, "SCAN_AFTER_S", 3.0)
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")  # the child's "window"
    clock = ManualClock(datetime(2026, 11, 30, 8, 0, tzinfo=VN_TZ))
    office = Office(tmp_path / "out", clock, headless=False)
    watch = Bus(site="demo", unit="watch", role="board",
                broker=BrokerConfig(url=office.broker_url), status_interval_s=3600)
    asked: list[dict] = []
    watch.subscribe(watch.topics.req("lookup-1", "store"),
                    lambda m: asked.append(decode(m.payload)))
    watch.start()
    try:
        assert watch.wait_connected(10)
        stop = lookup_unit.attach(office)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
                a.get("op") == "dossier.lookup" for a in asked):
            time.sleep(0.1)
        stop()
    finally:
        watch.stop()
        office.stop()
    lookups = [a for a in asked if a.get("op") == "dossier.lookup"]
    assert lookups, asked
    # what went on the wire is the parsed code and secret, never the raw scan text
    assert set(lookups[0]) >= {"code", "secret"} and "/" not in lookups[0]["secret"]
    assert any(a.get("op") == "procedure.catalogue" for a in asked)
