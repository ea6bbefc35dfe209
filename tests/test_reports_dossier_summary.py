"""The dossier day summaries (appliance/store/dossier_summary.py, kept by triggers) give
the same figures as the raw dossiers and history (``load_dossiers_raw``) for random
dossiers walked through random stages at random times — changed through the store and
behind its back (raw SQL: a channel, a return by post, an office, a correction of a time,
a deletion) — for days, weeks, months, quarters and random ranges, per office and for the
province, on both databases; and a backfill from scratch counts what the triggers kept."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from appliance.clock import VN_TZ
from appliance.store import dossier_summary
from appliance.store.models import DossierIn, StageMove
from appliance.store.reports.dossier_figures import DossierReport
from appliance.store.reports.dossier_sql import load_dossiers, load_dossiers_raw, whole_months
from appliance.store.reports.load import bounds
from appliance.store.reports.periods import Period, period
from appliance.store.schema import dossier_day_summary, dossier_month_summary, dossiers
from appliance.store.stages import ALLOWED

pytest_plugins = ["tests.pg"]
PROCS = ["1.001022", "1.004884", "2.001035"]
OTHER = "000.00.99.X01"
START = datetime(2026, 9, 28, 7, 0, tzinfo=VN_TZ)


def _figures(rep: DossierReport) -> dict[str, Any]:
    return {
        "total": dict(rep.total.counts),
        "groups": {g: {f.key: dict(f.counts) for f in fs} for g, fs in rep.groups.items()},
        "months": {m: dict(f.counts) for m, f in rep.on_time_by_month},
    }


def _walk(store: Any, clock: Any, rng: random.Random, n: int) -> None:
    for i in range(n):
        at = START + timedelta(days=rng.randrange(0, 80), hours=rng.randrange(0, 11),
                               minutes=rng.randrange(60))
        clock.set(at)
        d = store.dossiers.create(DossierIn(procedure_code=rng.choice(PROCS),
                                            applicant_name=f"Trần Thị {i}"), "tn")
        stage = "received"
        for _ in range(rng.randrange(0, 6)):
            nxt = sorted(ALLOWED[stage])
            if not nxt:
                break
            stage = rng.choice(nxt)
            # an hour to three weeks later: results early, on time and late, over midnights
            at += timedelta(hours=rng.choice([1, 5, 17, 30, 80, 200, 500]))
            if stage == "ready" and rng.random() < 0.4:  # on the appointment's day, in time
                due = datetime.fromisoformat(store.dossiers.get(d["code"])["due_at"])
                at = max(at, due - timedelta(hours=1))
            clock.set(at)
            store.dossiers.move_stage(d["code"], StageMove(stage=stage, note="x"), "cb")


def _behind_the_back(store: Any, rng: random.Random) -> None:
    with store.engine.begin() as conn:
        ids = list(conn.execute(select(dossiers.c.id, dossiers.c.stage)))
        for did, stage in ids:
            roll = rng.random()
            if roll < 0.2:
                conn.execute(update(dossiers).where(dossiers.c.id == did).values(
                    channel=rng.choice(["online", "post"])))
            elif roll < 0.3 and stage == "returned":
                conn.execute(update(dossiers).where(dossiers.c.id == did)
                             .values(return_method="post"))
            elif roll < 0.4:  # moved to another office, with its history's steps
                conn.execute(update(dossiers).where(dossiers.c.id == did)
                             .values(office=OTHER, procedure_code=rng.choice(PROCS)))
            elif roll < 0.45 and stage in ("ready", "returned"):  # a time corrected
                conn.execute(update(dossiers).where(dossiers.c.id == did)
                             .values(ready_at=dossiers.c.ready_at - 3 * 86400))
            elif roll < 0.5:
                conn.execute(delete(dossiers).where(dossiers.c.id == did))


def _periods(rng: random.Random) -> list[Period]:
    out = [period(kind, "2026-11-05") for kind in ("day", "week", "month", "quarter", "year")]
    out += [period("month", "2026-10-20"), period("week", "2026-12-14")]
    for _ in range(6):
        a = date(2026, 9, 20) + timedelta(days=rng.randrange(0, 100))
        out.append(period("range", a.isoformat(), (a + timedelta(
            days=rng.randrange(0, 60))).isoformat()))
    return out


def _compare(store: Any, rng: random.Random) -> int:
    cal = store.calendar
    compared = 0
    for p in _periods(rng):
        t0, t1 = bounds(p, cal)
        for now in (datetime(2026, 11, 20, 10, tzinfo=VN_TZ), datetime(2027, 3, 1, tzinfo=VN_TZ)):
            for office in (None, store.settings.agency_code, OTHER):
                args = (store.engine, cal, office, p, t0, t1, int(now.timestamp()))
                raw, summed = load_dossiers_raw(*args), load_dossiers(*args)
                a, b = _figures(summed), _figures(raw)
                assert a == b, (p, office, now, {k: (v, b["total"][k]) for k, v in
                                                 a["total"].items() if v != b["total"][k]},
                                a["months"], b["months"])
                compared += raw.total.counts["received"] + raw.total.finished
    return compared


def _summary_rows(store: Any) -> set[tuple[Any, ...]]:
    """The non-zero rows of both grains; the months' are the sums of their days'."""
    S, M = dossier_day_summary.c, dossier_month_summary.c
    with store.engine.connect() as conn:
        days = set(conn.execute(select(S.office, S.day, S.procedure_code, S.channel,
                                       S.measure, S.n).where(S.n != 0)))
        months = {("month", *r) for r in conn.execute(select(
            M.office, M.month, M.procedure_code, M.channel, M.measure, M.n).where(M.n != 0))}
    summed: Counter[tuple[Any, ...]] = Counter()
    for office, day, code, channel, measure, n in days:
        summed[("month", office, day[:7], code, channel, measure)] += n
    assert {(*k, n) for k, n in summed.items() if n} == months
    return days | months


def test_whole_months_and_edges() -> None:
    assert whole_months(date(2026, 1, 5), date(2026, 12, 31)) == (
        ("2026-02", "2026-12"), [("2026-01-05", "2026-01-31")])
    assert whole_months(date(2026, 3, 1), date(2026, 3, 31)) == (("2026-03", "2026-03"), [])
    assert whole_months(date(2026, 3, 2), date(2026, 4, 30)) == (
        ("2026-04", "2026-04"), [("2026-03-02", "2026-03-31")])
    assert whole_months(date(2026, 3, 2), date(2026, 3, 30)) == (
        None, [("2026-03-02", "2026-03-30")])
    assert whole_months(date(2026, 2, 27), date(2026, 5, 3)) == (
        ("2026-03", "2026-04"), [("2026-02-27", "2026-02-28"), ("2026-05-01", "2026-05-03")])


def test_summary_equals_the_raw_figures(store, store_clock) -> None:
    rng = random.Random(13)
    _walk(store, store_clock, rng, 90)
    assert _compare(store, rng) > 100  # figures were there to compare
    _behind_the_back(store, rng)
    _walk(store, store_clock, rng, 30)  # and more changes after those
    assert _compare(store, rng) > 100
    kept = _summary_rows(store)
    measures = {r[-2] for r in kept}
    # every kind of count was exercised
    assert {"received", "early", "on_time", "late", "supplement_asked", "passed_on",
            "refused", "withdrawn", "returned_post"} <= measures
    with store.engine.begin() as conn:
        dossier_summary.backfill(conn)
    assert _summary_rows(store) == kept
