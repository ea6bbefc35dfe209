"""The care server survives itself: `motcua care` killed with -9 and started again tells
nobody twice of what it had told, and tells of what changed while it was down; a site
enrolled while the care broker runs bridges at once (no broker restart)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import tomli_w
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from appliance.broker import free_port
from appliance.care.alerts import Dispatcher
from appliance.care.broker import CareMosquitto
from appliance.care.config import (
    AlertSection,
    EmailSection,
    WebhookSection,
    parse_care_config,
)
from appliance.care.enrol import ensure_broker
from appliance.care.fleet import Fleet
from appliance.care.history import History
from appliance.care.model import Thresholds
from appliance.childproc import tied_to_parent
from appliance.clock import VN_TZ, SystemClock
from tests.care_helpers import ROOT, MailSink, SimSite, WebhookSink
from tests.test_care_live import ALERT_S, UNITS, care_data
from tests.waiting import poll

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=VN_TZ)


def _care(conf: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(tied_to_parent([sys.executable, "-m", "appliance.cli", "care",
                                            "--config", str(conf)]),
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _scrape(url: str) -> list[Metric]:
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
            return list(text_string_to_metric_families(resp.read().decode()))
    except OSError:
        return []


def _pending(url: str) -> float | None:
    """Notices the care server decided on and has not yet marked done on every channel."""
    for family in _scrape(url):
        if family.name == "motcua_care_notices_pending":
            return float(family.samples[0].value)
    return None


def _states(url: str) -> dict[str, str]:
    """unit -> state, as /metrics tells Prometheus."""
    out = {}
    for family in _scrape(url):
        if family.name == "motcua_unit_state":
            for sample in family.samples:
                if sample.value == 1:
                    out[sample.labels["unit"]] = sample.labels["state"]
    return out


@pytest.mark.timeout(360)  # real brokers, hubs and unit processes: slow on a loaded box
def test_kill_9_and_restart_of_motcua_care(tmp_path: Path) -> None:
    hook, mail = WebhookSink(), MailSink()
    web = free_port()
    data = care_data(tmp_path, hook=hook.url, smtp_port=mail.port, web_port=web)
    data["sites"] = {"s1": {"name": "Phường Một"}}
    data["thresholds"]["never_seen_after_s"] = 3
    conf = tmp_path / "care.toml"
    conf.write_text(tomli_w.dumps(data))
    config = parse_care_config(data)
    broker = CareMosquitto(ensure_broker(config), workdir=tmp_path / "care-mosquitto",
                           port=config.broker.port, tls_port=config.care_broker.public_port)
    broker.start()
    # enrolled while the care broker runs: it reads its passwords again, nobody restarts it
    site = SimSite(config, "s1", UNITS, tmp_path / "s1", broker.tls_port, SystemClock(VN_TZ))
    assert site.enrolment.reloaded
    url = f"http://127.0.0.1:{web}"
    care = _care(conf)

    def calls(unit: str, kind: str = "alert") -> list[dict]:
        return [c for c in hook.calls if c["unit"] == unit and c["kind"] == kind]

    try:
        site.start()
        everyone = {"hub", *UNITS}
        assert poll(lambda: all(_states(url).get(u) == "ready" for u in everyone), 60), \
            _states(url)
        site.units["counter-1"].kill()
        site.units["board-1"].stop()
        assert poll(lambda: bool(calls("counter-1") and calls("board-1")), ALERT_S), hook.calls
        assert poll(lambda: len(mail.mails) >= 3, 30)  # the two alerts and the digest
        # and the server wrote down that they went: a kill between a receiver's yes and that
        # mark is the in-flight case, sent again with the same key (the tests below)
        assert poll(lambda: _pending(url) == 0, 30), _pending(url)
        care.kill()  # kill -9: nothing flushed, nothing said
        care.wait()

        # while the care server is down: one unit comes back, another dies
        site.units["counter-1"].start()
        site.units["dispenser-1"].kill()
        time.sleep(3)  # the new states reach the care broker (retained there)
        care = _care(conf)
        assert poll(lambda: bool(calls("counter-1", "recovery") and calls("dispenser-1")),
                    ALERT_S), hook.calls
        assert poll(lambda: _states(url).get("board-1") == "stopped", 30), _states(url)
        time.sleep(5)  # past the never-seen hold and the site's grace: nothing more comes
    finally:
        care.terminate()
        care.wait(15)
        site.stop()
        broker.stop()
        hook.close()
        mail.close()
    got = sorted((c["kind"], c["unit"], c["state"]) for c in hook.calls)
    assert got == sorted([("alert", "counter-1", "lost"), ("alert", "board-1", "stopped"),
                          ("recovery", "counter-1", "ready"),
                          ("alert", "dispenser-1", "lost")]), got
    assert calls("dispenser-1")[0]["reason"] == "last_will"
    notices = [s for s, _ in mail.mails if not s.startswith("[motcua] Tổng hợp")]
    assert len(notices) == 4, notices
    assert len([s for s, _ in mail.mails if s.startswith("[motcua] Tổng hợp")]) == 1


def test_what_was_told_survives_a_restart(tmp_path: Path) -> None:
    th = Thresholds()
    history = History(tmp_path / "care.sqlite3")
    fleet = Fleet({"s1": "Một"}, th, history)
    for unit in ("a", "b"):
        fleet.status("s1", unit, {"v": 1, "state": "ready", "role": "counter"}, T0)
    fleet.evaluate(T0)
    fleet.status("s1", "a", {"v": 1, "state": "lost", "role": "counter"}, T0)
    fleet.status("s1", "b", {"v": 1, "state": "lost", "role": "counter"}, T0)
    events = fleet.evaluate(T0)
    assert sorted(e.unit or "" for e in events) == ["a", "b"]
    history.record([], fleet.take_told(), T0)
    history.close()

    # the server restarts: a is still lost, b came back meanwhile, c died meanwhile
    later = T0 + timedelta(minutes=5)
    history = History(tmp_path / "care.sqlite3")
    again = Fleet({"s1": "Một"}, th, history)
    again.restore(history.told(), later)
    assert not again.evaluate(later)  # nothing heard yet: the site's retained state comes
    again.status("s1", "a", {"v": 1, "state": "lost", "role": "counter"}, later)
    again.status("s1", "b", {"v": 1, "state": "ready", "role": "counter"}, later)
    again.status("s1", "c", {"v": 1, "state": "lost", "role": "counter"}, later)
    told = sorted((e.unit or "", e.notice.kind) for e in again.evaluate(later))
    assert told == [("b", "recovery"), ("c", "alert")]
    history.close()


def test_a_notice_decided_but_not_sent_goes_out_after_a_restart(tmp_path: Path) -> None:
    hook = WebhookSink()
    history = History(tmp_path / "care.sqlite3")
    cfg = AlertSection(webhook=WebhookSection(url=hook.url))
    fleet = Fleet({"s1": "Một"}, Thresholds(), history)
    fleet.heard_from("s1", T0)
    fleet.status("s1", "a", {"v": 1, "state": "lost", "role": "counter"}, T0)
    dying = Dispatcher(cfg, history)  # its sender never ran: killed right after deciding
    dying.submit(fleet.evaluate(T0), T0, fleet.take_told())
    assert not hook.calls
    history.close()
    history = History(tmp_path / "care.sqlite3")
    back = Dispatcher(cfg, history)
    back.start(T0 + timedelta(seconds=30))
    try:
        assert poll(lambda: len(hook.calls) == 1, 10)
        assert hook.calls[0]["unit"] == "a" and hook.calls[0]["state"] == "lost"
    finally:
        back.stop()
    third = Dispatcher(cfg, history)  # and once only
    third.start(T0 + timedelta(seconds=60))
    third.stop()
    assert len(hook.calls) == 1
    history.close()
    hook.close()


class _Killed(BaseException):
    """kill -9: nothing after it runs (no handler catches it)."""


class _KilledAtTheMark(History):
    """The record of a care server killed -9 the instant ``channel``'s receiver said yes,
    before the mark was written: that mark and everything after it never happen."""

    def __init__(self, path: Path, channel: str) -> None:
        super().__init__(path)
        self.channel = channel

    def delivered(self, notice_id: int, channel: str) -> None:
        if channel == self.channel:
            raise _Killed
        super().delivered(notice_id, channel)


def _restart_until_sent(path: Path, cfg: AlertSection, now: datetime) -> None:
    history = History(path)
    back = Dispatcher(cfg, history)
    back.start(now)
    try:
        assert poll(lambda: back.pending == 0, 10)
    finally:
        back.stop()
        history.close()


@pytest.mark.parametrize("channel", ["webhook", "email"])
def test_a_kill_between_a_receivers_yes_and_its_mark(tmp_path: Path, channel: str) -> None:
    """The one window no sender can close (the receiver has the notice, the record does not
    say so yet): after the restart only the channel that was not marked gets it again, and
    with the same key (Idempotency-Key, Message-ID), so a receiver sees it is the same
    notice. A channel marked done is never sent again."""
    hook, mail = WebhookSink(), MailSink()
    cfg = AlertSection(webhook=WebhookSection(url=hook.url),
                       email=EmailSection(host="127.0.0.1", port=mail.port,
                                          sender="care@tinh.example", to=["it@tinh.example"]))
    fleet = Fleet({"s1": "Một"}, Thresholds())
    fleet.heard_from("s1", T0)
    fleet.status("s1", "a", {"v": 1, "state": "lost", "role": "counter"}, T0)
    dying = _KilledAtTheMark(tmp_path / "care.sqlite3", channel)
    first = Dispatcher(cfg, dying)
    first.submit(fleet.evaluate(T0), T0, fleet.take_told())
    with pytest.raises(_Killed):
        first._work()  # the sender's loop, here in the test's thread so the kill ends it
    dying.close()
    before = (len(hook.calls), len(mail.mails))
    assert before == ((1, 0) if channel == "webhook" else (1, 1))

    for restart in (30, 60):  # the second restart finds it all done: nothing goes
        _restart_until_sent(tmp_path / "care.sqlite3", cfg, T0 + timedelta(seconds=restart))
        assert (len(hook.calls), len(mail.mails)) == ((2, 1) if channel == "webhook"
                                                      else (1, 2))
    key = hook.calls[0]["id"]
    assert [c["id"] for c in hook.calls] == [key] * len(hook.calls)
    assert hook.keys == [key] * len(hook.calls)
    assert mail.ids == [f"<{key}@tinh.example>"] * len(mail.mails)
    hook.close()
    mail.close()


def test_the_retained_will_after_a_restart_is_no_news(tmp_path: Path) -> None:
    """What the care broker hands a restarted care server, in the order it may come: the
    will of a unit people were told is lost (before and after the site is heard), then its
    new status. Nothing twice; the recovery once."""
    later = T0 + timedelta(minutes=3)
    fleet = Fleet({"s1": "Một"}, Thresholds())
    fleet.restore([("s1", "c", "lost", frozenset({"last_will"}), T0)], later)
    lost = {"v": 1, "state": "lost", "role": "counter"}
    fleet.status("s1", "c", lost, later)  # the site is not heard yet: covered by it
    assert not fleet.evaluate(later)
    fleet.heard_from("s1", later)
    assert not fleet.evaluate(later + timedelta(seconds=1))
    fleet.status("s1", "c", lost, later + timedelta(seconds=2))  # redelivered: the same
    assert not fleet.evaluate(later + timedelta(seconds=2))
    fleet.status("s1", "c", {"v": 1, "state": "ready", "role": "counter"},
                 later + timedelta(seconds=3))
    told = [(e.unit, e.notice.kind) for e in fleet.evaluate(later + timedelta(seconds=3))]
    assert told == [("c", "recovery")]
    assert not fleet.evaluate(later + timedelta(seconds=4))
    assert fleet.take_told() == [("s1", "c", None, later + timedelta(seconds=3))]
