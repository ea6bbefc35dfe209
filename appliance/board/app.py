"""The board's main loop: MQTT messages in, model updated, only changed regions redrawn.

MQTT handlers run on paho's thread and only put messages in an inbox; this loop (one
thread, the one that owns the screen) applies them, announces calls and repaints. It
sleeps on the inbox until a message comes or the picture must change by itself (clock,
end of a highlight, the next step of a scrolling notice), so an idle board costs nothing.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.board.state import BoardModel
from appliance.board.view import BoardView, Call
from appliance.board.voice import Announcer
from appliance.bus import Bus, Message
from appliance.clock import Clock
from appliance.config.board import BoardSection
from appliance.contract import decode
from appliance.errors import ContractError
from appliance.i18n import tr
from display.board import BoardOptions, BoardRenderer, Page, highlighted

if TYPE_CHECKING:
    import pygame

    from appliance.board.screen import Screen

log = logging.getLogger(__name__)

_LINK = "<link>"
MAX_RESYNC_SINKS = 8
COALESCE_S = 0.002
COALESCE_MAX_S = 0.008
FIRST = frozenset({"call", "table"})
FrameHook = Callable[[BoardView, Page, "list[pygame.Rect]", float], None]


class BoardApp:
    def __init__(self, *, section: BoardSection, bus: Bus, clock: Clock, screen: Screen,
                 announcer: Announcer | None, data_dir: Path | None = None,
                 poll_s: float = 0.25, beat: Callable[[], None] = lambda: None) -> None:
        self.section = section
        self._beat = beat  # the watchdog's: the frame loop is the board's real work
        self.bus = bus
        self.clock = clock
        self.screen = screen
        self.announcer = announcer
        self.data_dir = data_dir
        self.poll_s = poll_s
        self.topics = bus.topics
        self.model = BoardModel(
            bus.site, hub_unit=section.hub_unit, store_unit=section.store_unit,
            notice=section.notice, notice_from=section.notice_from,
            counters=section.counters, services=section.services,
            hub_silence_s=section.hub_silence_s)
        self.options = BoardOptions(size=section.size, english=section.english,
                                    highlight_s=section.highlight_s,
                                    ticker_speed=section.ticker_speed,
                                    ticker_fps=section.ticker_fps)
        self.renderer = BoardRenderer(self.options)
        self.inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.frames = 0
        self.frame_hooks: list[FrameHook] = []
        self._stop = threading.Event()
        self._stopped = False
        self._shown: tuple[int, Page] | None = None
        self._head: Call | None = None
        self._status_key: Any = None
        self._resync_sinks = 0
        self._load_site_cache()

    # ---- wiring --------------------------------------------------------------------
    def start(self) -> None:
        t = self.topics
        for topic in (t.queue_state, t.queue_events, t.site_info, t.notice,
                      f"{t.base}/store/board", t.status(self.section.hub_unit),
                      t.status(self.section.store_unit)):
            self.bus.subscribe(topic, self._on_message)
        self.bus.on_connection(lambda up: self.inbox.put((_LINK, b"1" if up else b"")))
        if self.announcer is not None:
            self.announcer.start()
        self.bus.set_status("alert", reasons=["waiting for the hub's queue state"])
        self.bus.start()

    def request_stop(self) -> None:
        """Ask the loop to end after its current frame (signal handlers, other threads)."""
        self._stop.set()
        self.inbox.put((_LINK + "wake", b""))

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.request_stop()
        if self.announcer is not None:
            self.announcer.stop()
        self.bus.stop()
        self.screen.close()

    def _on_message(self, msg: Message) -> None:
        self.inbox.put((msg.topic, msg.payload))  # paho's thread: hand over, nothing more

    def _resync_sink(self, msg: Message) -> None:
        if self.model.resyncing:
            self.inbox.put((msg.topic, msg.payload))

    # ---- loop ----------------------------------------------------------------------
    def run(self) -> None:
        """Until stop() or the window is closed."""
        while not self._stop.is_set():
            if not self.step():
                break

    def step(self, max_wait: float | None = None) -> bool:
        """Wait for input or the next scheduled change, apply it, redraw; False to quit."""
        self._beat()
        now = self.clock.now()
        wait = self._next_wake(now)
        if max_wait is not None:
            wait = min(wait, max_wait)
        try:
            first = self.inbox.get(timeout=max(0.0, wait))
        except queue.Empty:
            first = None
        items = [first] if first is not None else []
        if first is not None and first[0] == self.topics.queue_events and not _is_call(first):
            # One hub action publishes its events back to back ("finished", then "called"):
            # wait a moment for the call instead of drawing the in-between picture.
            deadline = time.monotonic() + COALESCE_MAX_S
            while time.monotonic() < deadline:
                try:
                    item = self.inbox.get(timeout=COALESCE_S)
                except queue.Empty:
                    break
                items.append(item)
                if _is_call(item):
                    break
        while True:
            try:
                items.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        now = self.clock.now()
        calls: list[Call] = []
        for topic, payload in items:
            calls += self._apply(topic, payload, now)
        # silence is measured in real seconds: the hub's heartbeat is (simulated time isn't)
        self.model.check_silence(now, at=time.monotonic())
        if self.model.resync_due(now):
            self._request_resync()
        self.draw(now)
        # the voice starts after the number is on the glass: rendering speech (espeak-ng,
        # WAV joining) must not compete with the frame for the CPU
        for call in calls:
            self._announce(call)
        self._publish_status()
        return self.screen.poll()

    def _apply(self, topic: str, payload: bytes, now: datetime) -> list[Call]:
        if topic == _LINK:
            self.model.set_broker(bool(payload))
            return []
        if topic.startswith(_LINK):
            return []
        bad = self.model.bad_messages
        calls = self.model.handle(topic, payload, now, heard=time.monotonic())
        if topic == self.topics.site_info and payload and self.model.bad_messages == bad:
            self._save_site_cache(payload)  # only what the model accepted
        return calls

    def _announce(self, call: Call) -> None:
        if self.announcer is not None:
            self.announcer.announce(call)

    def _request_resync(self) -> None:
        # The hub republishes queue/state after every change, so a gap normally heals with
        # the next state. If none came, subscribing again makes the broker resend the
        # retained one. Bus has no unsubscribe, so each re-subscription leaves one filtered
        # sink behind: capped, since a gap the hub's next state does not heal is rare.
        if self._resync_sinks >= MAX_RESYNC_SINKS:
            log.warning(tr("chỗ hở chưa lấp; chờ queue/state tiếp theo của hub",
                           "gap not healed; waiting for the hub's next queue/state"))
            return
        self._resync_sinks += 1
        log.info(tr("chỗ hở chưa lấp kịp: lấy lại queue/state được giữ lại",
                    "gap not healed in time: fetching the retained queue/state again"))
        self.bus.subscribe(self.topics.queue_state, self._resync_sink)

    def page(self, view: BoardView, now: datetime) -> Page:
        mode = self.section.mode
        if mode == "queue":
            return "queue"
        if mode == "dossier":
            return "dossier"
        if highlighted(view, now, self.options):
            return "queue"  # a fresh call is never hidden behind the dossier page
        cycle = self.section.queue_s + self.section.dossier_s
        return "queue" if now.timestamp() % cycle < self.section.queue_s else "dossier"

    def draw(self, now: datetime) -> list[pygame.Rect]:
        view = self.model.view()
        page = self.page(view, now)
        if not self.screen.animate and self._shown == (self.model.version, page):
            return []
        passes: list[frozenset[str] | None] = [None]
        head = view.calls[0] if view.calls else None
        if self.screen.animate and page == "queue" and head != self._head:
            passes = [FIRST, None]  # the new call goes to the glass before the rest
        self._head = head
        shown: list[pygame.Rect] = []
        for only in passes:
            rects = self.renderer.frame(self.screen.surface, view, now, page, only)
            if not self.screen.animate and self._shown is not None and rects:
                rects = [self.screen.surface.get_rect()]
            if rects:
                self.screen.show(rects)
                self.frames += 1
                shown_at = time.monotonic()
                for hook in self.frame_hooks:
                    hook(view, page, rects, shown_at)
                shown += rects
        self._shown = (self.model.version, page)
        return shown

    def _next_wake(self, now: datetime) -> float:
        view = self.model.view()
        wait = self.renderer.next_change(view, now) if self.screen.animate else 60.0
        if self.section.mode == "alternate":
            cycle = self.section.queue_s + self.section.dossier_s
            pos = now.timestamp() % cycle
            edge = self.section.queue_s if pos < self.section.queue_s else cycle
            wait = min(wait, edge - pos + 0.001)
        if self.model.resyncing:
            wait = min(wait, 0.5)
        # Window close / keys are polled at this pace; KMSDRM has no window to close.
        return max(0.0, min(wait, self.poll_s))

    # ---- status and the site cache ---------------------------------------------------
    def _publish_status(self) -> None:
        view = self.model.view()
        reasons = []
        if not view.online:
            # the code before the colon stays as it is on the wire (see motcua status)
            reasons.append("hub unreachable or not synced: " + tr(
                "đang hiện trạng thái cuối cùng đã biết", "showing the last known state")
                           if view.ever_synced else "no queue state from the hub yet")
        audio = self.announcer.status() if self.announcer is not None else {"audio": "off"}
        if audio["audio"] not in ("ok", "off"):
            reasons.append(str(audio["audio"]))
        fields = {"seq": self.model.seq, "online": view.online, "resyncs": self.model.resyncs,
                  "bad_messages": self.model.bad_messages, **audio}
        key = (tuple(reasons), fields["seq"], fields["online"], fields["resyncs"],
               fields["bad_messages"], audio.get("audio"), audio.get("announced"))
        if key == self._status_key:
            return
        self._status_key = key
        self.bus.set_status("alert" if reasons else "ready", reasons=reasons, **fields)

    def _site_cache(self) -> Path | None:
        return self.data_dir / "site-info.json" if self.data_dir else None

    def _load_site_cache(self) -> None:
        path = self._site_cache()
        if path is None or not path.exists():
            return
        try:
            self.model.apply_site_info(decode(path.read_bytes()))
        except (OSError, ContractError, KeyError, TypeError, ValueError) as exc:
            log.warning(tr("bỏ qua thông tin điểm đã lưu %s: %s",
                           "ignoring the cached site info %s: %s"), path, exc)

    def _save_site_cache(self, payload: bytes) -> None:
        path = self._site_cache()
        if path is None:
            return
        try:
            if path.exists() and path.read_bytes() == payload:
                return
            json.loads(payload)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except (OSError, ValueError) as exc:
            log.warning(tr("không lưu được thông tin điểm vào %s: %s",
                           "could not cache the site info in %s: %s"), path, exc)


def _is_call(item: tuple[str, bytes]) -> bool:
    # a cheap look at the raw payload: the full decode happens in the model
    return item[0].endswith("/queue/events") and (
        b'"ticket.called"' in item[1] or b'"ticket.recalled"' in item[1])
