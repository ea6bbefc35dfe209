"""Two simulated sites bridged over TLS to a care broker and `motcua care`, all real
Mosquittos on loopback: every kind of death gives the right state, exactly one webhook call
and one e-mail, and a recovery message after. Thresholds are short so the suite stays
fast; the defaults (docs/care.md) keep every alert within 60 s."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

import bcrypt
import pytest

from appliance.broker import free_port
from appliance.care.bootstrap import CareServer, build_care
from appliance.care.broker import CareMosquitto
from appliance.care.config import CareConfig, parse_care_config
from appliance.care.enrol import ensure_broker
from appliance.care.fleet import SiteView
from appliance.clock import VN_TZ, SystemClock
from tests.care_helpers import MailSink, SimSite, WebhookSink
from tests.waiting import poll

ALERT_S = 60.0  # the promise: told within a minute


def care_config(tmp: Path, *, hook: str, smtp_port: int, web_port: int = 0,
                **extra: Any) -> CareConfig:
    return parse_care_config(care_data(tmp, hook=hook, smtp_port=smtp_port, web_port=web_port,
                                       **extra))


def care_data(tmp: Path, *, hook: str, smtp_port: int, web_port: int = 0,
              **extra: Any) -> dict[str, Any]:
    """The care.toml of the tests, as the data TOML would give."""
    pw = bcrypt.hashpw(b"matkhau-tinh", bcrypt.gensalt(rounds=4)).decode()
    vpw = bcrypt.hashpw(b"matkhau-xa", bcrypt.gensalt(rounds=4)).decode()
    data: dict[str, Any] = {
        "province": "Tỉnh Mẫu",
        "data_dir": str(tmp / "care"),
        "broker": {"url": f"mqtt://127.0.0.1:{free_port()}", "username": "care",
                   "password": "care-secret-123"},
        "care_broker": {"public_host": "127.0.0.1", "public_port": free_port(),
                        "keepalive_s": 5, "site_heartbeat_s": 1},
        "thresholds": {"unit_silence_s": 8, "site_silence_s": 4, "never_seen_after_s": 45},
        # the digest is due on the first tick at any hour the tests run (07:00 by default:
        # between 17:00 and 24:00 UTC it is not yet 07:00 in Việt Nam)
        "alerts": {"cooldown_s": 600, "digest_at": time(0, 0),
                   "webhook": {"url": hook, "timeout_s": 2},
                   "email": {"host": "127.0.0.1", "port": smtp_port,
                             "sender": "care@tinh.example", "to": ["it@tinh.example"]}},
        "web": {"host": "127.0.0.1", "port": web_port, "session_secret": "x" * 32},
        "accounts": [{"username": "tinh", "password_hash": pw, "role": "province_admin"},
                     {"username": "xa1", "password_hash": vpw, "role": "site_viewer",
                      "sites": ["s1"]}],
        "sites": {"s1": {"name": "Phường Một"}, "s2": {"name": "Xã Hai"}},
        "tick_s": 0.25,
        **extra,
    }
    return data


@dataclass
class World:
    care: CareServer
    hook: WebhookSink
    mail: MailSink
    s1: SimSite
    s2: SimSite

    def calls(self, site: str, unit: str | None, kind: str = "alert",
              state: str | None = None) -> list[dict[str, Any]]:
        return [c for c in self.hook.calls if c["site"] == site and c["unit"] == unit
                and c["kind"] == kind and (state is None or c["state"] == state)]

    def mails(self, site: str, unit: str | None, kind: str = "alert") -> list[str]:
        who = f"thiết bị {unit} " if unit else "toàn bộ điểm"
        word = "hoạt động trở lại" if kind == "recovery" else "—"
        return [s for s, _ in self.mail.mails if f"Điểm {site}:" in s and who in s
                and word in s]

    def told_once(self, site: str, unit: str | None, kind: str = "alert",
                  state: str | None = None) -> dict[str, Any]:
        assert poll(lambda: len(self.calls(site, unit, kind, state)) >= 1 and
                    len(self.mails(site, unit, kind)) >= 1, ALERT_S), \
            f"no {kind} for {site}/{unit}: {self.hook.calls}"
        return self.calls(site, unit, kind, state)[0]

    def site(self, site: str) -> SiteView:
        view = self.care.fleet.site(site)
        assert view is not None
        return view

    def unit_state(self, site: str, unit: str) -> str:
        view = self.site(site)
        return next((u.state for u in view.units if u.unit == unit), "absent")


UNITS = {"dispenser-1": "dispenser", "counter-1": "counter", "board-1": "board"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    hook, mail = WebhookSink(), MailSink()
    config = care_config(tmp_path, hook=hook.url, smtp_port=mail.port)
    files = ensure_broker(config)
    broker = CareMosquitto(files, workdir=tmp_path / "care-mosquitto",
                           port=config.broker.port, tls_port=config.care_broker.public_port)
    clock = SystemClock(VN_TZ)  # the units run on the real clock: so must their hub
    # enrolled before the care broker starts: it reads its password file at start
    s1 = SimSite(config, "s1", UNITS, tmp_path / "s1", broker.tls_port, clock)
    s2 = SimSite(config, "s2", UNITS, tmp_path / "s2", broker.tls_port, clock,
                 wired=("counter-1",))
    broker.start()
    care = build_care(config, web=False)
    try:
        care.start()
        s1.start()
        s2.start(skip=("board-1",))  # expected by the hub, never started
        yield World(care, hook, mail, s1, s2)
    finally:
        care.stop()
        s1.stop()
        s2.stop()
        broker.stop()
        hook.close()
        mail.close()


@pytest.mark.timeout(360)  # real brokers, hubs and unit processes: slow on a loaded box
def test_two_sites_every_death_told_once_and_recovery(world: World) -> None:
    w = world
    # everything that runs comes up ready on the province's side, over the TLS bridges
    everyone = [(s, u) for s in ("s1", "s2") for u in ("hub", "dispenser-1", "counter-1")]
    assert poll(lambda: all(w.unit_state(s, u) == "ready" for s, u in everyone), 60), \
        [(s, u, w.unit_state(s, u)) for s, u in everyone]
    health = next(u for u in w.site("s1").units if u.unit == "hub").facts
    assert health.disk_free_mb is not None and health.clock_offset_s == 0.0

    # never started, though the hub's site file expects it
    never = w.told_once("s2", "board-1", state="never_seen")
    assert never["role"] == "board" and w.unit_state("s2", "board-1") == "never_seen"

    # kill -9: the broker's last will
    w.s1.units["counter-1"].kill()
    call = w.told_once("s1", "counter-1", state="lost")
    assert call["reason"] == "last_will" and call["role"] == "counter"
    assert w.unit_state("s1", "counter-1") == "lost"
    w.s1.units["counter-1"].start()
    w.told_once("s1", "counter-1", "recovery")

    # a clean stop is still a unit gone
    w.s1.units["dispenser-1"].stop()
    w.told_once("s1", "dispenser-1", state="stopped")
    w.s1.units["dispenser-1"].start()
    w.told_once("s1", "dispenser-1", "recovery")

    # paper out, reported in the dispenser's health facts
    w.s1.units["dispenser-1"].set(paper="out")
    assert w.told_once("s1", "dispenser-1", state="alert")["reason"] == "paper_out"
    w.s1.units["dispenser-1"].set(paper="ok")
    assert poll(lambda: len(w.calls("s1", "dispenser-1", "recovery")) == 2, ALERT_S), \
        [(c["kind"], c["unit"], c["state"], c["reason"]) for c in w.hook.calls]

    # the data disk fills up
    w.s1.units["board-1"].set(disk_free_mb=12)
    call = w.told_once("s1", "board-1", state="alert")
    assert call["reason"].startswith("disk_low")
    w.s1.units["board-1"].set(disk_free_mb=5000)
    w.told_once("s1", "board-1", "recovery")

    # every other fact that predicts a death in the field: one alert, one recovery each
    faults = [("dispenser-1", "printer_connected", False, True, "printer_disconnected"),
              ("counter-1", "keypad_connected", False, True, "keypad_disconnected"),
              ("counter-1", "board_connected", False, True, "board_disconnected"),
              ("board-1", "cpu_temp_c", 86.0, 48.0, "cpu_hot"),
              ("board-1", "under_voltage", True, False, "under_voltage"),
              ("board-1", "throttled", True, False, "throttled"),
              ("board-1", "sd_write_errors", 2, 0, "sd_write_errors"),
              ("board-1", "clock_offset_s", 42.0, 0.0, "clock_off")]
    for unit, fact, bad, good, code in faults:
        alerts = len(w.calls("s1", unit, "alert", "alert"))
        recoveries = len(w.calls("s1", unit, "recovery"))
        w.s1.units[unit].set(**{fact: bad})

        def alerted(u: str = unit, n: int = alerts) -> bool:
            return len(w.calls("s1", u, "alert", "alert")) == n + 1

        assert poll(alerted, ALERT_S), (fact, w.hook.calls[-3:])
        assert w.calls("s1", unit, "alert", "alert")[-1]["reason"].startswith(code)
        w.s1.units[unit].set(**{fact: good})

        def recovered(u: str = unit, n: int = recoveries) -> bool:
            return len(w.calls("s1", u, "recovery")) == n + 1

        assert poll(recovered, ALERT_S), (fact, w.hook.calls[-3:])

    # a unit loses power: no clean goodbye, no socket closed, only silence; the site broker
    # gives up on it after 1.5 keepalives (5 s here, 15 s by default) and says its will
    w.s2.wires["counter-1"].cut()
    call = w.told_once("s2", "counter-1", state="lost")
    # its will, or its silence if that came first (both say lost; only one is told)
    assert call["reason"] == "last_will" or call["reason"].startswith("silent"), call
    w.s2.wires["counter-1"].restore()  # power back: the unit connects again
    w.told_once("s2", "counter-1", "recovery")

    # the site's uplink dies silently: one alert for the site, none for its units
    w.s2.link.cut()
    call = w.told_once("s2", None, state="lost")
    assert call["role"] == "site"
    assert w.site("s2").state == "lost"
    assert w.unit_state("s2", "counter-1") == "lost"
    w.s2.link.restore()
    w.told_once("s2", None, "recovery")
    assert poll(lambda: w.unit_state("s2", "counter-1") == "ready", 30)

    # and nothing else was ever sent: exactly one call and one mail per event
    expected = sorted([
        ("alert", "s2", "board-1", "never_seen"),
        ("alert", "s1", "counter-1", "lost"), ("recovery", "s1", "counter-1", "ready"),
        ("alert", "s1", "dispenser-1", "stopped"), ("recovery", "s1", "dispenser-1", "ready"),
        ("alert", "s1", "dispenser-1", "alert"), ("recovery", "s1", "dispenser-1", "ready"),
        ("alert", "s1", "board-1", "alert"), ("recovery", "s1", "board-1", "ready"),
        *[t for unit, *_ in faults for t in (("alert", "s1", unit, "alert"),
                                             ("recovery", "s1", unit, "ready"))],
        ("alert", "s2", "counter-1", "lost"), ("recovery", "s2", "counter-1", "ready"),
        ("alert", "s2", "", "lost"), ("recovery", "s2", "", "ready"),
    ])
    got = sorted((c["kind"], c["site"], c["unit"] or "", c["state"]) for c in w.hook.calls)
    assert got == expected, [(c["kind"], c["unit"], c["state"], c["reason"]) for c in w.hook.calls]
    notices = [m for m in w.mail.mails if not m[0].startswith("[motcua] Tổng hợp")]
    assert len(notices) == len(expected)
    # past digest time on the first tick: one daily digest, and one only
    digests = [t for s, t in w.mail.mails if s.startswith("[motcua] Tổng hợp")]
    assert len(digests) == 1 and "Toàn tỉnh / fleet" in digests[0]
