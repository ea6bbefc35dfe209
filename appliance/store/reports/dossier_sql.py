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

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from appliance.store.calendar import WorkCalendar
from appliance.store.reports.dossier_figures import DossierReport, dossier_report
from appliance.store.reports.periods import Period
from appliance.store.schema import dossier_day_summary, dossiers, history, procedures
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


def load_dossiers(engine: Engine, cal: WorkCalendar, office: str | None, p: Period,
                  t0: int, t1: int, now: int) -> DossierReport:
    S, P = dossier_day_summary.c, procedures.c
    days = [S.day >= p.first.isoformat(), S.day <= p.last.isoformat()]
    if office is not None:
        days.append(S.office == office)
    end = min(now, t1)
    by_proc: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for code, name, sector, channel, measure, n in conn.execute(
                select(S.procedure_code, P.name, P.sector, S.channel, S.measure, func.sum(S.n))
                .join(procedures, P.code == S.procedure_code).where(*days)
                .group_by(S.procedure_code, P.name, P.sector, S.channel, S.measure)):
            row = by_proc.setdefault(code, {"procedure_code": code, "procedure_name": name,
                                            "sector": sector})
            # the summary's measures are the figures' names; received also per channel
            names = [measure, f"received_{channel}"] if measure == "received" else [measure]
            for key in names:
                row[key] = row.get(key, 0) + int(n)
        month = func.substr(S.day, 1, 7)
        per_month: dict[str, dict[str, Any]] = {}
        for m, measure, n in conn.execute(
                select(month, S.measure, func.sum(S.n))
                .where(*days, S.measure.in_(["early", "on_time", "late"]))
                .group_by(month, S.measure)):
            per_month.setdefault(m, {"month": m, "early": 0, "on_time": 0, "late": 0})[
                measure] = int(n)
        mine = [D.office == office] if office is not None else []
        is_open = [*mine, D.stage.in_(sorted(OPEN)), D.received_at < end]
        open_rows = [dict(r) for r in conn.execute(
            select(D.procedure_code, P.name.label("procedure_name"), P.sector,
                   _n(D.due_at >= end).label("open_not_due"),
                   _n(D.due_at < end).label("open_overdue"),
                   _n(D.stage == "awaiting_supplement").label("awaiting_supplement"),
                   _n(D.paused_since.isnot(None)).label("paused"))
            .join(procedures, P.code == D.procedure_code)
            .where(*is_open).group_by(D.procedure_code, P.name, P.sector)).mappings()]
    return dossier_report([*by_proc.values(), *open_rows], [], per_month.values())
