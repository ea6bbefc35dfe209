"""A day's queue figures kept beside its tickets: per (office, day, service, counter,
officer) the counts and sums the reports add up, the waits of its called and of its
served tickets (seconds, "," separated: the reports' percentile and service level stay
exact), the tickets issued per hour, and those issued and served per priority category.

Rebuilt, not patched: whenever a batch of an office's records is stored, each day it
touched is summed again from its tickets in the same transaction (a day is some 300
rows of one index range), so a ticket that changes state, arrives twice or out of order
can never leave the summary off by one. Voided tickets count nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, and_, case, cast, delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from appliance.store.schema import (
    queue_day_categories,
    queue_day_hours,
    queue_day_summary,
    queue_tickets,
)

T = queue_tickets.c
RATINGS = ("very_satisfied", "satisfied", "unsatisfied")


def count_if(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def sum_if(cond: ColumnElement[bool], value: Any) -> Any:
    return func.coalesce(func.sum(case((cond, value), else_=0)), 0)


def _joined(dialect: str, value: Any) -> Any:
    """The non-null ``value``s of a group, "," separated."""
    if dialect == "postgresql":
        return func.string_agg(cast(value, String), ",")
    return func.group_concat(value, ",")


def _sums(dialect: str) -> list[Any]:
    """The summary's columns, as the reports define them (docs/reports.md)."""
    served = T.state == "finished"
    timed = and_(served, T.called_at.isnot(None), T.finished_at.isnot(None))
    at_counter = and_(T.counter.isnot(None), T.called_at.isnot(None),
                      T.finished_at.isnot(None))
    return [
        func.count().label("issued"), count_if(served).label("served"),
        count_if(T.state == "no_show").label("no_show"),
        count_if(T.state == "expired").label("expired"),
        sum_if(T.first_called_at.isnot(None), T.first_called_at - T.issued_at)
        .label("wait_sum"),
        sum_if(timed, T.finished_at - T.called_at).label("service_sum"),
        count_if(timed).label("service_n"),
        sum_if(at_counter, T.finished_at - T.called_at).label("busy"),
        *[count_if(T.rating == r).label(r) for r in RATINGS],
        func.max(case((at_counter, T.finished_at), else_=None)).label("last_finish"),
        _joined(dialect, case((T.first_called_at.isnot(None), T.first_called_at - T.issued_at),
                              else_=None)).label("waits"),
        _joined(dialect, case((and_(served, T.first_called_at.isnot(None)),
                               T.first_called_at - T.issued_at), else_=None))
        .label("served_waits"),
    ]


def rebuild_days(conn: Connection, office: str, days: Iterable[str]) -> None:
    """Sum the ``days`` of ``office`` again from their tickets (inside the caller's
    transaction)."""
    for day in sorted(set(days)):
        mine = [T.office == office, T.day == day, T.state != "voided"]
        S, H, C = queue_day_summary.c, queue_day_hours.c, queue_day_categories.c
        conn.execute(delete(queue_day_summary).where(S.office == office, S.day == day))
        conn.execute(delete(queue_day_hours).where(H.office == office, H.day == day))
        conn.execute(delete(queue_day_categories).where(C.office == office, C.day == day))
        keys = [T.office, T.day, T.service, T.counter, T.officer]
        sums = _sums(conn.dialect.name)
        conn.execute(queue_day_summary.insert().from_select(
            [*(k.name for k in keys), *(c.name for c in sums)],
            select(*keys, *sums).where(*mine).group_by(*keys)))
        conn.execute(queue_day_hours.insert().from_select(
            ["office", "day", "hour", "issued"],
            select(T.office, T.day, T.issued_hour, func.count()).where(*mine)
            .group_by(T.office, T.day, T.issued_hour)))
        conn.execute(queue_day_categories.insert().from_select(
            ["office", "day", "category", "issued", "served"],
            select(T.office, T.day, T.category, func.count(), count_if(T.state == "finished"))
            .where(*mine, T.category.isnot(None)).group_by(T.office, T.day, T.category)))
