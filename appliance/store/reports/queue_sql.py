"""The database's share of the queue figures: the day summaries (``queue_summary``: counts
and sums per office, day, service, counter and officer; arrivals per hour) summed over
the period, their waits (every wait, "," separated, for the exact percentile and the
service level), and each counter's last finish (only of the days where a counter was
left open: that is all it is used for). The Python side (``queue.queue_report``) splits
and sorts the waits.

The waits are read as plain tuples through the driver's own cursor (no Row objects)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from appliance.store.reports.queue import (
    SUMMED,
    QueueReport,
    Waits,
    days_left_open,
    queue_report,
    regroup,
)
from appliance.store.schema import (
    queue_counter_events,
    queue_day_categories,
    queue_day_hours,
    queue_day_summary,
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


def load_queue(engine: Engine, office: str | None, first: str, last: str, *,
               target_s: float) -> QueueReport:
    def period(c: Any) -> list[Any]:
        out = [c.day >= first, c.day <= last]
        return out if office is None else [*out, c.office == office]

    E = queue_counter_events.c
    keys = [S.service, S.counter, S.officer]
    summed = [func.sum(S[name]).label(name) for name in SUMMED if name != "within"]
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
        waits = _raw_rows(conn, select(S.service, S.counter, S.officer, S.waits,
                                       S.served_waits).where(*period(S)))
        open_days = days_left_open(events)
        last_finish: list[tuple[str, str, int]] = []
        if open_days:
            last_finish = [(d, c, int(t)) for d, c, t in conn.execute(
                select(S.day, S.counter, func.max(S.last_finish))
                .where(*period(S), S.day.in_(sorted(open_days)), S.counter.isnot(None),
                       S.last_finish.isnot(None)).group_by(S.day, S.counter))]
    split = Waits.of(waits, target_s)
    return queue_report(regroup(combos, split), split, hours, last_finish, events,
                        target_s=target_s, categories=categories)
