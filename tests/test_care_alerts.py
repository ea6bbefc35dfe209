"""Alert bodies, the cool-down, the digest, the strict care config and enrolment files."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from appliance.care.alerts import Cooldown, digest_text, notice_body
from appliance.care.bridge import site_bridge_config
from appliance.care.config import parse_care_config
from appliance.care.enrol import enrol
from appliance.care.fleet import Event, Fleet
from appliance.care.model import Notice, Thresholds
from appliance.clock import VN_TZ
from appliance.errors import ConfigError
from tests.care_helpers import site_file

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=VN_TZ)


def ev(kind: str = "alert", state: str = "lost", unit: str | None = "counter-1") -> Event:
    return Event("s1", unit, "counter" if unit else "site",
                 Notice(kind, state, ("last_will",) if kind == "alert" else (), T0))  # type: ignore[arg-type]


def test_body_has_the_contract_fields() -> None:
    body = notice_body(ev(), T0 + timedelta(seconds=3))
    assert {k: body[k] for k in ("site", "unit", "role", "state", "reason", "since")} == {
        "site": "s1", "unit": "counter-1", "role": "counter", "state": "lost",
        "reason": "last_will", "since": "2026-12-01T08:00:00+07:00"}
    assert "Mất kết nối" in body["message"]
    site = notice_body(ev(unit=None), T0)
    assert site["unit"] is None and site["role"] == "site"


def test_cooldown() -> None:
    cd = Cooldown(600)
    assert cd.allow(ev(), T0)
    assert cd.allow(ev("recovery", "ready"), T0 + timedelta(seconds=10))
    assert not cd.allow(ev(), T0 + timedelta(seconds=20))  # flapping: held back
    assert not cd.allow(ev("recovery", "ready"), T0 + timedelta(seconds=30))  # nothing open
    assert cd.allow(ev(state="stopped"), T0 + timedelta(seconds=40))  # another state
    assert cd.allow(ev(), T0 + timedelta(seconds=601))
    # within the cool-down a new reason still gets through, the same one with new numbers not
    paper = Event("s1", "d", "dispenser", Notice("alert", "alert", ("paper_out",), T0))
    disk = Event("s1", "d", "dispenser", Notice("alert", "alert", ("disk_low: 9 MB",), T0))
    disk2 = Event("s1", "d", "dispenser", Notice("alert", "alert", ("disk_low: 8 MB",), T0))
    assert cd.allow(paper, T0) and cd.allow(disk, T0 + timedelta(seconds=5))
    assert not cd.allow(disk2, T0 + timedelta(seconds=9))


def test_a_failed_update_is_told_once() -> None:
    fleet = Fleet({"s1": "Một"}, Thresholds())
    report = {"v": 1, "version": "0.3.0", "state": "update_failed",
              "reason": "the role exited with code 3 at start"}
    fleet.update("s1", "counter-1", report, T0)
    fleet.update("s1", "counter-1", dict(report), T0)  # resent (retained): not again
    events = [e for e in fleet.evaluate(T0) if e.unit == "counter-1"]
    assert len(events) == 1 and events[0].notice.reasons[0].startswith("update_failed: 0.3.0")
    assert not [e for e in fleet.evaluate(T0) if e.unit == "counter-1"]


def test_digest_lists_what_needs_care() -> None:
    fleet = Fleet({"s1": "Một", "s2": "Hai"}, Thresholds())
    fleet.status("s1", "counter-1", {"v": 1, "state": "alert", "role": "counter",
                                     "reasons": ["keypad_missing"]}, T0)
    fleet.evaluate(T0)
    text = digest_text(fleet.sites(), [{"kind": "alert", "sent": False, "at": "x",
                                        "message": "m"}], T0)
    assert "s1/counter-1 (counter): Cảnh báo — keypad_missing" in text
    assert "sites lost: s2" in text and "held by cool-down: 1" in text


def _config(tmp_path: Path, **extra: object) -> dict[str, object]:
    return {"province": "Tỉnh", "data_dir": str(tmp_path / "care"),
            "broker": {"url": "mqtt://127.0.0.1:1", "username": "care", "password": "pw"},
            "web": {"session_secret": "s" * 20}, "sites": {"s1": {}}, **extra}


def test_config_is_strict(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_care_config(_config(tmp_path, alerts={"webhok": {}},
                                  accounts=[{"username": "v", "role": "site_viewer",
                                             "password_hash": "$2b$04$abc"}]))
    text = "\n".join(err.value.problems)
    assert "alerts.webhok: unknown key" in text
    assert "a site_viewer needs the sites" in text


def test_enrol_writes_a_card_the_site_can_use(tmp_path: Path) -> None:
    config = parse_care_config(_config(tmp_path))
    hub = site_file(tmp_path / "site", "s1", {"counter-1": "counter"})
    done = enrol(config, "s1", tmp_path / "card", card_dir=Path("/etc/motcua/care"),
                 site_file=hub)
    card = tmp_path / "card"
    cert = x509.load_pem_x509_certificate((card / "site.crt").read_bytes())
    assert cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value == "s1"
    assert (card / "site.key").stat().st_mode & 0o077 == 0
    ok = subprocess.run(["openssl", "verify", "-CAfile", str(card / "ca.crt"),
                         str(card / "site.crt")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    conf = (card / "bridge.conf").read_text()
    assert "remote_username s1" in conf and f"remote_password {done.password}" in conf
    assert "topic motcua/v1/s1/unit/+/status out 1" in conf
    assert "bridge_certfile /etc/motcua/care/site.crt" in conf
    assert "s1:" in (tmp_path / "care" / "broker" / "passwords").read_text()
    # what motcua-backup.service reads on the hub's card
    assert (card / "site.password").read_text().strip() == done.password
    assert (card / "site.password").stat().st_mode & 0o077 == 0
    assert "MOTCUA_SITE=s1\n" in (card / "backup.env").read_text()
    assert not done.reloaded  # no care broker runs here: it reads the file when it starts
    # the wrong site's file, or a site the province does not know, is refused
    with pytest.raises(ConfigError, match="for site 's1', not 's2'"):
        enrol(config, "s2", tmp_path / "c2", site_file=hub)
    with pytest.raises(ConfigError, match="not in the care config"):
        enrol(config, "s9", tmp_path / "c9")


def test_bridge_carries_live_state_only() -> None:
    conf = site_bridge_config("s1", host="care.tinh.vn", port=8883, password="p",
                              card_dir=Path("/c"))
    topics = [line for line in conf.splitlines() if line.startswith("topic ")]
    assert all("/req/" not in t and "queue" not in t for t in topics)
    assert any(" in " in t and "/care/" in t for t in topics)


def test_one_digest_a_day_even_across_restarts(tmp_path: Path) -> None:
    from appliance.care.alerts import Dispatcher
    from appliance.care.config import AlertSection

    day_file = tmp_path / "digest-day"
    first = Dispatcher(AlertSection(), digest_file=day_file)
    assert not first.maybe_digest([], T0.replace(hour=6, minute=59))  # before digest_at
    assert first.maybe_digest([], T0.replace(hour=7, minute=1))
    assert not first.maybe_digest([], T0.replace(hour=9))
    again = Dispatcher(AlertSection(), digest_file=day_file)  # the care server restarted
    assert not again.maybe_digest([], T0.replace(hour=10))
    assert again.maybe_digest([], T0.replace(hour=7, minute=5) + timedelta(days=1))


def test_a_planned_restart_is_no_death_until_its_deadline() -> None:
    fleet = Fleet({"s1": "Một"}, Thresholds())
    fleet.heard_from("s1", T0)
    fleet.status("s1", "counter-1", {"v": 1, "state": "ready", "role": "counter"}, T0)
    assert not [e for e in fleet.evaluate(T0) if e.unit]
    fleet.update("s1", "counter-1", {"v": 1, "version": "0.2.0", "state": "switching",
                                     "deadline_s": 60}, T0)
    fleet.status("s1", "counter-1", {"v": 1, "state": "stopped", "role": "counter"}, T0)
    later = T0 + timedelta(seconds=80)
    fleet.heard_from("s1", later)
    assert not [e for e in fleet.evaluate(later) if e.unit]
    too_late = T0 + timedelta(seconds=91)
    fleet.heard_from("s1", too_late)
    told = [e for e in fleet.evaluate(too_late) if e.unit]
    assert [e.notice.state for e in told] == ["stopped"]


def test_history_prune_keeps_each_units_last_state(tmp_path: Path) -> None:
    from appliance.care.history import History

    h = History(tmp_path / "care.sqlite3")
    h.change("s1", "u", "ready", (), T0)
    h.change("s1", "u", "lost", ("last_will",), T0 + timedelta(days=1))
    h.change("s1", "v", "ready", (), T0)
    h.prune(T0 + timedelta(days=40))
    assert [s for _, s, _ in h.changes("s1", "u", T0 - timedelta(days=1))] == ["lost"]
    assert [s for _, s, _ in h.changes("s1", "v", T0 - timedelta(days=1))] == ["ready"]
    h.close()
