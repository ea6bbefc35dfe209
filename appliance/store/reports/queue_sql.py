"""The database's share of the queue figures: the day summaries (``queue_summary``: counts
and sums per office, day, service, counter and officer; arrivals per hour) summed over
the period; the waits' figures counted by the database from the period's tickets
(``load_waits``: per service, counter and officer the tickets called, the exact P90 and
those served within the report's target; every wait counted per second for the total);
and each counter's last finish (only of the days where a counter was left open: that is
all it is used for). Python receives some hundreds of rows, not a row per ticket.

The counter events are read as plain tuples through the driver's own cursor (no Row
objects)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from appliance.store.reports.queue import (
    GROUPS,
    SUMMED,
    GroupWaits,
    QueueReport,
    WaitStats,
    days_left_open,
    queue_report,
    regroup,
)
from appliance.store.schema import (
    queue_counter_events,
    queue_day_categories,
    queue_day_hours,
    queue_day_summary,
    queue_tickets,
)

S = queue_day_summary.c
H = queue_day_hours.c


def _raw_rows(conn: Connection, stmt: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``stmt`` as the driver's tuples (no Row objects): for the long reads."""
    compiled = stmt.compile(dialect=conn.dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:  # sqlite's "?" style: the values in their order
        params = [params[name] for name in compiled.positiontup]
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def load_waits(conn: Connection, period: list[Any], target_s: float) -> WaitStats:
    """The called tickets' waits (first call − issue, whole seconds: the times are epoch
    seconds) counted in the database: per key of each of GROUPS the tickets called, the
    P90 (nearest rank: the smallest wait whose rank r in the key's ordered waits has
    r ≥ 0.9·n, i.e. 10·r ≥ 9·n in integers) and the served ones within ``target_s``; and
    for the total every wait with its count (a few thousand distinct seconds)."""
    T = queue_tickets.c
    wait = (T.first_called_at - T.issued_at).label("wait")
    ok = case((and_(T.state == "finished", wait <= literal(float(target_s))), 1), else_=0)
    called = [*period, T.state != "voided", T.first_called_at.isnot(None)]
    keys = {"service": func.coalesce(T.service, ""), "counter": T.counter,
            "officer": T.officer}
    groups: dict[str, dict[Any, GroupWaits]] = {}
    for g in GROUPS:
        key = keys[g].label("key")
        named = [] if g == "service" else [key.isnot(None), key != ""]
        ranked = select(key, wait, ok.label("ok"),
                        func.row_number().over(partition_by=key, order_by=wait).label("r"),
                        func.count().over(partition_by=key).label("n"),
                        ).where(*called, *named).subquery()
        R = ranked.c
        groups[g] = {k: (int(n), None if p90 is None else float(p90), int(w or 0))
                     for k, n, p90, w in conn.execute(
                         select(R.key, func.max(R.n),
                                func.min(case((R.r * 10 >= R.n * 9, R.wait), else_=None)),
                                func.sum(R.ok)).group_by(R.key))}
    counts = Counter({int(w): int(n) for w, n in conn.execute(
        select(wait, func.count()).where(*called).group_by(wait))})
    return WaitStats(groups, counts)


def load_queue(engine: Engine, office: str | None, first: str, last: str, *,
               target_s: float) -> QueueReport:
    def period(c: Any) -> list[Any]:  # of a table with day and office columns
        out = [c.day >= first, c.day <= last]
        return out if office is None else [*out, c.office == office]

    E = queue_counter_events.c
    keys = [S.service, S.counter, S.officer]
    summed = [func.sum(S[name]).label(name) for name in SUMMED]
    with engine.connect() as conn:
        names = ("day", "seq", "type", "counter", "at")
        events = [dict(zip(names, r, strict=True)) for r in _raw_rows(conn, select(
            E.day, E.seq, E.type, E.counter, E.at).where(*period(E)).order_by(E.at, E.seq))]
        combos = [dict(r) for r in conn.execute(
            select(*keys, *summed).where(*period(S)).group_by(*keys)).mappings()]
        hours = [(int(h), int(n)) for h, n in conn.execute(
            select(H.hour, func.sum(H.issued)).where(*period(H)).group_by(H.hour))]
        C = queue_day_categories.c
        categories = [(str(c), int(i), int(s)) for c, i, s in conn.execute(
            select(C.category, func.sum(C.issued), func.sum(C.served)).where(*period(C))
            .group_by(C.category).order_by(C.category))]
        waits = load_waits(conn, period(queue_tickets.c), target_s)
        open_days = days_left_open(events)
        last_finish: list[tuple[str, str, int]] = []
        if open_days:
            last_finish = [(d, c, int(t)) for d, c, t in conn.execute(
                select(S.day, S.counter, func.max(S.last_finish))
                .where(*period(S), S.day.in_(sorted(open_days)), S.counter.isnot(None),
                       S.last_finish.isnot(None)).group_by(S.day, S.counter))]
    return queue_report(regroup(combos), waits, hours, last_finish, events,
                        target_s=target_s, categories=categories)
