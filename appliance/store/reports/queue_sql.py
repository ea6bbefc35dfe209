"""The database's share of the queue figures: counts and sums per service, counter and
officer in one GROUP BY each, arrivals per hour, the waits (one small column each), and
each counter's last finish (only of the days where a counter was left open: that is all
it is used for) — over the ``(office, day)`` index. The Python side
(``queue.queue_report``) then only sorts waits for the percentile.

The waits are the one read that grows with the tickets (the percentile is exact, so it
needs every wait): they are fetched as plain tuples through the driver's own cursor,
skipping the Row objects SQLAlchemy would build for each of a year's 70,000 tickets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from appliance.store.reports.queue import (
    RATINGS,
    QueueReport,
    days_left_open,
    queue_report,
    regroup,
)
from appliance.store.schema import queue_counter_events, queue_tickets

T = queue_tickets.c


def _n(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _sum(cond: ColumnElement[bool], value: Any) -> Any:
    return func.coalesce(func.sum(case((cond, value), else_=0)), 0)


def _aggregates(target_s: float) -> list[Any]:
    served = T.state == "finished"
    timed = and_(served, T.called_at.isnot(None), T.finished_at.isnot(None))
    at_counter = and_(T.counter.isnot(None), T.called_at.isnot(None),
                      T.finished_at.isnot(None))
    wait = T.first_called_at - T.issued_at
    return [
        func.count().label("issued"), _n(served).label("served"),
        _n(T.state == "no_show").label("no_show"), _n(T.state == "expired").label("expired"),
        _sum(T.first_called_at.isnot(None), wait).label("wait_sum"),
        _sum(timed, T.finished_at - T.called_at).label("service_sum"),
        _n(timed).label("service_n"),
        _n(and_(served, T.first_called_at.isnot(None), wait <= target_s)).label("within"),
        _sum(at_counter, T.finished_at - T.called_at).label("busy"),
        *[_n(T.rating == r).label(r) for r in RATINGS],
    ]


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
    where = [T.day >= first, T.day <= last, T.state != "voided"]
    if office is not None:
        where.append(T.office == office)
    aggs = _aggregates(target_s)
    E = queue_counter_events.c
    ev_where = [E.day >= first, E.day <= last]
    if office is not None:
        ev_where.append(E.office == office)
    with engine.connect() as conn:
        events = [dict(r) for r in conn.execute(
            select(E.day, E.seq, E.type, E.counter, E.at).where(*ev_where)).mappings()]
        # one scan: every (service, counter, officer, hour) combination, summed up below
        keys = [T.service, T.counter, T.officer, T.issued_hour]
        combos = [dict(r) for r in conn.execute(
            select(*keys, *aggs).where(*where).group_by(*keys)).mappings()]
        waits = _raw_rows(conn, select(T.service, T.counter, T.officer,
                                       T.first_called_at - T.issued_at)
                          .where(*where, T.first_called_at.isnot(None)))
        open_days = days_left_open(events)
        last_finish: list[tuple[str, str, int]] = []
        if open_days:
            last_finish = [(d, c, t) for d, c, t in conn.execute(
                select(T.day, T.counter, func.max(T.finished_at))
                .where(*where, T.day.in_(sorted(open_days)), T.counter.isnot(None),
                       T.called_at.isnot(None), T.finished_at.isnot(None))
                .group_by(T.day, T.counter))]
    groups, hours = regroup(combos)
    return queue_report(groups, waits, hours, last_finish, events, target_s=target_s)
