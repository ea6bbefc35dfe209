"""The demo's lobby board: the real board app, in a window or as PNG frames and WAVs.

Live: a window (not full screen) and the speaker. Headless: one PNG per call (the screen
as it was with that call highlighted) in ``<out>/board-1/``, the announcements as WAVs
beside them, and a last frame when the demo stops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.board.bootstrap import build_board
from appliance.board.screen import PngScreen, PygameScreen, Screen
from appliance.board.view import BoardView
from appliance.i18n import tr
from drivers.audio import AudioOutput, PygameAudio, WavRecorder

if TYPE_CHECKING:
    from appliance.board.app import BoardApp
    from appliance.demo.office import Office

log = logging.getLogger("demo.board")
UNIT = "board-1"


class _CallFrames:
    """Saves the screen once per new call: frame-0001-A001.png, …"""

    def __init__(self, folder: Path, surface_of: Callable[[], Any]) -> None:
        self.folder = folder
        self.surface_of = surface_of
        self.last: tuple[str, str, bool] | None = None
        self.count = 0

    def __call__(self, view: BoardView, page: str, rects: list[Any], at: float) -> None:
        import pygame

        if not view.calls:
            return
        c = view.calls[0]
        key = (c.number, c.counter, c.recall)
        if key == self.last:
            return
        self.last = key
        self.count += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self.surface_of(), str(
            self.folder / f"frame-{self.count:04d}-{c.number}-q{c.counter}.png"))
        log.info(tr("màn hình hiện %s → %s", "board shows %s → %s"), c.number, c.counter_name)


def attach(office: Office) -> Callable[[], None]:
    if not (office.site_dir / f"{UNIT}.toml").exists():
        return lambda: None
    config = office.unit_config(UNIT)
    assert config.board is not None
    out = office.out_dir / UNIT
    ready = threading.Event()
    holder: dict[str, BoardApp] = {}

    def loop() -> None:
        # the screen is made in the thread that draws on it and polls its events
        size = config.board.size if config.board else (1920, 1080)
        screen: Screen
        audio: AudioOutput
        if office.headless:
            screen, audio = PngScreen(size, None), WavRecorder(out)
        else:
            screen, audio = PygameScreen(size, fullscreen=False, title=f"motcua {UNIT}"), (
                PygameAudio())
        app = build_board(config, clock=office.clock, screen=screen, audio=audio)
        if office.headless:
            frames = _CallFrames(out, lambda: screen.surface)
            app.frame_hooks.append(frames)
        holder["app"] = app
        app.start()
        ready.set()
        app.run()

    thread = threading.Thread(target=loop, name="demo-board", daemon=True)
    thread.start()
    if not ready.wait(20):
        raise RuntimeError(tr("màn hình của bản chạy thử không chạy được",
                              "the demo board did not start"))

    def stop() -> None:
        app = holder["app"]
        if office.headless and not office.interrupted and app.announcer is not None:
            # a finished run writes the last calls' WAVs before leaving; a demo told to stop
            # (Ctrl-C, SIGTERM) does not finish what it is saying: it stops within seconds
            app.announcer.wait_idle(15)
        app.request_stop()
        thread.join(timeout=10)
        if office.headless:
            import pygame

            out.mkdir(parents=True, exist_ok=True)
            pygame.image.save(app.screen.surface, str(out / "frame-last.png"))
        app.stop()
        if app.announcer is not None:
            log.info("board: %s", app.announcer.status())

    return stop
