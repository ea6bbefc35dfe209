"""Generated demo dossiers: plausible names, procedures, stages and times, fast to insert."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from appliance.store.calendar import DAY_S, WorkCalendar
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


def generate(n: int, proc_days: Sequence[tuple[str, int]], end: datetime, cal: WorkCalendar,
             agency: str, code_format: str, *, start_id: int = 1, seed: int = 1,
             per_day: int = 60) -> Iterator[tuple[dict[str, Any], dict[str, int]]]:
    """``n`` dossiers received on working days before ``end``, newest last; yields
    (row, {day: last_seq}) — the sequences to record so live codes do not collide."""
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
            r_ep, due_ep = ep(received), ep(due)
            # how far along: the older, the likelier it is finished
            spent = rng.uniform(0.2, 1.15) * max(due_ep - r_ep, DAY_S // 3)
            ready = r_ep + int(spent)
            stage: str
            ready_at = finished = None
            if ready < now:
                ready_at = ready
                picked = ready + rng.randrange(3 * DAY_S)
                if picked < now:
                    stage, finished = "returned", picked
                else:
                    stage = "ready"
            else:
                stage = rng.choice(["received", "processing", "processing",
                                    "awaiting_supplement"])
            if rng.random() < 0.01:
                stage, ready_at, finished = rng.choice(["refused", "withdrawn"]), None, ready
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            row = {
                "id": ident, "code": code_format.format(agency=agency, date=d, seq=seq),
                "secret": "".join(rng.choice(SECRET_ALPHABET) for _ in range(6)),
                "procedure_code": code_proc, "applicant_name": name,
                "applicant_phone": f"09{rng.randrange(10**8):08d}", "applicant_address": "",
                "received_at": r_ep, "due_at": due_ep, "stage": stage,
                "paused_since": now if stage == "awaiting_supplement" else None,
                "ready_at": ready_at, "finished_at": finished,
                "missing": '["Bản sao giấy tờ tùy thân"]' if stage == "awaiting_supplement"
                else "[]",
                "pickup_counter": str(rng.randrange(1, 4)) if stage == "ready" else None,
                "received_by": "demo", "note": "", "updated_at": now,
            }
            ident += 1
            yield row, {d.strftime("%Y%m%d"): seq}


def fill(store: Dossiers, n: int, *, seed: int = 1, batch: int = 20000,
         with_history: bool = True) -> int:
    """Insert up to ``n`` generated dossiers (one history row each; none received after
    the clock's now); returns how many."""
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
        for row, day_seq in generate(n, proc_days, end, store.cal, store.settings.agency,
                                 store.settings.code_format, start_id=start + 1, seed=seed):
            last.update(day_seq)
            drows.append(row)
            made += 1
            if with_history:
                hrows.append({"dossier_id": row["id"], "at": row["received_at"],
                              "from_stage": None, "stage": row["stage"], "by_user": "demo",
                              "to_user": "", "due_at": row["due_at"], "result": None,
                              "note": ""})
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
