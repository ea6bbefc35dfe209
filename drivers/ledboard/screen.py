"""A counter's number on a small HDMI screen instead of an LED board (pygame).

Draws through ``display.text`` (checked Vietnamese fonts, NFC), so the label
"Quầy 1 · Đang phục vụ" never falls back to pygame's glyph-less default font. The
window is opened by the thread that first calls :meth:`ScreenBoard.show` (the board
keeper's thread: one thread owns the screen). A screen cannot say whether anybody sees
it, so :attr:`answers` is False, like an ASCII board.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from appliance.i18n import tr
from drivers.ledboard.base import BoardError, fit_text

BACKGROUND = (10, 14, 30)
NUMBER = (255, 196, 0)
LABEL = (230, 230, 230)


class ScreenBoard:
    answers = False
    can_show_text = True

    def __init__(self, *, label: str, size: tuple[int, int] = (800, 480), digits: int = 4,
                 fullscreen: bool = False, snapshot: Path | None = None) -> None:
        self.label = label
        self.size = size
        self.digits = digits
        self.fullscreen = fullscreen
        self.snapshot = snapshot  # write each frame as a PNG there (demo, diagnostics)
        self.surface: Any = None
        self._lock = threading.Lock()

    def _screen(self) -> Any:
        import pygame

        if self.surface is None:
            try:
                pygame.display.init()
                flags = pygame.FULLSCREEN if self.fullscreen else 0
                self.surface = pygame.display.set_mode(self.size, flags)
                pygame.display.set_caption(self.label)
                pygame.mouse.set_visible(False)
            except pygame.error as exc:
                raise BoardError(tr(f"màn hình quầy: không mở được màn hình ({exc})",
                                   f"counter screen: cannot open the display ({exc})")) from exc
        return self.surface

    def render(self, text: str, target: Any) -> None:
        """Draw the frame for ``text`` on ``target`` (any pygame surface)."""
        import pygame

        from display.text import draw_text

        w, h = target.get_size()
        target.fill(BACKGROUND)
        draw_text(target, f"{self.label} · Đang phục vụ / Now serving",
                  pygame.Rect(w // 20, h // 20, w - w // 10, h // 8), LABEL, align="center")
        shown = fit_text(text, self.digits).strip()
        if shown:
            draw_text(target, shown, pygame.Rect(w // 20, h // 5, w - w // 10, h * 7 // 10),
                      NUMBER, bold=True, align="center")

    def show(self, text: str) -> None:
        import pygame

        with self._lock:
            surface = self._screen()
            self.render(text, surface)
            try:
                pygame.event.pump()  # keep the window responsive to the window system
                pygame.display.flip()
            except pygame.error as exc:
                raise BoardError(tr(f"màn hình quầy: {exc}", f"counter screen: {exc}")) from exc
            if self.snapshot is not None:
                pygame.image.save(surface, str(self.snapshot))

    def close(self) -> None:
        import pygame

        with self._lock:
            if self.surface is not None:
                pygame.display.quit()
                self.surface = None
