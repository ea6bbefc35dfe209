"""The kiosk's loop at the edge: inputs in, ``step`` the state, carry out effects, draw.

Inputs come from any thread (scanner, evdev touch, bus answers) through one queue; SDL
events are polled on the loop's thread. Drawing happens only when the state changed
(or the minute on the clock did), so an idle kiosk costs almost no CPU.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.clock import Clock
from appliance.i18n import tr
from appliance.lookup.catalogue import Catalogue
from appliance.lookup.gestures import DragBy, GestureReader, TapAt
from appliance.lookup.state import (
    Action,
    DeskInfo,
    DeskUpdate,
    DossierAnswer,
    IssueTicket,
    LookupDossier,
    LookupState,
    NewCatalogue,
    Scan,
    Scroll,
    Settings,
    Tap,
    Tick,
    TicketAnswer,
    TicketResult,
    TypeText,
    initial,
)
from appliance.lookup.ticket_flow import step
from display.lookup import View, hit, max_scroll, render_into, warm_up
from drivers.touch import Pointer, from_sdl

if TYPE_CHECKING:
    import pygame

log = logging.getLogger(__name__)

Lookup = Callable[[str, str], "Mapping[str, Any] | None"]
Issue = Callable[[str, bool, "str | None"], TicketResult]  # service, priority, category


@dataclass(frozen=True)
class Frame:
    """What was just drawn, for whoever watches (a display flip, a PNG writer, a bench)."""

    number: int
    state: LookupState


class LookupApp:
    def __init__(self, *, settings: Settings, view: View, title: str, clock: Clock,
                 catalogue: Catalogue, lookup: Lookup, surface: pygame.Surface,
                 sdl_touch: bool = True, sdl_keys: bool = True,
                 on_frame: Callable[[pygame.Surface, Frame], None] | None = None,
                 present: Callable[[], None] | None = None,
                 beat: Callable[[], None] = lambda: None,
                 issue: Issue | None = None) -> None:
        self._beat = beat  # the watchdog's: the touch/draw loop is the kiosk's real work
        self.view = view
        self.title = title
        self.clock = clock
        self.surface = surface
        self.state = initial(settings, catalogue)
        self._lookup = lookup
        self._issue = issue
        self._inbox: queue.Queue[Action | Pointer] = queue.Queue()
        self._gestures = GestureReader(slop=view.target / 4)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lookup")
        self._sdl_touch = sdl_touch
        self._sdl_keys = sdl_keys
        self._on_frame = on_frame
        # what puts a drawn frame on the glass (pygame.display.flip for a real screen):
        # drawing into the display surface alone shows nothing, the window stays black
        self._present = present
        self._exposed = False
        self._frames = 0
        self._minute = ""
        self._drawn = threading.Condition()
        self.quit = threading.Event()
        self._warm: Iterator[None] | None = None
        self._warm_for: Catalogue | None = None

    # ---- inputs (any thread) ---------------------------------------------------------
    def post(self, item: Action | Pointer) -> None:
        self._inbox.put(item)

    def scan(self, text: str) -> None:
        self.post(Scan(text))

    def new_catalogue(self, catalogue: Catalogue) -> None:
        self.post(NewCatalogue(catalogue))

    def new_desk(self, desk: DeskInfo) -> None:
        self.post(DeskUpdate(desk))

    # ---- loop (one thread) -----------------------------------------------------------
    def step_once(self, wait: float = 0.0) -> bool:
        """Poll SDL, apply every queued input, draw if anything changed."""
        self._beat()
        self._poll_sdl()
        items: list[Action | Pointer] = []
        try:
            items.append(self._inbox.get(timeout=wait) if wait > 0 else self._inbox.get_nowait())
            while True:
                items.append(self._inbox.get_nowait())
        except queue.Empty:
            pass
        now = self.clock.now()
        before = self.state
        for item in [*items, Tick()]:
            self._apply(item, now)
        minute = f"{now:%H:%M}"
        if self.state is not before or minute != self._minute or self._frames == 0:
            self._minute = minute
            self.draw()
            return True
        if self._exposed and self._present is not None:
            # the window was uncovered or mapped again: its pixels may be gone
            self._exposed = False
            self._present()
        if not items:
            self._warm_step(now)
        return False

    def _warm_step(self, now: Any) -> None:
        """One small piece of off-screen drawing while nobody touches the kiosk."""
        if self._warm_for is not self.state.catalogue:
            self._warm_for = self.state.catalogue
            self._warm = warm_up(initial(self.state.settings, self.state.catalogue), self.view,
                                 now, self.title)
        if self._warm is not None and next(self._warm, StopIteration) is StopIteration:
            self._warm = None

    def run(self, stop: threading.Event | None = None, poll_s: float = 0.05) -> None:
        stop = stop or self.quit
        while not stop.is_set() and not self.quit.is_set():
            self.step_once(wait=poll_s)

    def run_until(self, done: Callable[[LookupState], bool], timeout: float) -> bool:
        """Run the loop here until ``done(state)`` holds after a draw (tests, bench, demo)."""
        import time

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.step_once(wait=0.01)
            if done(self.state):
                return True
        return False

    def draw(self) -> None:
        render_into(self.surface, self.state, self.clock.now(), self.view, self.title)
        if self._present is not None:
            self._present()
        self._frames += 1
        if self._on_frame is not None:
            self._on_frame(self.surface, Frame(self._frames, self.state))
        with self._drawn:
            self._drawn.notify_all()

    @property
    def frames(self) -> int:
        return self._frames

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)

    # ---- internals -------------------------------------------------------------------
    def _apply(self, item: Action | Pointer, now: Any) -> None:
        if isinstance(item, Pointer):
            gesture = self._gestures.feed(item)
            if isinstance(gesture, TapAt):
                target = hit(self.state, self.view, gesture.x, gesture.y)
                if target is None:
                    return
                action: Action = Tap(target)
            elif isinstance(gesture, DragBy):
                action = Scroll(gesture.dy, max_scroll(self.state, self.view))
            else:
                return
        else:
            action = item
        self.state, effects = step(self.state, action, now)
        for effect in effects:
            if isinstance(effect, LookupDossier):
                self._worker.submit(self._run_lookup, effect)
            elif isinstance(effect, IssueTicket):
                self._worker.submit(self._run_issue, effect)

    def _run_lookup(self, effect: LookupDossier) -> None:
        try:
            reply = self._lookup(effect.code, effect.secret)
        except Exception:  # a failed lookup must answer "unavailable", never hang
            log.exception(tr("tra cứu hồ sơ bị lỗi", "dossier lookup failed"))
            reply = None
        self.post(DossierAnswer(effect.request, reply))

    def _run_issue(self, effect: IssueTicket) -> None:
        if self._issue is None:
            result = TicketResult(False, error="no_printer")
        else:
            try:
                result = self._issue(effect.service, effect.priority, effect.category)
            except Exception:  # the screen must say "not issued", never wait forever; logged
                log.exception(tr("cấp số bị lỗi", "ticket issue failed"))
                result = TicketResult(False, error="internal")
        self.post(TicketAnswer(effect.request, result))

    def _poll_sdl(self) -> None:
        if not (self._sdl_touch or self._sdl_keys):
            return
        import pygame

        if not pygame.display.get_init():
            return
        size = (self.view.width, self.view.height)
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.quit.set()
            elif event.type in (pygame.WINDOWEXPOSED, pygame.VIDEOEXPOSE):
                self._exposed = True
            elif self._sdl_touch and (p := from_sdl(event, size)) is not None:
                self.post(p)
            elif self._sdl_keys and event.type == pygame.TEXTINPUT:
                self.post(TypeText(event.text))
            elif self._sdl_keys and event.type == pygame.KEYDOWN:
                if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                    self.post(TypeText("\n"))
                elif event.key == pygame.K_BACKSPACE:
                    self.post(TypeText("\b"))


class FrameWriter:
    """Headless mode: every drawn frame saved as a numbered PNG named after its screen."""

    def __init__(self, folder: Path, *, keep: int = 500) -> None:
        self.folder = folder
        self.keep = keep
        self.written: list[Path] = []
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, surface: pygame.Surface, frame: Frame) -> None:
        import pygame

        if len(self.written) >= self.keep:
            return
        path = self.folder / f"{frame.number:04d}-{frame.state.screen.value}.png"
        pygame.image.save(surface, str(path))
        self.written.append(path)
