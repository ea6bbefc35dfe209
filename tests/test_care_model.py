"""The fleet's health model: verdicts and alerts as pure functions of (state, now)."""

from __future__ import annotations

from datetime import datetime, timedelta

from appliance.care.model import (
    Heard,
    Thresholds,
    Verdict,
    assess_unit,
    availability,
    site_live,
    step,
)
from appliance.clock import VN_TZ

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=VN_TZ)
TH = Thresholds(unit_silence_s=65, site_silence_s=30)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def heard(state: str = "ready", s: float = 0, **extra) -> Heard:
    return Heard({"v": 1, "state": state, "reasons": extra.pop("reasons", []), **extra}, at(s))


def test_ready_alert_stopped_lost() -> None:
    assert assess_unit(heard(), site_live=True, now=at(10), th=TH) == Verdict("ready")
    v = assess_unit(heard("alert", reasons=["hub_offline"]), site_live=True, now=at(1), th=TH)
    assert v.state == "alert" and v.reasons == ("hub_offline",)
    assert assess_unit(heard("stopped"), site_live=True, now=at(1), th=TH).state == "stopped"
    assert assess_unit(heard("lost"), site_live=True, now=at(1), th=TH).reasons == ("last_will",)


def test_silence_is_lost_not_fine() -> None:
    assert assess_unit(heard(), site_live=True, now=at(65), th=TH).state == "ready"
    v = assess_unit(heard(), site_live=True, now=at(66), th=TH)
    assert v.state == "lost" and v.reasons[0].startswith("silent")


def test_never_seen_and_site_lost() -> None:
    assert assess_unit(None, site_live=True, now=at(0), th=TH).state == "never_seen"
    v = assess_unit(heard(), site_live=False, now=at(1), th=TH)
    assert v.state == "lost" and v.covered


def test_facts_raise_alerts_the_unit_did_not() -> None:
    facts = {"paper": "out", "disk_free_mb": 12, "under_voltage": True, "cpu_temp_c": 85.0,
             "clock_offset_s": -3600.0, "sd_write_errors": 2, "keypad_connected": False}
    v = assess_unit(heard(health=facts), site_live=True, now=at(1), th=TH)
    codes = [r.split(":")[0] for r in v.reasons]
    assert v.state == "alert"
    assert codes == ["paper_out", "keypad_disconnected", "disk_low", "sd_write_errors",
                     "cpu_hot", "under_voltage", "clock_off"]
    # a reason the unit already gave is not doubled
    v = assess_unit(heard("alert", reasons=["paper_out"], health={"paper": "out"}),
                    site_live=True, now=at(1), th=TH)
    assert v.reasons == ("paper_out",)


def test_site_live() -> None:
    assert site_live(at(0), True, at(30), TH)
    assert not site_live(at(0), True, at(31), TH)
    assert not site_live(at(0), False, at(1), TH)
    assert not site_live(None, None, at(1), TH)


def test_one_alert_then_one_recovery() -> None:
    tr, n = step(None, Verdict("ready"), at(0))
    assert n is None
    tr, n = step(tr, Verdict("lost", ("last_will",)), at(5))
    assert n is not None and n.kind == "alert" and n.state == "lost" and n.since == at(5)
    for s in (6, 7, 30):
        tr, n = step(tr, Verdict("lost", ("last_will",)), at(s))
        assert n is None
    tr, n = step(tr, Verdict("ready"), at(40))
    assert n is not None and n.kind == "recovery" and n.previous == "lost"
    tr, n = step(tr, Verdict("ready"), at(41))
    assert n is None


def test_new_reason_alerts_again_numbers_do_not() -> None:
    tr, _ = step(None, Verdict("alert", ("disk_low: 40 MB free",)), at(0))
    tr, n = step(tr, Verdict("alert", ("disk_low: 39 MB free",)), at(1))
    assert n is None
    tr, n = step(tr, Verdict("alert", ("disk_low: 39 MB free", "paper_out")), at(2))
    assert n is not None and "paper_out" in n.reasons
    tr, n = step(tr, Verdict("alert", ("paper_out",)), at(3))
    assert n is None
    tr, n = step(tr, Verdict("alert", ("paper_out", "disk_low: 5 MB")), at(4))
    assert n is not None  # it came back after going away: a new alert


def test_hold_gives_an_expected_unit_time() -> None:
    tr, n = step(None, Verdict("never_seen", ("never_seen",)), at(0), hold_s=30)
    assert n is None
    tr, n = step(tr, Verdict("never_seen", ("never_seen",)), at(29), hold_s=30)
    assert n is None
    tr, n = step(tr, Verdict("never_seen", ("never_seen",)), at(30), hold_s=30)
    assert n is not None and n.since == at(0)


def test_covered_units_stay_quiet_and_recover_quietly() -> None:
    tr, _ = step(None, Verdict("ready"), at(0))
    tr, n = step(tr, Verdict("lost", ("site_lost",), covered=True), at(1))
    assert n is None
    tr, n = step(tr, Verdict("ready"), at(9))
    assert n is None
    # but a unit alerted before its site went away is told recovered after
    tr, n = step(tr, Verdict("alert", ("paper_out",)), at(10))
    assert n is not None
    tr, n = step(tr, Verdict("lost", ("site_lost",), covered=True), at(11))
    assert n is None
    tr, n = step(tr, Verdict("ready"), at(12))
    assert n is not None and n.kind == "recovery"


def test_availability() -> None:
    day = (at(0), at(100))
    assert availability([], *day) is None
    assert availability([(at(-50), "ready")], *day) == 1.0
    assert availability([(at(0), "ready"), (at(75), "lost")], *day) == 0.75
    assert availability([(at(50), "alert"), (at(60), "stopped"), (at(80), "ready")],
                        *day) == 30 / 50


def test_lost_is_told_once_whatever_says_it_next() -> None:
    """A unit first found silent, then reported by its will, is one loss, not two."""
    from appliance.care.model import Verdict, step

    track, first = step(None, Verdict("lost", ("silent: 66 s",)), T0)
    assert first is not None and first.kind == "alert"
    track, again = step(track, Verdict("lost", ("last_will",)), T0 + timedelta(seconds=5))
    assert again is None and track.state == "lost"
