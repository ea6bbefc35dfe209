"""Dispenser config errors, the outbox's durability rules, and unanswered issue requests."""

from __future__ import annotations

import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.bus import Message
from appliance.config import load_unit_config, parse_unit_config
from appliance.contract import decode, error_reply, ok_reply
from appliance.dispenser.bootstrap import build_dispenser
from appliance.dispenser.outbox import BandExhausted, Outbox
from appliance.errors import ConfigError


def _parse(section: dict, tmp_path: Path):
    return parse_unit_config({"site": "demo", "unit": "dispenser-1", "role": "dispenser",
                              "dispenser": section}, source=tmp_path / "dispenser-1.toml")


def test_example_config_loads(demo_site):
    config = load_unit_config(demo_site / "dispenser-1.toml")
    assert config.dispenser is not None
    assert config.dispenser.hub_timeout_s == 1.5
    assert config.dispenser.printer.width_dots == 576
    assert {b.service for b in config.dispenser.buttons} == {"A", "B", "C", "D"}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"buttons": [{"pin": 17, "service": "A"}], "priority_pin": 17}, "pin 17 is used by"),
        ({"buttons": [{"pin": 17, "service": "A"}, {"pin": 18, "service": "A"}]},
         "same kind of ticket"),
        ({"leds": {"ready": 5, "fault": 5}}, "pin 5"),
        ({"buttons": [{"pin": 99, "service": "A"}]},
         "dispenser.buttons[0].pin: Input should be less than or equal to 53"),
        ({"hub_timeout": 1.5}, "dispenser.hub_timeout: unknown key"),
        ({"printer": {"connector": {"type": "parallel"}}}, "dispenser.printer.connector"),
        ({"printer": {"connector": {"type": "serial"}}}, "device: required key is missing"),
        ({"printer": {"paper_mm": 70}}, "dispenser.printer.paper_mm"),
        ({"printer": {"connector": {"type": "file", "path": "/dev/usb/lp0"}}},
         "paper_sensor = true needs a connector that can read"),
        ({"busy_policy": "twice"}, "dispenser.busy_policy"),
        ({"ticket": {"lines": ["number", "logo"]}}, "dispenser.ticket.lines[1]: Input should be"),
    ],
)
def test_bad_config_names_the_key(tmp_path, section, message):
    with pytest.raises(ConfigError) as err:
        _parse(section, tmp_path)
    assert message in str(err.value), str(err.value)


def test_unknown_printer_profile_is_a_config_error(tmp_path):
    config = _parse({"printer": {"profile": "TM-NOPE"}}, tmp_path)
    with pytest.raises(ConfigError, match=r"dispenser\.printer\.profile: unknown profile"):
        build_dispenser(config, pin_factory=MockFactory())


def test_outbox_band_order_and_restart(tmp_path):
    path = tmp_path / "d.sqlite"
    box = Outbox(path)
    kw: dict[str, Any] = dict(day="2026-11-30", service="A", letter="A", digits=3, first=998,
                              last=999, priority=False, issued_at="2026-11-30T09:00:00.000+07:00")
    a = box.allocate_offline(**kw)
    box.set_offline_state(a.seq, "printed")
    b = box.allocate_offline(**kw)  # left "allocated": as after a power cut mid-print
    with pytest.raises(BandExhausted):
        box.allocate_offline(**kw)
    assert box.allocate_offline(**{**kw, "day": "2026-12-01"}).number == "A998"
    box.close()
    again = Outbox(path)
    assert [t.number for t in again.pending_imports()] == ["A998", "A999", "A998"]
    assert (a.number, b.number) == ("A998", "A999")
    assert again._rows("PRAGMA journal_mode")[0][0] == "wal"
    assert again._rows("PRAGMA synchronous")[0][0] == 2  # FULL
    again.close()


def test_unanswered_issue_is_settled_and_voided_when_the_hub_answers(
        broker, make_bus, demo_site, tmp_path):
    """A tiny stand-in hub that stays silent, then answers: the lost number is voided."""
    hub = make_bus("hub", role="hub")
    seen: list[dict] = []
    silent = threading.Event()
    silent.set()
    issued: dict[str, str] = {}

    def answer(msg: Message) -> None:
        req = decode(msg.payload)
        seen.append(req)
        if silent.is_set():
            return
        if req["op"] == "ticket.issue":
            number = issued.setdefault(req["id"], f"A{5 + len(issued):03d}")  # A005 first
            hub.reply(msg, ok_reply(req["id"], ticket={
                "number": number, "service": "A", "service_name": "Chứng thực",
                "priority": False, "issued_at": "2026-11-30T08:00:00+07:00", "ahead": 0,
                "est_wait_s": None, "counters": ["1"]}))
        elif req["op"] in ("ticket.void", "ticket.import"):
            hub.reply(msg, ok_reply(req["id"], ticket={"number": req["number"]}))
        else:
            hub.reply(msg, error_reply(req["id"], "unknown_op"))

    hub.subscribe(hub.topics.req_filter("hub"), answer)
    hub.publish(hub.topics.site_info, {
        "v": 1, "office_name": "UBND phường Mẫu", "lookup_url": None,
        "services": [{"id": "A", "name": "Chứng thực", "letter": "A", "digits": 3}],
        "counters": [{"id": "1", "name": "Quầy 1", "services": ["A"]}],
        "priority": {"label": "Ưu tiên"},
        "offline_bands": {"dispenser-1": {"A": [800, 999]}}}, retain=True)

    path = demo_site / "dispenser-1.toml"
    data = tomllib.loads(path.read_text())
    data["dispenser"]["hub_timeout_s"] = 0.3
    data["dispenser"]["sync_interval_s"] = 600  # the test drives the sync rounds
    config = parse_unit_config(data, source=path, broker_url=broker.url)
    app = build_dispenser(config, pin_factory=MockFactory())
    app.start()
    try:
        deadline = time.monotonic() + 5
        while app.dispenser.site is None and time.monotonic() < deadline:
            time.sleep(0.02)
        out = app.dispenser.press("A")
        assert out.ok and out.offline and out.number == "A800"
        first_id = seen[0]["id"]
        assert app.outbox.orphans() == [(first_id, "A", False)]
        silent.clear()
        app.syncer.run_once()
        reissue = [r for r in seen[1:] if r["op"] == "ticket.issue"]
        # (the sync thread may have tried too while the stand-in was silent: same id again)
        assert reissue and {r["id"] for r in reissue} == {first_id}, "same id: acts once"
        voids = [r for r in seen if r["op"] == "ticket.void"]
        assert [(v["number"], v["reason"]) for v in voids] == [("A005", "not_printed")]
        imports = [r for r in seen if r["op"] == "ticket.import"]
        assert {(i["number"], i["id"]) for i in imports} == {
            ("A800", f"dispenser-1-offline-{out_day(app)}-A800")}
        assert app.outbox.orphans() == [] and app.outbox.backlog() == 0
        before = len(seen)
        app.syncer.run_once()
        assert len(seen) == before, "nothing left to send"
    finally:
        app.stop()


def out_day(app) -> str:
    return app.outbox.offline_tickets()[0].day


SITE_BODY = {
    "v": 1, "office_name": "UBND phường Mẫu", "lookup_url": None,
    "services": [{"id": "A", "name": "Chứng thực", "letter": "A", "digits": 3}],
    "counters": [{"id": "1", "name": "Quầy 1", "services": ["A"]}],
    "priority": {"label": "Ưu tiên"},
    "offline_bands": {"dispenser-1": {"A": [800, 999]}},
}


@pytest.mark.parametrize(("start", "expect"), [
    ("2026-11-30T08:00:00+07:00", "A800"),
    ("1970-01-01T07:00:05+07:00", None),  # a Pi that booted without network or RTC
])
def test_no_broker_at_all_prints_from_the_band_unless_the_clock_is_unset(
        demo_site, start, expect):
    from appliance.broker import free_port
    from appliance.clock import ManualClock, parse_rfc3339

    nobody = f"mqtt://127.0.0.1:{free_port()}"  # no broker listens there
    config = load_unit_config(demo_site / "dispenser-1.toml", broker_url=nobody)
    box = Outbox(config.data_path / "dispenser.sqlite")
    box.put("site_info", SITE_BODY)
    box.close()
    app = build_dispenser(config, clock=ManualClock(parse_rfc3339(start)),
                          pin_factory=MockFactory())
    app.start()
    try:
        out = app.dispenser.press("A")
        assert app.fake_printer is not None
        if expect:
            assert out.ok and out.offline and out.number == expect
            assert app.fake_printer.cuts == 1
        else:
            assert not out.ok and out.error == "clock_not_set"
            assert app.fake_printer.cuts == 0 and app.outbox.offline_tickets() == []
            assert "clock_not_set" in app.dispenser.health.reasons()
        assert "hub_offline" in app.dispenser.health.reasons()
    finally:
        app.stop()


def test_garbage_on_the_wire_changes_nothing(broker, make_bus, demo_site):
    hub = make_bus("hub", role="hub")
    hub.publish(hub.topics.site_info, SITE_BODY, retain=True)

    voids: list[tuple[str, str]] = []

    def answer(msg: Message) -> None:
        req = decode(msg.payload)
        if req["op"] == "ticket.void":
            voids.append((req["number"], req["reason"]))
            hub.reply(msg, ok_reply(req["id"]))
            return
        # a broken hub: "ok" without the ticket, or a ticket without a time
        ticket = None if req["service"] == "A" else {"number": "B001", "service": "B"}
        hub.reply(msg, ok_reply(req["id"], ticket=ticket))

    hub.subscribe(hub.topics.req_filter("hub"), answer)
    config = load_unit_config(demo_site / "dispenser-1.toml", broker_url=broker.url)
    app = build_dispenser(config, pin_factory=MockFactory())
    app.start()
    try:
        deadline = time.monotonic() + 5
        while app.dispenser.site is None and time.monotonic() < deadline:
            time.sleep(0.02)
        good = app.dispenser.site
        assert good is not None and good.office_name == "UBND phường Mẫu"
        hub._client.publish(hub.topics.site_info, b"\xff not json", qos=1, retain=True)
        hub.publish(hub.topics.site_info, {"v": 1, "services": "A"}, retain=True)
        hub._client.publish(hub.topics.status("hub"), b"{", qos=1, retain=True)
        time.sleep(0.3)
        assert app.dispenser.site is good  # kept the last good one, did not crash
        assert app.outbox.get("site_info") == SITE_BODY
        out = app.dispenser.press("A")
        assert out.kind == "failed" and out.error == "bad_reply" and not out.offline
        out = app.dispenser.press("B")
        assert out.kind == "failed" and out.error == "bad_reply" and out.number == "B001"
        assert app.fake_printer is not None and app.fake_printer.cuts == 0
        app.syncer.run_once()
        assert voids == [("B001", "bad_reply")]  # a number nobody holds is given back
    finally:
        app.stop()
