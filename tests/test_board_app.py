"""The board's loop without a network: pages, draw order, status, the site-info cache.

Messages go into the app's inbox exactly as the MQTT handler puts them there.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pygame
import pytest

from appliance.board.app import BoardApp
from appliance.board.screen import PngScreen
from appliance.board.voice import Announcer
from appliance.bus import Bus
from appliance.clock import VN_TZ, ManualClock, rfc3339
from appliance.config.base import BrokerConfig
from appliance.config.board import BoardSection, VoiceSection
from appliance.contract import Topics
from display.board import layout

T = Topics("demo")
START = datetime(2026, 11, 30, 9, 0, 0, tzinfo=VN_TZ)


class Screen(PngScreen):
    animate = True  # behave like a live screen: every pass is shown


class NoDevice:
    available = False
    problem = "no audio device: test"

    def play(self, path: Path, volume: float) -> float:
        return 0.0

    def close(self) -> None:
        return None


def make_app(tmp_path: Path, clock: ManualClock, **section: Any) -> tuple[BoardApp, list]:
    pygame.display.init()
    sec = BoardSection(resolution="1280x720", notice="Xin chào", **section)
    bus = Bus(site="demo", unit="board-1", role="board",
              broker=BrokerConfig(url="mqtt://127.0.0.1:9"), clock=clock)
    announcer = Announcer(VoiceSection(enabled=False), NoDevice(), None, clock)
    app = BoardApp(section=sec, bus=bus, clock=clock, screen=Screen(sec.size, None),
                   announcer=announcer, data_dir=tmp_path / "data")
    shown: list[tuple[Any, str, list[pygame.Rect]]] = []
    app.frame_hooks.append(lambda v, p, r, at: shown.append((v, p, list(r))))
    return app, shown


def site_info() -> bytes:
    return json.dumps({"v": 1, "office_name": "UBND phường Mẫu", "office_name_en": None,
                       "services": [{"id": "A", "name": "Chứng thực"}],
                       "counters": [{"id": "1", "name": "Quầy 1", "services": ["A"]}]}
                      ).encode()


def state(seq: int, serving: str | None = None) -> bytes:
    return json.dumps({"v": 1, "seq": seq, "day": "2026-11-30", "at": rfc3339(START),
                       "services": {"A": {"name": "Chứng thực", "waiting": ["A009"],
                                          "est_wait_s": 300}},
                       "counters": {"1": {"name": "Quầy 1", "open": True,
                                          "serving": serving, "service": "A"}}}).encode()


def called(seq: int, number: str) -> bytes:
    return json.dumps({"v": 1, "seq": seq, "type": "ticket.called", "at": rfc3339(START),
                       "ticket": {"number": number, "service": "A",
                                  "service_name": "Chứng thực", "priority": False},
                       "counter": "1", "counter_name": "Quầy 1"}).encode()


def feed(app: BoardApp, *messages: tuple[str, bytes]) -> None:
    for m in messages:
        app.inbox.put(m)
    app.step(max_wait=0)


def test_new_call_reaches_the_screen_before_the_rest(tmp_path: Path) -> None:
    clock = ManualClock(START)
    app, shown = make_app(tmp_path, clock)
    feed(app, ("<link>", b"1"), (T.site_info, site_info()), (T.queue_state, state(1)))
    shown.clear()
    feed(app, (T.queue_events, called(2, "A009")))
    regions = {k: pygame.Rect(v) for k, v in layout(app.options, "queue", False).items()}
    first = shown[0][2]
    assert sorted(map(tuple, first)) == sorted([tuple(regions["call"]),
                                                tuple(regions["table"])])
    assert shown[0][0].calls[0].number == "A009"
    later = [tuple(r) for _, _, rects in shown[1:] for r in rects]
    assert tuple(regions["waiting"]) in later


def test_alternate_mode_cycles_but_a_fresh_call_is_never_hidden(tmp_path: Path) -> None:
    clock = ManualClock(START)
    app, _ = make_app(tmp_path, clock, mode="alternate", queue_s=30, dossier_s=10,
                      highlight_s=15)
    feed(app, ("<link>", b"1"), (T.queue_state, state(1)))
    view = app.model.view()
    pages = []
    for s in range(0, 40, 5):
        pages.append(app.page(view, START + timedelta(seconds=s)))
    assert "queue" in pages and "dossier" in pages
    # find a moment on the dossier page, then a call arrives: the queue page comes back
    t = next(START + timedelta(seconds=s) for s in range(0, 40)
             if app.page(view, START + timedelta(seconds=s)) == "dossier")
    clock.set(t)
    feed(app, (T.queue_events, called(2, "A009")))
    assert app.page(app.model.view(), t) == "queue"
    assert app.page(app.model.view(), t + timedelta(seconds=16)) in ("queue", "dossier")


def test_status_is_alert_until_synced_and_names_the_audio_problem(tmp_path: Path) -> None:
    clock = ManualClock(START)
    app, _ = make_app(tmp_path, clock)
    feed(app, ("<link>", b"1"))
    status = app.bus.status
    assert status["state"] == "alert"
    assert "no queue state from the hub yet" in status["reasons"]
    assert app.announcer is not None
    app.announcer.voice = VoiceSection(enabled=True)
    feed(app, (T.queue_state, state(1)))
    status = app.bus.status
    assert status["online"] is True and status["seq"] == 1
    app.announcer.synth_problem = None
    feed(app, (T.queue_events, called(2, "A009")))
    assert any("no audio device" in r for r in app.bus.status["reasons"])


def test_site_info_is_cached_for_a_restart_without_the_broker(tmp_path: Path) -> None:
    clock = ManualClock(START)
    app, _ = make_app(tmp_path, clock)
    feed(app, ("<link>", b"1"), (T.site_info, site_info()))
    assert (tmp_path / "data" / "site-info.json").exists()
    again, shown = make_app(tmp_path, clock)
    again.step(max_wait=0)
    assert shown[-1][0].office_name == "UBND phường Mẫu"
    assert not shown[-1][0].online


@pytest.mark.parametrize("bad", [b"{", b'{"v":1,"office_name":"x"}'])
def test_a_bad_site_info_is_not_cached(tmp_path: Path, bad: bytes) -> None:
    clock = ManualClock(START)
    app, _ = make_app(tmp_path, clock)
    feed(app, ("<link>", b"1"), (T.site_info, bad))
    assert not (tmp_path / "data" / "site-info.json").exists()
    assert app.model.bad_messages == 1
