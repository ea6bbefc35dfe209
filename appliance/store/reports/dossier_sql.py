"""The database's share of the dossier figures.

``load_dossiers`` (what the reports use): the day summaries (``dossier_summary``, kept by
triggers) summed over the period per procedure and measure, and per month; the dossiers
still open at the period's end (a state at one moment, not a count of days) counted live
over the open ones only (the (office, stage, due) index).

``load_dossiers_raw``: the same figures from the raw rows — one GROUP BY procedure over the
office's dossiers touching the period, one over the history's steps in it, one per month
of the results, counted with CASE expressions that mean what ``dossier_figures`` says. It
is the definition the summaries are checked against (tests/test_reports_dossier_summary.py).

Early / on time / late is the desk's rule (appliance/store/calendar.timing): early when
the result's local date is before the appointment's, else on time when not after it. The
local date is whole days of (epoch + the office's UTC offset): Vietnam keeps no summer
time, so one offset holds for every date."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from appliance.store.calendar import WorkCalendar
from appliance.store.reports.dossier_figures import DossierReport, dossier_report
from appliance.store.reports.periods import Period
from appliance.store.schema import (
    dossier_day_summary,
    dossier_month_summary,
    dossiers,
    history,
    procedures,
)
from appliance.store.stages import OPEN

D = dossiers.c
_STEPS = ("awaiting_supplement", "liaison")


def _n(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _counts(t0: int, t1: int, end: int, offset: int) -> list[Any]:
    received = and_(D.received_at >= t0, D.received_at < t1)
    done = and_(D.stage.in_(["ready", "returned"]), D.ready_at >= t0, D.ready_at < t1)
    early = and_(done, (D.ready_at + offset) // 86400 < (D.due_at + offset) // 86400)
    ended = and_(D.finished_at >= t0, D.finished_at < t1)
    is_open = and_(D.received_at < end, D.stage.in_(sorted(OPEN)))
    return [
        _n(received).label("received"),
        *[_n(and_(received, D.channel == ch)).label(f"received_{ch}")
          for ch in ("counter", "online", "post")],
        _n(early).label("early"),
        _n(and_(done, ~early, D.ready_at <= D.due_at)).label("on_time"),
        _n(and_(done, ~early, D.ready_at > D.due_at)).label("late"),
        _n(and_(is_open, D.due_at >= end)).label("open_not_due"),
        _n(and_(is_open, D.due_at < end)).label("open_overdue"),
        _n(and_(is_open, D.stage == "awaiting_supplement")).label("awaiting_supplement"),
        _n(and_(is_open, D.paused_since.isnot(None))).label("paused"),
        *[_n(and_(ended, D.stage == s)).label(s) for s in ("refused", "stopped", "withdrawn")],
        _n(and_(ended, D.stage == "returned", D.return_method == "post")).label("returned_post"),
    ]


def _months(p: Period, cal: WorkCalendar) -> list[tuple[str, int, int]]:
    out = []
    for m in p.months():
        nxt = (m + timedelta(days=32)).replace(day=1)
        a = datetime(m.year, m.month, 1, tzinfo=cal.tz)  # type: ignore[arg-type]
        b = datetime(nxt.year, nxt.month, 1, tzinfo=cal.tz)  # type: ignore[arg-type]
        out.append((f"{m:%Y-%m}", int(a.timestamp()), int(b.timestamp())))
    return out


def load_dossiers_raw(engine: Engine, cal: WorkCalendar, office: str | None, p: Period,
                  t0: int, t1: int, now: int) -> DossierReport:
    mine = [D.office == office] if office is not None else []
    end = min(now, t1)
    utc = datetime.fromtimestamp(end, tz=cal.tz).utcoffset()  # type: ignore[arg-type]
    offset = int(utc.total_seconds()) if utc else 0
    touching = or_(and_(D.received_at >= t0, D.received_at < t1),
                   and_(D.ready_at >= t0, D.ready_at < t1),
                   and_(D.finished_at >= t0, D.finished_at < t1),
                   and_(D.stage.in_(sorted(OPEN)), D.received_at < t1))
    P = procedures.c
    months = _months(p, cal)
    month = case(*[(and_(D.ready_at >= a, D.ready_at < b), literal(label))
                   for label, a, b in months], else_=literal(""))
    done = and_(D.stage.in_(["ready", "returned"]), D.ready_at >= t0, D.ready_at < t1)
    early = (D.ready_at + offset) // 86400 < (D.due_at + offset) // 86400
    with engine.connect() as conn:
        per_proc = [dict(r) for r in conn.execute(
            select(D.procedure_code, P.name.label("procedure_name"), P.sector,
                   *_counts(t0, t1, end, offset))
            .join(procedures, P.code == D.procedure_code)
            .where(*mine, touching).group_by(D.procedure_code, P.name, P.sector)).mappings()]
        H = history.c
        steps = [dict(r) for r in conn.execute(
            select(D.procedure_code, P.name.label("procedure_name"), P.sector, H.stage,
                   func.count().label("n"))
            .select_from(history.join(dossiers, D.id == H.dossier_id)
                         .join(procedures, P.code == D.procedure_code))
            .where(*mine, H.at >= t0, H.at < t1, H.stage.in_(_STEPS))
            .group_by(D.procedure_code, P.name, P.sector, H.stage)).mappings()]
        per_month = [dict(r) for r in conn.execute(
            select(month.label("month"), _n(early).label("early"),
                   _n(and_(~early, D.ready_at <= D.due_at)).label("on_time"),
                   _n(and_(~early, D.ready_at > D.due_at)).label("late"))
            .where(*mine, done).group_by(month)).mappings()]
    return dossier_report(per_proc, steps, per_month)


def whole_months(first: date, last: date) -> tuple[tuple[str, str] | None,
                                                 list[tuple[str, str]]]:
    """[first, last] as its whole months ('YYYY-MM' from, to; None if none) and the days
    outside them (ISO ranges, inclusive)."""
    m0 = first if first.day == 1 else (first.replace(day=1) + timedelta(days=32)).replace(day=1)
    after = last + timedelta(days=1)
    m1 = after if after.day == 1 else after.replace(day=1)  # the day after the whole months
    if m0 >= m1:
        return None, [(first.isoformat(), last.isoformat())]
    edges = [(a, b) for a, b in ((first, m0 - timedelta(days=1)), (m1, last)) if a <= b]
    return ((f"{m0:%Y-%m}", f"{m1 - timedelta(days=1):%Y-%m}"),
            [(a.isoformat(), b.isoformat()) for a, b in edges])


def load_dossiers(engine: Engine, cal: WorkCalendar, office: str | None, p: Period,
                  t0: int, t1: int, now: int) -> DossierReport:
    months, edges = whole_months(p.first, p.last)
    parts = [(dossier_month_summary.c, "month", *months)] if months else []
    parts += [(dossier_day_summary.c, "day", a, b) for a, b in edges]
    by_proc: dict[str, dict[str, Any]] = {}
    per_month: dict[str, dict[str, Any]] = {}
    end = min(now, t1)
    P = procedures.c
    with engine.connect() as conn:
        for c, col, lo, hi in parts:
            where = [c[col] >= lo, c[col] <= hi, *([c.office == office] if office else [])]
            for code, channel, measure, n in conn.execute(
                    select(c.procedure_code, c.channel, c.measure, func.sum(c.n))
                    .where(*where).group_by(c.procedure_code, c.channel, c.measure)):
                row = by_proc.setdefault(code, {"procedure_code": code})
                # the summary's measures are the figures' names; received also per channel
                names = [measure, f"received_{channel}"] if measure == "received" else [measure]
                for key in names:
                    row[key] = row.get(key, 0) + int(n)
            month = c.month if col == "month" else func.substr(c.day, 1, 7)
            for m, measure, n in conn.execute(
                    select(month, c.measure, func.sum(c.n))
                    .where(*where, c.measure.in_(["early", "on_time", "late"]))
                    .group_by(month, c.measure)):
                acc = per_month.setdefault(m, {"month": m, "early": 0, "on_time": 0, "late": 0})
                acc[measure] += int(n)
        mine = [D.office == office] if office is not None else []
        open_rows = [dict(r) for r in conn.execute(
            select(D.procedure_code,
                   _n(D.due_at >= end).label("open_not_due"),
                   _n(D.due_at < end).label("open_overdue"),
                   _n(D.stage == "awaiting_supplement").label("awaiting_supplement"),
                   _n(D.paused_since.isnot(None)).label("paused"))
            .where(*mine, D.stage.in_(sorted(OPEN)), D.received_at < end)
            .group_by(D.procedure_code)
            # the open ones by stage, not every dossier by its receipt (SQLite's planner
            # takes the receipt index when not told: a year of dossiers instead of the open)
            .with_hint(dossiers, "INDEXED BY ix_dossiers_office_stage_due" if office else
                       "INDEXED BY ix_dossiers_stage_ready", "sqlite")).mappings()]
        codes = {r["procedure_code"] for r in open_rows} | set(by_proc)
        known = {code: (name, sector) for code, name, sector in conn.execute(
            select(P.code, P.name, P.sector).where(P.code.in_(sorted(codes))))} if codes else {}
    rows = []
    for r in [*by_proc.values(), *open_rows]:
        if r["procedure_code"] in known:  # as the raw figures' join: a known procedure
            name, sector = known[r["procedure_code"]]
            rows.append({**r, "procedure_name": name, "sector": sector})
    return dossier_report(rows, [], per_month.values())
