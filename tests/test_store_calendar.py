"""Working-day due dates: weekends, Tết and other holidays, the cut-off, pauses, timing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from appliance.clock import VN_TZ
from appliance.errors import ConfigError
from appliance.store.calendar import WorkCalendar, load_calendar, timing


def t(y: int, mo: int, d: int, h: int = 9, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=VN_TZ)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return load_calendar()


@pytest.mark.parametrize(("received", "days", "due"), [
    (t(2026, 11, 30), 3, t(2026, 12, 3)),              # Mon + 3 → Thu
    (t(2026, 11, 26), 3, t(2026, 12, 1)),              # Thu + 3 skips the weekend → Tue
    (t(2026, 11, 27), 1, t(2026, 11, 30)),             # Fri + 1 → Mon
    (t(2026, 11, 28), 1, t(2026, 12, 1, 7, 30)),       # Sat: counts from Mon opening
    (t(2026, 11, 30, 16, 45), 1, t(2026, 12, 2, 7, 30)),  # after the cut-off: from Tue
    (t(2026, 2, 12), 3, t(2026, 2, 24)),               # Tết Bính Ngọ 14–22 Feb skipped
    (t(2026, 2, 13), 1, t(2026, 2, 23)),               # Fri before Tết → Mon after
    (t(2026, 4, 29), 2, t(2026, 5, 5)),                # 30/4 and 1/5, then the weekend
    (t(2026, 8, 31), 1, t(2026, 9, 3)),                # Quốc khánh 1–2 Sep
    (t(2026, 11, 30, 10), 0, t(2026, 11, 30, 17)),     # same-day procedures: by closing
    (t(2027, 2, 4), 2, t(2027, 2, 15)),                # Tết Đinh Mùi
])
def test_due_dates(cal: WorkCalendar, received: datetime, days: int, due: datetime) -> None:
    assert cal.due_at(received, days) == due


@pytest.mark.parametrize(("due", "paused", "resumed", "new_due"), [
    # two working days paused (Tue 10:00 → Thu 10:00) move the due date two working days
    (t(2026, 12, 3), t(2026, 12, 1, 10), t(2026, 12, 3, 10), t(2026, 12, 7)),
    # a pause over a weekend counts only the Friday afternoon and Monday morning
    (t(2026, 12, 9), t(2026, 12, 4, 12), t(2026, 12, 7, 12), t(2026, 12, 10)),
    # a pause lying wholly in Tết adds nothing
    (t(2026, 2, 24), t(2026, 2, 14, 9), t(2026, 2, 22, 9), t(2026, 2, 24)),
])
def test_pauses_add_counted_time(cal: WorkCalendar, due: datetime, paused: datetime,
                                 resumed: datetime, new_due: datetime) -> None:
    assert cal.extend(due, paused, resumed) == new_due


@pytest.mark.parametrize(("done", "now", "expected"), [
    (t(2026, 12, 2, 15), t(2026, 12, 9), "early"),
    (t(2026, 12, 3, 8), t(2026, 12, 9), "on_time"),
    (t(2026, 12, 3, 10), t(2026, 12, 9), "late"),
    (t(2026, 12, 4), t(2026, 12, 9), "late"),
    (None, t(2026, 12, 3, 8), "not_yet_due"),
    (None, t(2026, 12, 3, 9, 1), "overdue"),
])
def test_timing(cal: WorkCalendar, done: datetime | None, now: datetime, expected: str) -> None:
    assert timing(t(2026, 12, 3, 9), done, now, cal) == expected


def test_saturday_made_working_by_swap(cal: WorkCalendar) -> None:
    assert cal.is_working(t(2025, 4, 26).date())
    assert not cal.is_working(t(2025, 5, 2).date())


def test_own_calendar_file(tmp_path: Path) -> None:
    f = tmp_path / "cal.toml"
    f.write_text('[[holidays]]\nname = "Ngày hội"\ndate = "2026-12-01"\n', encoding="utf-8")
    own = load_calendar(f)
    assert own.due_at(t(2026, 11, 30), 1) == t(2026, 12, 2)


@pytest.mark.parametrize(("text", "needle"), [
    ('[[holidays]]\nname = "x"\n', "give either date"),
    ('[[holidays]]\nname = "x"\nfrom = "2026-01-05"\nto = "2026-01-01"\n', "before"),
    ('[[holidays]]\nname = "x"\ndate = "2026-01-01"\ncolour = 1\n', "colour"),
    ("holidays = [", "not valid TOML"),
])
def test_broken_calendar_files_are_named(tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "cal.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_calendar(f)
    assert needle in str(err.value) and "cal.toml" in str(err.value)
