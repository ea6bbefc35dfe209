"""Dossier figures of a month, from dossiers moved through the store at known times,
checked against the test's own account of what it did (both databases)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import update

from appliance.clock import VN_TZ
from appliance.store.models import DossierIn, StageMove
from appliance.store.reports.load import build_report
from appliance.store.reports.periods import period
from appliance.store.schema import dossiers

pytest_plugins = ["tests.pg"]
PROCS = ["1.001022", "1.004884", "2.001035"]  # Hộ tịch 3 days, Hộ tịch 5 days, Chứng thực 2


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=VN_TZ)


def test_month_of_dossiers(store, store_clock):
    rng = random.Random(5)
    want: Counter[str] = Counter()
    by_proc: Counter[str] = Counter()
    month_end = int(datetime(2026, 12, 1, tzinfo=VN_TZ).timestamp())
    report_now = _at(28, 12)
    working = [d for d in range(2, 28) if datetime(2026, 11, d).weekday() < 5]
    for i in range(60):
        day = rng.choice(working[:-3])
        store_clock.set(_at(day, rng.randint(8, 15), rng.randint(0, 59)))
        proc = rng.choice(PROCS)
        d = store.dossiers.create(DossierIn(procedure_code=proc,
                                            applicant_name=f"Nguyễn Văn {i}"), "tn")
        channel = rng.choice(["counter", "counter", "online", "post"])
        with store.engine.begin() as conn:
            conn.execute(update(dossiers).where(dossiers.c.code == d["code"])
                         .values(channel=channel))
        want["received"] += 1
        want[f"received_{channel}"] += 1
        by_proc[proc] += 1
        code = d["code"]
        fate = rng.choice(["open", "ready", "ready", "returned", "refused", "withdrawn",
                           "supplement", "liaison"])
        step = store_clock.now()

        def later(hours: float) -> None:
            nonlocal step
            step = step + timedelta(hours=hours)
            store_clock.set(min(step, report_now - timedelta(minutes=1)))

        if fate in ("ready", "returned", "liaison", "supplement"):
            later(1)
            store.dossiers.move_stage(code, StageMove(stage="processing"), "cb")
        if fate == "supplement":
            later(2)
            store.dossiers.move_stage(code, StageMove(stage="awaiting_supplement",
                                                      note="thiếu giấy"), "cb")
            want["supplement_asked"] += 1
            want["awaiting_supplement"] += 1
            want["paused"] += 1
        if fate == "liaison":
            later(2)
            store.dossiers.move_stage(code, StageMove(stage="liaison"), "cb")
            want["passed_on"] += 1
        if fate in ("ready", "returned"):
            later(rng.choice([3, 30, 80, 150]))
            moved = store.dossiers.move_stage(code, StageMove(stage="ready"), "cb")
            due = datetime.fromisoformat(moved["due_at"])
            done = store_clock.now()
            if done.date() < due.astimezone(VN_TZ).date():
                want["early"] += 1
            elif done <= due:
                want["on_time"] += 1
            else:
                want["late"] += 1
            if fate == "returned":
                later(1)
                store.dossiers.move_stage(code, StageMove(stage="returned"), "cb")
        if fate in ("refused", "withdrawn"):
            later(1)
            store.dossiers.move_stage(code, StageMove(stage=fate, note="lý do"), "cb")
            want[fate] += 1
        got = store.dossiers.get(code)
        if got["stage"] in ("received", "processing", "awaiting_supplement", "liaison"):
            due_s = int(datetime.fromisoformat(got["due_at"]).timestamp())
            end = min(int(report_now.timestamp()), month_end)
            want["open_overdue" if due_s < end else "open_not_due"] += 1
    rep = build_report(store.engine, store.calendar, None, period("month", "2026-11-15"),
                       now=report_now)
    counts = {k: v for k, v in rep.dossiers.total.counts.items() if v}
    assert counts == {k: v for k, v in want.items() if v}
    finished = want["early"] + want["on_time"] + want["late"]
    assert finished > 5 and want["late"] > 0
    assert rep.dossiers.total.on_time_rate == (want["early"] + want["on_time"]) / finished
    assert {f.key: f.counts["received"] for f in rep.dossiers.groups["procedure"]} == dict(
        by_proc)
    sectors = {f.key: f.counts["received"] for f in rep.dossiers.groups["sector"]}
    assert sectors == {"Hộ tịch": by_proc["1.001022"] + by_proc["1.004884"],
                       "Chứng thực": by_proc["2.001035"]}
    months = dict(rep.dossiers.on_time_by_month)
    assert set(months) <= {"2026-11"} and months["2026-11"].finished == finished
    assert rep.dossiers.digitised_share is None  # not recorded: said, not invented
    # the office filter: another office has nothing
    assert build_report(store.engine, store.calendar, "000.00.99.X01",
                        period("month", "2026-11-15"), now=report_now
                        ).dossiers.total.counts["received"] == 0
