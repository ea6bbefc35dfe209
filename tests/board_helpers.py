"""A running board for integration tests: the real app, real bus, PNG screen, WAV output."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.board.app import BoardApp
from appliance.board.bootstrap import build_board
from appliance.board.screen import PngScreen
from appliance.board.view import BoardView
from appliance.clock import Clock
from appliance.config import load_unit_config
from drivers.audio import WavRecorder


class Shown:
    """The last view that reached the screen, and a way to wait for one."""

    def __init__(self) -> None:
        self.view: BoardView | None = None
        self.page: str | None = None
        self.count = 0
        self._cond = threading.Condition()

    def hook(self, view: BoardView, page: str, rects: list[Any], at: float) -> None:
        with self._cond:
            self.view, self.page = view, page
            self.count += 1
            self._cond.notify_all()

    def wait(self, pred: Callable[[BoardView], bool], timeout: float = 10.0) -> BoardView:
        with self._cond:
            ok = self._cond.wait_for(lambda: self.view is not None and pred(self.view),
                                     timeout)
            assert ok, f"the board never showed the expected state; last: {self.view}"
            assert self.view is not None
            return self.view


class RunningBoard:
    def __init__(self, app: BoardApp, shown: Shown, recorder: WavRecorder,
                 frames: Path | None) -> None:
        self.app, self.shown, self.recorder, self.frames = app, shown, recorder, frames
        self._thread = threading.Thread(target=app.run, name="board-loop", daemon=True)

    def start(self) -> RunningBoard:
        self.app.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.app.request_stop()
        self._thread.join(timeout=10)
        self.app.stop()


def start_board(site_dir: Path, broker_url: str, clock: Clock, out: Path,
                frames: bool = False, **board: Any) -> RunningBoard:
    config = load_unit_config(site_dir / "board-1.toml", broker_url=broker_url,
                              data_dir=out / "data")
    section = config.board
    assert section is not None
    overrides = {"mode": "queue", **board}
    voice = section.voice.model_copy(update={"quiet_hours": [], "gap_s": 0.0})
    config = config.model_copy(update={"board": section.model_copy(
        update={**overrides, "voice": voice})})
    assert config.board is not None
    recorder = WavRecorder(out / "wav")
    folder = out / "frames" if frames else None
    app = build_board(config, clock=clock, screen=PngScreen(config.board.size, folder),
                      audio=recorder)
    shown = Shown()
    app.frame_hooks.append(shown.hook)
    return RunningBoard(app, shown, recorder, folder).start()
