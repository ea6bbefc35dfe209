"""Announcements from recorded clips joined in sequence (a real voice instead of espeak-ng).

The folder holds one 16-bit mono WAV per word or phrase, named by its Vietnamese words
(``mời công dân có số.wav``; "_" may stand for a space; any Unicode form). For each
sentence the longest
phrase that has a clip is taken first, so an office can record "mời công dân có số" and
"đến quầy số" once and the numbers word by word ("hai", "mươi", "ba", "mốt", "lăm", …).
A word without a clip is an error that names it, never a silent gap.
"""

from __future__ import annotations

import hashlib
import os
import wave
from pathlib import Path

from appliance.board.voice import VoiceError, chime_frames
from appliance.i18n import tr
from display.fonts import nfc


def _key(words: str) -> str:
    return " ".join(nfc(words).lower().replace("_", " ").split())


class ClipSynth:
    """Same interface as EspeakSynth: ``wav(text, label) -> Path`` (cached by text)."""

    def __init__(self, clips_dir: Path, cache_dir: Path, *, chime: bool = True,
                 word_gap_s: float = 0.06, comma_gap_s: float = 0.3) -> None:
        if not clips_dir.is_dir():
            raise VoiceError(tr(f"clips_dir {clips_dir} không phải thư mục các đoạn ghi âm WAV",
                                f"clips_dir {clips_dir} is not a folder of WAV clips"))
        self.clips_dir = clips_dir
        self.cache_dir = cache_dir
        self.chime = chime
        self.word_gap_s, self.comma_gap_s = word_gap_s, comma_gap_s
        self.index = {_key(p.stem): p for p in sorted(clips_dir.glob("*.wav"))}
        self._longest = max((len(k.split()) for k in self.index), default=0)

    def plan(self, text: str) -> list[tuple[Path, bool]]:
        """The clips for ``text`` in order, each with "a comma follows" (a longer pause)."""
        tokens: list[tuple[str, bool]] = []
        for raw in nfc(text).split():
            word = raw.strip(",.;:!?").lower()
            if word:
                tokens.append((word, raw.endswith((",", ";", ".", ":"))))
        plan: list[tuple[Path, bool]] = []
        missing: list[str] = []
        i = 0
        while i < len(tokens):
            for j in range(min(len(tokens), i + self._longest), i, -1):
                clip = self.index.get(" ".join(w for w, _ in tokens[i:j]))
                if clip is not None:
                    plan.append((clip, tokens[j - 1][1]))
                    i = j
                    break
            else:
                missing.append(tokens[i][0])
                i += 1
        if missing:
            words = ", ".join(dict.fromkeys(missing))
            raise VoiceError(tr(f"trong {self.clips_dir} không có đoạn ghi âm cho: {words}",
                                f"no recorded clip in {self.clips_dir} for: {words}"))
        return plan

    def wav(self, text: str, label: str) -> Path:
        plan = self.plan(text)
        key = hashlib.sha256("|".join([str(self.chime), text, *(
            f"{p.name}:{p.stat().st_mtime_ns}" for p, _ in plan)]).encode()).hexdigest()[:16]
        safe = "".join(ch for ch in label if ch.isalnum() or ch in "-_")[:24]
        path = self.cache_dir / f"{key}_{safe}.wav"
        if path.exists():
            return path
        rate: int | None = None
        out = bytearray()
        for clip, comma in plan:
            try:
                with wave.open(str(clip), "rb") as w:
                    fmt = (w.getnchannels(), w.getsampwidth())
                    if fmt != (1, 2):
                        raise VoiceError(tr(f"{clip.name}: đoạn ghi âm phải là WAV 16-bit mono",
                                            f"{clip.name}: clips must be 16-bit mono WAV"))
                    if rate is None:
                        rate = w.getframerate()
                        if self.chime:
                            out += chime_frames(rate)
                    elif w.getframerate() != rate:
                        raise VoiceError(tr(
                            f"{clip.name}: {w.getframerate()} Hz, các đoạn khác {rate} Hz "
                            "(hãy ghi mọi đoạn như nhau)",
                            f"{clip.name}: {w.getframerate()} Hz, the others are {rate} Hz "
                            "(record every clip alike)"))
                    out += w.readframes(w.getnframes())
            except (OSError, wave.Error, EOFError) as exc:
                raise VoiceError(tr(f"không đọc được đoạn ghi âm {clip}: {exc}",
                                    f"cannot read clip {clip}: {exc}")) from exc
            assert rate is not None
            out += b"\x00\x00" * int(rate * (self.comma_gap_s if comma else self.word_gap_s))
        if rate is None:
            raise VoiceError(tr(f"không có gì để đọc cho {text!r}", f"nothing to say for {text!r}"))
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(bytes(out))
        os.replace(tmp, path)
        return path
