"""Where the board's pixels go: a pygame display (KMSDRM / X11 / dummy) or PNG files.

On a Pi without X, SDL needs ``SDL_VIDEODRIVER=kmsdrm`` and access to /dev/dri and a tty
(see systemd/motcua-board.service and docs/board.md); on a desktop it opens a window.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from appliance.errors import DeviceError
from appliance.i18n import tr

if TYPE_CHECKING:
    import pygame

log = logging.getLogger(__name__)


class Screen(Protocol):
    # False: only changes of content are shown (PNG frames), not the ticker or the clock
    animate: bool

    @property
    def surface(self) -> pygame.Surface: ...

    def show(self, rects: list[pygame.Rect]) -> None:
        """Put the changed rectangles of ``surface`` on the glass."""
        ...

    def poll(self) -> bool:
        """Handle window events; False when the user asked to quit (window closed, Esc)."""
        ...

    def close(self) -> None: ...


def kiosk_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The SDL variables a board started by systemd on a Pi without X needs."""
    env = dict(os.environ if env is None else env)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY") and not env.get(
            "SDL_VIDEODRIVER"):
        env["SDL_VIDEODRIVER"] = "kmsdrm"
    if not env.get("SDL_AUDIODRIVER"):
        env["SDL_AUDIODRIVER"] = "alsa"
    env.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    return env


class PygameScreen:
    """The real display: full screen (KMSDRM on a Pi) or a window on a desktop."""

    animate = True

    def __init__(self, size: tuple[int, int], *, fullscreen: bool, title: str = "motcua") -> None:
        import pygame

        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        try:
            pygame.display.init()
            flags = pygame.FULLSCREEN if fullscreen else 0
            self._surface = pygame.display.set_mode(size, flags)
        except pygame.error as exc:
            driver = os.environ.get("SDL_VIDEODRIVER", "(SDL's choice)")
            raise DeviceError(tr(
                f"không mở được màn hình với SDL_VIDEODRIVER={driver}: {exc}. Trên Pi không "
                "có X: SDL_VIDEODRIVER=kmsdrm, pygame có SDL hỗ trợ KMSDRM (python3-pygame "
                "của Debian), người dùng thuộc nhóm video và render, và một tty "
                "(xem docs/board.md)",
                f"cannot open the screen with SDL_VIDEODRIVER={driver}: {exc}. On a Pi "
                "without X: SDL_VIDEODRIVER=kmsdrm, a pygame whose SDL has KMSDRM (Debian's "
                "python3-pygame), a user in the video and render groups, and a tty "
                "(see docs/board.md)")) from exc
        pygame.display.set_caption(title)
        if fullscreen:
            pygame.mouse.set_visible(False)
        # Only quit and key events matter; the rest would only wake the loop.
        pygame.event.set_allowed(None)
        pygame.event.set_allowed([pygame.QUIT, pygame.KEYDOWN, pygame.WINDOWEXPOSED])
        self.driver = pygame.display.get_driver()
        log.info(tr("màn hình %sx%s, trình điều khiển SDL %s",
                    "screen %sx%s on SDL video driver %s"), *size, self.driver)

    @property
    def surface(self) -> pygame.Surface:
        return self._surface

    def show(self, rects: list[pygame.Rect]) -> None:
        import pygame

        if rects:
            pygame.display.update(rects)

    def poll(self) -> bool:
        import pygame

        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                return False
            if event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_q):
                return False
        return True

    def close(self) -> None:
        import pygame

        pygame.display.quit()


class PngScreen:
    """Headless: an off-screen surface; each shown change is written as a numbered PNG."""

    animate = False

    def __init__(self, size: tuple[int, int], folder: Path | None, *,
                 max_frames: int = 2000) -> None:
        import pygame

        self._surface = pygame.Surface(size)
        self.folder = folder
        self.frames = 0
        self.max_frames = max_frames
        self.written: list[Path] = []

    @property
    def surface(self) -> pygame.Surface:
        return self._surface

    def show(self, rects: list[pygame.Rect]) -> None:
        import pygame

        if not rects or self.folder is None or self.frames >= self.max_frames:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self.frames += 1
        path = self.folder / f"frame-{self.frames:05d}.png"
        pygame.image.save(self._surface, str(path))
        self.written.append(path)

    def poll(self) -> bool:
        return True

    def close(self) -> None:
        return None
