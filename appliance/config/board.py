"""The [board] section of a board unit's config file."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field, model_validator

from appliance.config.base import Ident, StrictModel
from appliance.i18n import tr


class QuietHours(StrictModel):
    """No announcements between start and end (may cross midnight); the screen still works."""

    start: time
    end: time

    def contains(self, t: time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


class VoiceSection(StrictModel):
    enabled: bool = True
    # {number} is read aloud the Vietnamese way ("A023" → "A, hai mươi ba"),
    # {counter} is the counter id read as a number, {counter_name} its display name.
    template: str = "Mời công dân có số {number} đến quầy số {counter}"
    template_en: str | None = None
    engine: Literal["espeak", "clips"] = "espeak"
    clips_dir: str | None = None  # engine "clips": a folder of recorded WAVs, one per word
    espeak_voice: str = "vi"
    espeak_speed: int = Field(default=140, ge=80, le=300)
    # "number": 23 → "hai mươi ba"; "digits": "không hai ba" (clearer in a noisy room)
    number_style: Literal["number", "digits"] = "number"
    chime: bool = True
    volume: float = Field(default=0.8, ge=0.0, le=1.0)
    repeat: int = Field(default=1, ge=1, le=3)
    gap_s: float = Field(default=0.6, ge=0.0, le=5.0)
    quiet_hours: list[QuietHours] = Field(default_factory=list)
    cache_dir: str | None = None  # default: <data folder>/voice-cache

    @model_validator(mode="after")
    def _check(self) -> VoiceSection:
        if "{number}" not in self.template:
            raise ValueError(tr("câu mẫu phải có {number}", "template must contain {number}"))
        if self.engine == "clips" and not self.clips_dir:
            raise ValueError(tr('engine = "clips" cần clips_dir (thư mục các tệp WAV đã thu)',
                             'engine = "clips" needs clips_dir (a folder of recorded WAVs)'))
        return self


class BoardSection(StrictModel):
    """Settings of the board role: screen, layout, what is shown and how it is said."""

    resolution: Literal["1920x1080", "1280x720"] = "1920x1080"
    orientation: Literal["landscape", "portrait"] = "landscape"
    mode: Literal["queue", "dossier", "alternate"] = "queue"
    queue_s: float = Field(default=45.0, ge=5.0, le=3600.0)
    dossier_s: float = Field(default=20.0, ge=5.0, le=3600.0)
    fullscreen: bool = True
    english: bool = True
    highlight_s: float = Field(default=15.0, ge=1.0, le=300.0)
    counters: list[Ident] | None = None  # None: every counter of the site
    services: list[Ident] | None = None  # None: every service of the site
    notice: str = ""
    notice_from: list[Ident] = Field(default_factory=list)
    ticker_speed: int = Field(default=90, ge=10, le=600)  # pixels per second
    ticker_fps: int = Field(default=15, ge=5, le=60)  # smooth enough; each step costs CPU
    hub_unit: Ident = "hub"
    # no status heartbeat or state from the hub for this long = unreachable (0: never);
    # the hub's heartbeat is its status_interval_s (30 s by default)
    hub_silence_s: float = Field(default=100.0, ge=0.0, le=3600.0)
    store_unit: Ident = "store"
    voice: VoiceSection = VoiceSection()

    @property
    def size(self) -> tuple[int, int]:
        w, h = (int(x) for x in self.resolution.split("x"))
        return (w, h) if self.orientation == "landscape" else (h, w)
