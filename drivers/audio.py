"""Sound out of the board's speaker: pygame.mixer, or WAV files in headless runs.

One process owns the mixer. A missing or unplugged sound device never stops the board:
``available`` turns False, ``problem`` says why, and the device is tried again later.
Tests run the real mixer with ``SDL_AUDIODRIVER=dummy`` (it plays in real time, silently).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import wave
from pathlib import Path
from typing import Protocol

from appliance.i18n import tr

log = logging.getLogger(__name__)

RATE = 22050  # espeak-ng's own rate: no resampling on the way to the speaker
RETRY_S = 30.0


class AudioOutput(Protocol):
    @property
    def available(self) -> bool: ...

    @property
    def problem(self) -> str | None: ...

    def play(self, path: Path, volume: float) -> float:
        """Play a WAV to its end (blocking); return the seconds played, 0 if not played."""
        ...

    def close(self) -> None: ...


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


class PygameAudio:
    """pygame.mixer on whatever SDL_AUDIODRIVER chooses (ALSA on a Pi, dummy in tests)."""

    def __init__(self, *, retry_s: float = RETRY_S) -> None:
        self._retry_s = retry_s
        self._problem: str | None = None
        self._next_try = 0.0
        self._lock = threading.Lock()
        self._ready = False
        self._closing = threading.Event()  # cuts a sentence being played short

    def _open(self) -> bool:
        if self._ready:
            return True
        self._closing.clear()
        now = time.monotonic()
        if now < self._next_try:
            return False
        import pygame

        try:
            pygame.mixer.init(frequency=RATE, size=-16, channels=1, buffer=1024)
        except pygame.error as exc:
            self._problem = "no audio device: " + tr(f"không mở được ({exc})", str(exc))
            self._next_try = now + self._retry_s
            log.warning(tr("%s (thử lại sau %.0f s)",
                           "%s (trying again in %.0f s)"), self._problem, self._retry_s)
            return False
        self._ready, self._problem = True, None
        return True

    @property
    def available(self) -> bool:
        with self._lock:
            return self._open()

    @property
    def problem(self) -> str | None:
        return self._problem

    def play(self, path: Path, volume: float) -> float:
        import pygame

        with self._lock:
            if not self._open():
                return 0.0
            try:
                sound = pygame.mixer.Sound(str(path))
                sound.set_volume(volume)
                length = sound.get_length()
                started = time.monotonic()
                channel = sound.play()
            except pygame.error as exc:
                # the device went away (USB speaker unplugged): reopen it later
                self._problem = "audio device failed: " + tr(f"hỏng khi đang đọc ({exc})",
                                                                  str(exc))
                self._ready = False
                pygame.mixer.quit()
                self._next_try = time.monotonic() + self._retry_s
                log.warning("%s", self._problem)
                return 0.0
            deadline = started + length + 2.0
            while (channel.get_busy() and time.monotonic() < deadline
                   and not self._closing.is_set()):
                time.sleep(0.02)
            return time.monotonic() - started

    def close(self) -> None:
        import pygame

        self._closing.set()  # before the lock: a play in progress holds it until it ends
        with self._lock:
            if self._ready:
                pygame.mixer.quit()
                self._ready = False


class WavRecorder:
    """Headless runs: each announcement is copied to ``folder`` instead of being played.

    It does not pretend to have played anything in real time: ``play`` returns the
    length of the recording it wrote, and ``problem`` says no speaker is used, so the
    board's status never reads "audio ok" when nobody in the lobby can hear a call.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.written: list[Path] = []

    @property
    def available(self) -> bool:
        return True

    @property
    def problem(self) -> str | None:
        # the code before the colon stays as it is on the wire (see motcua status)
        return "no speaker: " + tr(f"lời mời chỉ được ghi thành tệp WAV vào {self.folder}",
                                   f"announcements are written as WAV files to {self.folder}")

    def play(self, path: Path, volume: float) -> float:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count += 1
        dest = self.folder / f"announce-{self.count:04d}-{path.stem.split('_', 1)[-1]}.wav"
        shutil.copyfile(path, dest)
        self.written.append(dest)
        return wav_seconds(dest)

    def close(self) -> None:
        return None
