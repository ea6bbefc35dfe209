"""Calls said aloud in Vietnamese: a chime, then "Mời công dân có số A023 đến quầy số 2".

Numbers and letters are written out as Vietnamese words before espeak-ng's Vietnamese voice
says them ("A023" → "a, hai mươi ba"), rendered once to WAV and cached on disk. One worker
thread plays announcements one after another, so two calls never talk over each other.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import queue
import shutil
import struct
import subprocess
import threading
import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from appliance.board.view import Call
from appliance.clock import Clock
from appliance.config.board import VoiceSection
from appliance.errors import MissingDependency, MotcuaError
from appliance.i18n import tr
from drivers.audio import RATE, AudioOutput

log = logging.getLogger(__name__)

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
# Vietnamese names of the letters, as a caller says them over a loudspeaker.
LETTERS = {
    "A": "a", "Ă": "á", "Â": "ớ", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e",
    "Ê": "ê", "F": "ép", "G": "giê", "H": "hát", "I": "i", "J": "gi", "K": "ca", "L": "e lờ",
    "M": "em mờ", "N": "en nờ", "O": "o", "Ô": "ô", "Ơ": "ơ", "P": "pê", "Q": "quy",
    "R": "e rờ", "S": "ét xì", "T": "tê", "U": "u", "Ư": "ư", "V": "vê", "W": "vê kép",
    "X": "ích xì", "Y": "i dài", "Z": "dét",
}


class VoiceError(MotcuaError):
    """An announcement could not be rendered to sound."""


def number_words(n: int) -> str:
    """0 … 9999 in Vietnamese words: 21 → "hai mươi mốt", 105 → "một trăm linh năm"."""
    if not 0 <= n <= 9999:
        raise ValueError(f"{n} is out of range 0-9999")
    if n < 10:
        return DIGITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        head = "mười" if tens == 1 else f"{DIGITS[tens]} mươi"
        if unit == 0:
            return head
        if unit == 1 and tens > 1:
            tail = "mốt"
        elif unit == 5:
            tail = "lăm"
        elif unit == 4 and tens > 1:
            tail = "tư"
        else:
            tail = DIGITS[unit]
        return f"{head} {tail}"
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = f"{DIGITS[hundreds]} trăm"
        if rest == 0:
            return head
        return f"{head} linh {DIGITS[rest]}" if rest < 10 else f"{head} {number_words(rest)}"
    thousands, rest = divmod(n, 1000)
    head = f"{number_words(thousands)} nghìn"
    if rest == 0:
        return head
    if rest < 100:
        tail = f"linh {DIGITS[rest]}" if rest < 10 else number_words(rest)
        return f"{head} không trăm {tail}"
    return f"{head} {number_words(rest)}"


def spoken_number(number: str, style: str = "number") -> str:
    """A ticket number as it is said: "A023" → "a, hai mươi ba" (or "a, không hai ba")."""
    letters = "".join(ch for ch in number if not ch.isdigit())
    digits = "".join(ch for ch in number if ch.isdigit())
    said = [LETTERS.get(ch.upper(), ch) for ch in letters if ch.strip()]
    if digits:
        if style == "digits":
            said_digits = " ".join(DIGITS[int(d)] for d in digits)
        else:
            said_digits = number_words(int(digits))
        return ", ".join([" ".join(said), said_digits]) if said else said_digits
    return " ".join(said)


def spoken_counter(counter: str) -> str:
    return number_words(int(counter)) if counter.isdigit() and len(counter) <= 4 else counter


def announcement_text(voice: VoiceSection, number: str, counter: str,
                      counter_name: str) -> str:
    """The sentence handed to the speech engine, every number written out in words."""
    # the comma makes the voice pause after the number, as a person calling would
    return voice.template.format(number=spoken_number(number, voice.number_style) + ",",
                                 counter=spoken_counter(counter), counter_name=counter_name)


def display_text(voice: VoiceSection, number: str, counter: str, counter_name: str) -> str:
    """The same sentence as a person reads it (logs, status): "… số A023 đến quầy số 2"."""
    return voice.template.format(number=number, counter=counter, counter_name=counter_name)


def chime_frames(rate: int = RATE) -> bytes:
    """A two-note "ding-dong" (E5 then C5) with a soft decay, 16-bit mono."""
    out = bytearray()
    for freq, seconds in ((659.25, 0.45), (523.25, 0.75)):
        n = int(rate * seconds)
        for i in range(n):
            t = i / rate
            env = math.exp(-3.2 * t) * min(1.0, i / (rate * 0.01))
            v = 0.45 * env * (math.sin(2 * math.pi * freq * t)
                              + 0.3 * math.sin(4 * math.pi * freq * t))
            out += struct.pack("<h", int(max(-1.0, min(1.0, v)) * 32000))
    out += b"\x00\x00" * int(rate * 0.25)
    return bytes(out)


class EspeakSynth:
    """espeak-ng's Vietnamese voice to WAV, with the chime in front; cached by text."""

    def __init__(self, cache_dir: Path, *, voice: str = "vi", speed: int = 140,
                 chime: bool = True) -> None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise MissingDependency(tr(
                "chưa cài espeak-ng: chạy `sudo apt-get install espeak-ng`",
                "espeak-ng is not installed: run `sudo apt-get install espeak-ng`"))
        self.binary = binary
        self.cache_dir = cache_dir
        self.voice, self.speed, self.chime = voice, speed, chime
        self._chime: bytes | None = None
        # Speech synthesis is the heaviest thing a board does; at low priority it never
        # delays the frame that shows the call (or, on a shared box, the hub).
        nice = shutil.which("nice")
        self._nice = [nice, "-n", "10"] if nice else []

    def wav(self, text: str, label: str) -> Path:
        key = hashlib.sha256(f"{self.voice}|{self.speed}|{self.chime}|{text}".encode()
                             ).hexdigest()[:16]
        safe = "".join(ch for ch in label if ch.isalnum() or ch in "-_")[:24]
        path = self.cache_dir / f"{key}_{safe}.wav"
        if path.exists():
            return path
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        speech = path.with_suffix(".speech.tmp")
        try:
            done = subprocess.run(
                [*self._nice, self.binary, "-v", self.voice, "-s", str(self.speed),
                 "-w", str(speech), "--", text], capture_output=True, timeout=30, check=False)
            if done.returncode != 0:
                said = done.stderr.decode(errors="replace").strip()
                raise VoiceError(tr(f"espeak-ng lỗi ({done.returncode}): {said}",
                                    f"espeak-ng failed ({done.returncode}): {said}"))
            with wave.open(str(speech), "rb") as w:
                if (w.getnchannels(), w.getsampwidth()) != (1, 2):
                    raise VoiceError(tr("espeak-ng không ghi ra WAV 16-bit mono",
                                        "espeak-ng did not write 16-bit mono"))
                rate, frames = w.getframerate(), w.readframes(w.getnframes())
            if self.chime:
                if self._chime is None:
                    self._chime = chime_frames(rate)
                frames = self._chime + frames
            tmp = path.with_suffix(".tmp")
            with wave.open(str(tmp), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(rate)
                out.writeframes(frames)
            os.replace(tmp, path)  # a power cut leaves no half-written WAV in the cache
        except (OSError, subprocess.TimeoutExpired, wave.Error) as exc:
            raise VoiceError(tr(f"không tạo được âm thanh cho {text!r}: {exc}",
                                f"could not render {text!r}: {exc}")) from exc
        finally:
            speech.unlink(missing_ok=True)
        return path


@dataclass(frozen=True)
class Played:
    number: str
    counter: str
    text: str
    path: Path | None
    started: float  # time.monotonic()
    ended: float
    at: datetime


class Synth(Protocol):
    def wav(self, text: str, label: str) -> Path:
        """The WAV (chime, then ``text`` said) for this sentence, rendered or cached."""
        ...


class Announcer:
    """A queue of calls said one at a time; recalls repeat; quiet hours stay quiet."""

    def __init__(self, voice: VoiceSection, output: AudioOutput, synth: Synth | None,
                 clock: Clock, *, synth_problem: str | None = None) -> None:
        self.voice = voice
        self.output = output
        self.synth = synth
        self.clock = clock
        self.synth_problem = synth_problem
        self.history: list[Played] = []
        self.skipped_quiet = 0
        self.failed = 0
        self.last_error: str | None = None
        self._queue: queue.Queue[Call | None] = queue.Queue()
        self._pending: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Drop the calls not yet said and cut the sentence being said short.

        A board told to stop (systemd, Ctrl-C) goes within a second, not after its queue.
        Whoever wants every queued call said first waits for ``wait_idle`` before this.
        """
        if self._thread is None:
            return
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        with self._lock:
            self._pending.clear()
        self._queue.put(None)
        self.output.close()
        self._thread.join(timeout=15)
        self._thread = None
        self._idle.set()

    def quiet(self, when: datetime | None = None) -> bool:
        t = (when or self.clock.now()).time()
        return any(q.contains(t) for q in self.voice.quiet_hours)

    def announce(self, call: Call) -> bool:
        """Queue a call; False when it will not be said (voice off, quiet hours, queued)."""
        if not self.voice.enabled:
            return False
        if self.quiet():
            self.skipped_quiet += 1
            return False
        key = (call.number, call.counter)
        with self._lock:
            if key in self._pending:
                return False  # already waiting to be said: saying it twice in a row helps nobody
            self._pending.add(key)
            self._idle.clear()
        self._queue.put(call)
        return True

    def wait_idle(self, timeout: float) -> bool:
        return self._idle.wait(timeout)

    def status(self) -> dict[str, Any]:
        problem = self.synth_problem or self.output.problem
        return {
            "audio": "ok" if problem is None else problem,
            "announced": len(self.history),
            "announce_failed": self.failed,
            "skipped_quiet": self.skipped_quiet,
            "announce_queue": self._queue.qsize(),
        }

    def _run(self) -> None:
        import time

        while True:
            call = self._queue.get()
            if call is None:
                return
            with self._lock:
                self._pending.discard((call.number, call.counter))
            text = display_text(self.voice, call.number, call.counter, call.counter_name)
            try:
                path = self._render(call)
                for i in range(self.voice.repeat):
                    if i:
                        time.sleep(self.voice.gap_s)
                    started = time.monotonic()
                    played = self.output.play(path, self.voice.volume) if path else 0.0
                    if played == 0.0:
                        # no device or no speech engine: counted and shown in status
                        self.failed += 1
                        break
                    self.history.append(Played(call.number, call.counter, text, path,
                                               started, time.monotonic(), self.clock.now()))
                time.sleep(self.voice.gap_s)
            except VoiceError as exc:
                self.failed += 1
                self.last_error = str(exc)
                log.warning(tr("không đọc được lời mời số %s: %s",
                               "announcement of %s failed: %s"), call.number, exc)
            finally:
                with self._lock:
                    if self._queue.empty() and not self._pending:
                        self._idle.set()

    def _render(self, call: Call) -> Path | None:
        if self.synth is None:
            return None
        spoken = announcement_text(self.voice, call.number, call.counter, call.counter_name)
        return self.synth.wav(spoken, f"{call.number}-q{call.counter}")
