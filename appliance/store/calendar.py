"""Working-day arithmetic for due dates (pure functions of a calendar and times).

Time "counts" only on working dates: weekdays the office processes dossiers, minus public
holidays. A due date is the received time plus N working days of counted time; a pause
(awaiting supplement) adds back the counted time it lasted.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from appliance.clock import VN_TZ
from appliance.config.base import StrictModel
from appliance.errors import ConfigError
from appliance.i18n import tr

DAY_S = 86400
SHIPPED_CALENDAR = Path(__file__).resolve().parent / "data" / "holidays-vn.toml"

Timing = Literal["early", "on_time", "late", "not_yet_due", "overdue"]


class _Holiday(StrictModel):
    name: str
    day: date | None = Field(default=None, alias="date")
    first: date | None = Field(default=None, alias="from")
    last: date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _one_form(self) -> _Holiday:
        if self.day is None and (self.first is None or self.last is None):
            raise ValueError(tr("ghi date = ... hoặc from = ... và to = ...",
                                "give either date = ... or from = ... and to = ..."))
        if self.first and self.last and self.last < self.first:
            raise ValueError(tr("'to' trước 'from'", "'to' is before 'from'"))
        return self

    def days(self) -> Iterable[date]:
        if self.day is not None:
            yield self.day
            return
        assert self.first is not None and self.last is not None
        d = self.first
        while d <= self.last:
            yield d
            d += timedelta(days=1)


class _CalendarFile(StrictModel):
    holidays: list[_Holiday] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    tz: object = field(default=VN_TZ)
    day_start: time = time(7, 30)
    day_end: time = time(17, 0)
    cutoff: time = time(16, 30)

    def is_working(self, d: date) -> bool:
        if d in self.workdays:
            return True
        return d.weekday() in self.weekdays and d not in self.holidays

    def next_working(self, d: date) -> date:
        d += timedelta(days=1)
        for _ in range(3660):
            if self.is_working(d):
                return d
            d += timedelta(days=1)
        raise ValueError(tr("không có ngày làm việc nào trong mười năm: lịch bị sai",
                            "no working day within ten years: the calendar is wrong"))

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz)  # type: ignore[arg-type]

    def _midnight(self, d: date) -> datetime:
        return datetime.combine(d, time(0), self.tz)  # type: ignore[arg-type]

    def working_seconds(self, a: datetime, b: datetime) -> float:
        """Counted time between a and b (0 if b <= a)."""
        if b <= a:
            return 0.0
        a, b = self.local(a), self.local(b)
        total = 0.0
        d = a.date()
        while d <= b.date():
            if self.is_working(d):
                lo = max(a, self._midnight(d))
                hi = min(b, self._midnight(d + timedelta(days=1)))
                total += max(0.0, (hi - lo).total_seconds())
            d += timedelta(days=1)
        return total

    def add_working(self, start: datetime, seconds: float) -> datetime:
        """The time when ``seconds`` of counted time have passed after ``start``."""
        cur = self.local(start)
        left = seconds
        if not self.is_working(cur.date()):
            cur = self._midnight(self.next_working(cur.date()))
        while True:
            day_end = self._midnight(cur.date() + timedelta(days=1))
            room = (day_end - cur).total_seconds()
            if left <= room:
                return cur + timedelta(seconds=left)
            left -= room
            cur = self._midnight(self.next_working(cur.date()))

    def effective_start(self, received: datetime) -> datetime:
        """A dossier received after the cut-off or on a day off counts from the next
        working day's opening."""
        local = self.local(received)
        if self.is_working(local.date()) and local.time() <= self.cutoff:
            return local
        return datetime.combine(self.next_working(local.date()), self.day_start,
                                self.tz)  # type: ignore[arg-type]

    def due_at(self, received: datetime, days: int) -> datetime:
        start = self.effective_start(received)
        if days <= 0:
            return datetime.combine(start.date(), self.day_end, self.tz)  # type: ignore[arg-type]
        return self.add_working(start, days * DAY_S)

    def extend(self, due: datetime, paused_from: datetime, paused_to: datetime) -> datetime:
        """The due date after a pause: the counted time of the pause is added back."""
        return self.add_working(due, self.working_seconds(paused_from, paused_to))


def timing(due: datetime, done: datetime | None, now: datetime, cal: WorkCalendar) -> Timing:
    """Early / on time / late for a finished dossier; not yet due / overdue for an open one."""
    if done is None:
        return "overdue" if now > due else "not_yet_due"
    if cal.local(done).date() < cal.local(due).date():
        return "early"
    return "on_time" if done <= due else "late"


def load_calendar(path: Path | None = None, *, weekdays: Iterable[int] = (0, 1, 2, 3, 4),
                  cutoff: time = time(16, 30)) -> WorkCalendar:
    path = path or SHIPPED_CALENDAR
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: calendar file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    try:
        parsed = _CalendarFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError([
            f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        ]) from None
    days: set[date] = set()
    for h in parsed.holidays:
        days.update(h.days())
    return WorkCalendar(holidays=frozenset(days), workdays=frozenset(parsed.workdays),
                        weekdays=frozenset(weekdays), cutoff=cutoff)
