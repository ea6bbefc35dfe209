"""Pure parts of the counter: key decoding, number completion, the rating window, status."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from evdev import ecodes
from pydantic import ValidationError

from appliance.clock import VN_TZ
from appliance.config.counter import CounterSection
from appliance.counter.logic import LocalError, full_number, rating_target, status_state
from appliance.errors import ConfigError
from drivers.keypad import DEFAULT_KEYS, KeypadDecoder, KeyResult, resolve_keymap

E = ecodes.ecodes


def _decoder() -> KeypadDecoder:
    return KeypadDecoder(resolve_keymap(DEFAULT_KEYS), entry_timeout_s=10)


def _press(dec: KeypadDecoder, *names: str, at: float = 0.0) -> list[KeyResult]:
    out: list[KeyResult] = []
    for name in names:
        out += dec.press(E[name], at)
    return [r for r in out if r.action != "entry"]


@pytest.mark.parametrize(("keys", "expected"), [
    (["KEY_KPPLUS"], [KeyResult("next")]),
    (["KEY_KPASTERISK"], [KeyResult("recall")]),
    (["KEY_KPMINUS"], [KeyResult("no_show")]),
    (["KEY_KPSLASH"], [KeyResult("finish")]),
    (["KEY_F3"], [KeyResult("park")]),
    (["KEY_F4"], [KeyResult("resume")]),
    (["KEY_KP1", "KEY_KP2", "KEY_F4"], [KeyResult("resume", number="12")]),
    (["KEY_B", "KEY_KP0", "KEY_KP7", "KEY_KPENTER"], [KeyResult("call", number="B07")]),
    (["KEY_KP4", "KEY_KP2", "KEY_ENTER"], [KeyResult("call", number="42")]),
    (["KEY_KPDOT", "KEY_C"], [KeyResult("transfer", service="C")]),
    (["KEY_KPDOT", "KEY_KP1", "KEY_C"], [KeyResult("transfer", service="C")]),
    (["KEY_NUMLOCK", "KEY_KP0", "KEY_KP4", "KEY_KPENTER"], [KeyResult("login", officer="04")]),
    (["KEY_NUMLOCK", "KEY_KPENTER"], [KeyResult("login")]),
    (["KEY_NUMLOCK", "KEY_C", "KEY_B", "KEY_KP1", "KEY_KPENTER"],
     [KeyResult("login", officer="CB1")]),
    (["KEY_KP1", "KEY_BACKSPACE", "KEY_KPENTER"], [KeyResult("error", reason="nothing_typed")]),
    (["KEY_KP1", "KEY_KPPLUS"], [KeyResult("next")]),  # an action drops a half entry
    (["KEY_F1"], [KeyResult("open")]),
    (["KEY_F2"], [KeyResult("close")]),
    (["KEY_KP1", "KEY_KP2", "KEY_KP3", "KEY_KP4", "KEY_KP5"],
     [KeyResult("error", reason="too_long", text="1234")]),
    (["KEY_VOLUMEUP"], []),  # not in the map: nothing
])
def test_key_sequences(keys: list[str], expected: list[KeyResult]) -> None:
    assert _press(_decoder(), *keys) == expected


def test_entries_echo_what_is_typed_and_stale_entries_expire() -> None:
    dec = _decoder()
    texts = [r.text for r in dec.press(E["KEY_A"], 0) + dec.press(E["KEY_KP1"], 1)]
    assert texts == ["A", "A1"]
    assert [r.text for r in dec.press(E["KEY_NUMLOCK"], 2) + dec.press(E["KEY_KP9"], 3)] == [
        "L", "L*"]  # an officer code is never shown
    dec2 = _decoder()
    dec2.press(E["KEY_KP7"], 0)
    # 30 s later the forgotten 7 must not prefix the new number
    assert _press(dec2, "KEY_KP5", "KEY_KPENTER", at=30) == [KeyResult("call", number="5")]


def test_unknown_key_names_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="KEY_NOPE"):
        resolve_keymap({"KEY_NOPE": "next"})


def test_counter_section_rejects_bad_keys_and_ratings() -> None:
    with pytest.raises(ValidationError, match="unknown key action"):
        CounterSection.model_validate(
            {"counter": "1", "keypad": {"by_id": "/x", "keys": {"KEY_A": "launch"}}})
    with pytest.raises(ValidationError, match="or vendor and product"):
        CounterSection.model_validate({"counter": "1", "keypad": {}})
    with pytest.raises(ValidationError, match="needs pins"):
        CounterSection.model_validate(
            {"counter": "1", "rating": {"source": "gpio", "pins": {"satisfied": 5}}})
    with pytest.raises(ValidationError, match="broadcast"):
        CounterSection.model_validate(
            {"counter": "1", "board": {"protocol": "modbus", "address": 0}})
    with pytest.raises(ValidationError, match="Extra inputs"):
        CounterSection.model_validate(
            {"counter": "1", "board": {"protocol": "ascii", "baudrate": 9600}})


SITE = {"services": [{"id": "A", "letter": "A", "digits": 3},
                     {"id": "B", "letter": "B", "digits": 3},
                     {"id": "C", "letter": "C", "digits": 4}],
        "counters": [{"id": "1", "services": ["A", "B"]}, {"id": "3", "services": ["C"]}]}


@pytest.mark.parametrize(("typed", "counter", "queue", "expected"), [
    ("A15", "1", None, "A015"),
    ("b7", "1", None, "B007"),
    ("7", "3", None, "C0007"),
    ("15", "1", {"services": {"A": {"waiting": ["A015"]}, "B": {"waiting": ["B016"]}}},
     "A015"),
    ("16", "1", {"services": {"A": {"waiting": []}, "B": {"waiting": ["B016"]}}}, "B016"),
])
def test_full_number(typed, counter, queue, expected) -> None:
    assert full_number(typed, counter=counter, site_info=SITE, queue_state=queue) == expected


@pytest.mark.parametrize(("typed", "site", "queue", "code"), [
    ("15", SITE, {"services": {"A": {"waiting": ["A015"]}, "B": {"waiting": ["B015"]}}},
     "ambiguous"),
    ("15", SITE, None, "ambiguous"),
    ("15", None, None, "ambiguous"),
    ("A-1", SITE, None, "not_found"),
])
def test_full_number_refuses(typed, site, queue, code) -> None:
    with pytest.raises(LocalError) as err:
        full_number(typed, counter="1", site_info=site, queue_state=queue)
    assert err.value.code == code


NOW = datetime(2026, 11, 30, 9, 0, tzinfo=VN_TZ)


@pytest.mark.parametrize(("last", "age_s", "expected"), [
    (None, 0, None),
    ({"number": "A001"}, 5, "A001"),
    ({"number": "A001"}, 119, "A001"),
    ({"number": "A001"}, 121, None),  # late
    ({"number": "A001"}, -5, None),  # a clock step back: not this one
])
def test_rating_target(last, age_s, expected) -> None:
    if last is not None:
        last = {**last, "at": (NOW - timedelta(seconds=age_s)).isoformat()}
    assert rating_target(last, NOW, 120) == expected


@pytest.mark.parametrize(("parts", "state", "reasons"), [
    ({}, "ready", []),
    ({"keypad": False}, "alert", ["keypad_missing"]),
    ({"board_ok": False}, "alert", ["board_fault"]),
    ({"board_ok": False, "board_answers": False}, "alert", ["board_port_error"]),
    ({"hub_reachable": False, "events_backlog": 2, "backlog": 2}, "alert",
     ["hub_unreachable", "offline_backlog"]),
    ({"backlog": 1}, "alert", ["ratings_pending"]),
    ({"rating_keys": False}, "alert", ["rating_keys_missing"]),
    ({"keypad": None, "rating_keys": None, "board_ok": None, "hub_reachable": None},
     "ready", []),
])
def test_status_state(parts, state, reasons) -> None:
    args = {"keypad": True, "board_ok": True, "board_answers": True, "hub_reachable": True,
            "events_backlog": 0, "backlog": 0, **parts}
    assert status_state(**args) == (state, reasons)


def test_a_counter_file_without_its_section_is_a_clear_error(tmp_path) -> None:
    from appliance.config import load_unit_config
    from appliance.counter.bootstrap import build_counter

    path = tmp_path / "counter-9.toml"
    path.write_text('site = "demo"\nrole = "counter"\n')
    with pytest.raises(ConfigError, match=r"needs a \[counter\] section"):
        build_counter(load_unit_config(path))
    path.write_text('site = "demo"\nrole = "counter"\n[counter]\ncounter = "1"\n'
                    '[counter.keypad]\nby_id = "/dev/input/by-id/x"\n'
                    '[counter.keypad.keys]\nKEY_NOPE = "next"\n')
    with pytest.raises(ConfigError, match="KEY_NOPE is not a key evdev knows"):
        build_counter(load_unit_config(path))
