"""Generated demo dossiers: plausible names, procedures, stages and times, fast to insert."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from appliance.store.calendar import WorkCalendar
from appliance.store.dossiers import Dossiers, ep
from appliance.store.schema import dossiers, procedures, sequences
from appliance.store.transfer import bulk_insert

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Thu", "Xuân", "Hoài"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hằng", "Hiếu", "Hoa", "Hùng",
         "Hương", "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Ngọc", "Phúc", "Phương",
         "Quân", "Quỳnh", "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Trung", "Tú", "Tuấn", "Vân",
         "Việt", "Yến", "Ánh", "Đạt", "Ước"]
SECRET_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
NOTES = {"awaiting_supplement": "thiếu bản sao giấy tờ tùy thân"}


def office_time(cal: WorkCalendar, when: datetime, rng: random.Random) -> datetime:
    """``when`` if the office is open then, else a moment after its next opening.

    Officers mark a result ready or hand it over while the office is open: a generated
    time at night or on a day off would tell the demo's visitors something no office does.
    """
    local = cal.local(when)
    day = local.date()
    if cal.is_working(day) and cal.day_start <= local.time() < cal.day_end:
        return local
    if not cal.is_working(day) or local.time() >= cal.day_end:
        day = cal.next_working(day)
    opening = datetime.combine(day, cal.day_start, cal.tz)  # type: ignore[arg-type]
    return opening + timedelta(seconds=rng.randrange(2 * 3600))


def _story(rng: random.Random, cal: WorkCalendar, received: datetime, due: datetime,
           now: datetime) -> list[tuple[str, datetime]]:
    """The stages a dossier went through so far, each at a time the office was open."""
    steps = [("received", received)]
    started = office_time(cal, received + timedelta(minutes=rng.randrange(20, 240)), rng)
    if started >= now:
        return steps
    steps.append(("processing", started))
    if rng.random() < 0.01:  # refused or withdrawn, some time into the work
        end = office_time(cal, started + timedelta(hours=rng.randrange(2, 60)), rng)
        if end < now:
            steps.append((rng.choice(["refused", "withdrawn"]), end))
        return steps
    # how far along: most finish before the due date, some after it
    share = rng.uniform(0.2, 1.15)
    work = max(cal.working_seconds(started, due), 3 * 3600.0)
    ready = office_time(cal, cal.add_working(started, share * work), rng)
    if rng.random() < 0.12:  # papers were missing: asked for, brought later
        asked = office_time(cal, started + (ready - started) / 3, rng)
        if asked >= now:
            return steps
        steps.append(("awaiting_supplement", asked))
        back = office_time(cal, asked + timedelta(hours=rng.randrange(4, 72)), rng)
        if back >= now:
            return steps
        steps.append(("processing", back))
        ready = max(ready, office_time(cal, back + timedelta(hours=2), rng))
    if ready >= now:
        return steps
    steps.append(("ready", ready))
    picked = office_time(cal, ready + timedelta(seconds=rng.randrange(3 * 86400)), rng)
    if picked < now:
        steps.append(("returned", picked))
    return steps


def generate(n: int, proc_days: Sequence[tuple[str, int]], end: datetime, cal: WorkCalendar,
             agency: str, code_format: str, *, start_id: int = 1, seed: int = 1,
             per_day: int = 60
             ) -> Iterator[tuple[dict[str, Any], list[tuple[str, datetime]], dict[str, int]]]:
    """``n`` dossiers received on working days before ``end``, newest last; yields
    (row, its history as (stage, at) from the first, {day: last_seq}) — the sequences to
    record so live codes do not collide."""
    rng = random.Random(seed)
    days_needed = n // per_day + 1
    day = cal.local(end).date()
    days: list[date] = []
    while len(days) < days_needed:
        if cal.is_working(day):
            days.append(day)
        day -= timedelta(days=1)
    days.reverse()
    now = ep(end)
    ident = start_id
    left = n
    for d in days:
        count = min(left, per_day)
        left -= count
        base = datetime.combine(d, cal.day_start, cal.tz)  # type: ignore[arg-type]
        for seq in range(1, count + 1):
            code_proc, pdays = proc_days[rng.randrange(len(proc_days))]
            received = base + timedelta(seconds=seq * 480 + rng.randrange(400))
            if received >= end:
                # today's dossiers so far only
                break
            due = cal.due_at(received, pdays)
            steps = _story(rng, cal, received, due, end)
            for (was, paused), (then, resumed) in itertools.pairwise(steps):
                if was == "awaiting_supplement" and then == "processing":
                    due = cal.extend(due, paused, resumed)  # the clock stopped meanwhile
            stage, at = steps[-1]
            times = dict(steps)
            ready_at = ep(times["ready"]) if "ready" in times else None
            finished = ep(at) if stage in ("returned", "refused", "withdrawn") else None
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            row = {
                "id": ident, "code": code_format.format(agency=agency, date=d, seq=seq),
                "secret": "".join(rng.choice(SECRET_ALPHABET) for _ in range(6)),
                "procedure_code": code_proc, "applicant_name": name,
                "applicant_phone": f"09{rng.randrange(10**8):08d}", "applicant_address": "",
                "received_at": ep(received), "due_at": ep(due), "stage": stage,
                "paused_since": ep(at) if stage == "awaiting_supplement" else None,
                "ready_at": ready_at, "finished_at": finished,
                "missing": '["Bản sao giấy tờ tùy thân"]' if stage == "awaiting_supplement"
                else "[]",
                "pickup_counter": str(rng.randrange(1, 4)) if stage == "ready" else None,
                "received_by": "demo", "note": "", "updated_at": now,
            }
            ident += 1
            yield row, steps, {d.strftime("%Y%m%d"): seq}


def fill(store: Dossiers, n: int, *, seed: int = 1, batch: int = 20000,
         with_history: bool = True) -> int:
    """Insert up to ``n`` generated dossiers (with the history of every stage they went
    through; none received after the clock's now); returns how many."""
    from sqlalchemy.dialects import postgresql, sqlite

    end = store.clock.now()
    with store.write_lock, store.engine.begin() as conn:
        proc_days = [(c, int(d)) for c, d in conn.execute(
            select(procedures.c.code, procedures.c.processing_days).order_by(procedures.c.code))]
        start = int(conn.execute(select(func.coalesce(func.max(dossiers.c.id), 0))).scalar_one())
        last: dict[str, int] = {}
        made = 0
        drows: list[dict[str, Any]] = []
        hrows: list[dict[str, Any]] = []
        for row, steps, day_seq in generate(n, proc_days, end, store.cal,
                                            store.settings.agency, store.settings.code_format,
                                            start_id=start + 1, seed=seed):
            last.update(day_seq)
            drows.append(row)
            made += 1
            if with_history:
                before: str | None = None
                for stage, at in steps:
                    hrows.append({"dossier_id": row["id"], "at": ep(at), "from_stage": before,
                                  "stage": stage, "by_user": "demo", "to_user": "",
                                  "due_at": row["due_at"], "result": None,
                                  "note": NOTES.get(stage, "")})
                    before = stage
            if len(drows) >= batch:
                bulk_insert(conn, drows, hrows)
                drows, hrows = [], []
        bulk_insert(conn, drows, hrows)
        ins = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        for day, seq in last.items():
            stmt = ins(sequences).values(agency=store.settings.agency, day=day, last=seq)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["agency", "day"],
                set_={"last": func.max(sequences.c.last, seq) if conn.dialect.name == "sqlite"
                      else func.greatest(sequences.c.last, seq)}))
    store._changed()
    return made
