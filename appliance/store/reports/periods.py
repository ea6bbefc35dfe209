"""A report's period: a day, week, month, quarter, year or any range of office days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from appliance.errors import MotcuaError
from appliance.i18n import tr

Kind = Literal["day", "week", "month", "quarter", "year", "range"]
KINDS: tuple[Kind, ...] = ("day", "week", "month", "quarter", "year", "range")
MAX_DAYS = 3 * 366 + 1  # a range longer than this is refused (the province reads 3 years)


class PeriodError(MotcuaError):
    """A period that cannot be read; the message names what was wrong."""


@dataclass(frozen=True)
class Period:
    kind: Kind
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def label(self) -> str:
        f, last = self.first, self.last
        if self.kind == "day":
            return tr(f"Ngày {f:%d/%m/%Y}", f"Day {f:%d/%m/%Y}")
        if self.kind == "month":
            return tr(f"Tháng {f.month:02d}/{f.year}", f"Month {f.month:02d}/{f.year}")
        if self.kind == "quarter":
            q = (f.month - 1) // 3 + 1
            return tr(f"Quý {q}/{f.year}", f"Quarter {q}/{f.year}")
        if self.kind == "year":
            return tr(f"Năm {f.year}", f"Year {f.year}")
        return tr(f"Từ {f:%d/%m/%Y} đến {last:%d/%m/%Y}", f"{f:%d/%m/%Y} to {last:%d/%m/%Y}")

    def months(self) -> list[date]:
        """The first day of every month the period touches."""
        out, m = [], self.first.replace(day=1)
        while m <= self.last:
            out.append(m)
            m = (m + timedelta(days=32)).replace(day=1)
        return out


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(tr(f"{name}: ngày không hợp lệ {text[:20]!r} (dạng YYYY-MM-DD)",
                             f"{name}: not a date {text[:20]!r} (use YYYY-MM-DD)")) from None


def period(kind: str, at: str, until: str | None = None) -> Period:
    """The period of ``kind`` holding the day ``at`` (for ``range``: ``at`` to ``until``)."""
    if kind not in KINDS:
        raise PeriodError(tr(f"kỳ báo cáo không hợp lệ {kind[:20]!r}; chọn một trong "
                             f"{', '.join(KINDS)}", f"unknown period {kind[:20]!r}; one of "
                             f"{', '.join(KINDS)}"))
    d = _date(at, "from" if kind == "range" else "date")
    if kind == "day":
        return Period("day", d, d)
    if kind == "week":
        monday = d - timedelta(days=d.weekday())
        return Period("week", monday, monday + timedelta(days=6))
    if kind == "month":
        first = d.replace(day=1)
        return Period("month", first, (first + timedelta(days=32)).replace(day=1)
                      - timedelta(days=1))
    if kind == "quarter":
        first = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
        nxt = (first + timedelta(days=95)).replace(day=1)
        return Period("quarter", first, nxt - timedelta(days=1))
    if kind == "year":
        return Period("year", date(d.year, 1, 1), date(d.year, 12, 31))
    end = _date(until or "", "to")
    if end < d:
        raise PeriodError(tr("ngày kết thúc trước ngày bắt đầu", "the end is before the start"))
    if (end - d).days + 1 > MAX_DAYS:
        raise PeriodError(tr(f"khoảng thời gian dài quá {MAX_DAYS} ngày",
                             f"a range longer than {MAX_DAYS} days"))
    return Period("range", d, end)
