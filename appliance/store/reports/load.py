"""Rows for a report: the hub's day records and the dossiers of an office and a period,
read with indexed queries, then handed to the pure figure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Engine

from appliance.store.calendar import WorkCalendar
from appliance.store.records import QueueRecords
from appliance.store.reports.dossier_figures import DossierReport, dossier_report
from appliance.store.reports.periods import Period
from appliance.store.reports.queue import DEFAULT_TARGET_S, QueueReport, queue_report
from appliance.store.schema import dossiers, history, procedures
from appliance.store.stages import OPEN

_COUNTED_STEPS = ("awaiting_supplement", "liaison")


@dataclass
class Report:
    period: Period
    office: str | None  # None: every office of the store (the province)
    queue: QueueReport
    dossiers: DossierReport


def bounds(p: Period, cal: WorkCalendar) -> tuple[int, int]:
    """[start, end) of the period in epoch seconds, in the office's time zone."""
    t0 = datetime.combine(p.first, time(0), cal.tz)  # type: ignore[arg-type]
    t1 = datetime.combine(p.last + timedelta(days=1), time(0), cal.tz)  # type: ignore[arg-type]
    return int(t0.timestamp()), int(t1.timestamp())


def dossier_rows(engine: Engine, office: str | None, t0: int, t1: int
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Dossiers that received, finished or were open in [t0, t1), or had a supplement
    asked or were passed on in it; and those history rows."""
    d, h = dossiers.c, history.c
    mine = [d.office == office] if office is not None else []
    steps = (select(h.dossier_id, h.at, h.stage).join(dossiers, d.id == h.dossier_id)
             .where(h.at >= t0, h.at < t1, h.stage.in_(_COUNTED_STEPS), *mine))
    with engine.connect() as conn:
        hist = [dict(r) for r in conn.execute(steps).mappings()]
        stepped = select(history.c.dossier_id).where(
            h.at >= t0, h.at < t1, h.stage.in_(_COUNTED_STEPS))
        q = (select(d.id, d.procedure_code, d.channel, d.stage, d.received_at, d.due_at,
                    d.ready_at, d.finished_at, d.paused_since, d.return_method,
                    procedures.c.name.label("procedure_name"), procedures.c.sector)
             .join(procedures, procedures.c.code == d.procedure_code)
             .where(*mine, or_(
                 and_(d.received_at >= t0, d.received_at < t1),
                 and_(d.ready_at >= t0, d.ready_at < t1),
                 and_(d.finished_at >= t0, d.finished_at < t1),
                 and_(d.stage.in_(sorted(OPEN)), d.received_at < t1),
                 d.id.in_(stepped))))
        rows = [dict(r) for r in conn.execute(q).mappings()]
    return rows, hist


def build_report(engine: Engine, cal: WorkCalendar, office: str | None, p: Period, *,
                 now: datetime, target_s: float = DEFAULT_TARGET_S) -> Report:
    records = QueueRecords(engine)
    first, last = p.first.isoformat(), p.last.isoformat()
    queue = queue_report(records.tickets(office, first, last),
                         records.counter_events(office, first, last), target_s=target_s)
    t0, t1 = bounds(p, cal)
    rows, hist = dossier_rows(engine, office, t0, t1)
    return Report(period=p, office=office, queue=queue,
                  dossiers=dossier_report(rows, hist, t0=t0, t1=t1,
                                          now=int(now.timestamp()), cal=cal))
