"""Rows for a report: the hub's day records and the dossiers of an office and a period,
read with indexed queries, then handed to the pure figure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.engine import Engine

from appliance.store.calendar import WorkCalendar
from appliance.store.reports.dossier_figures import DossierReport
from appliance.store.reports.dossier_sql import load_dossiers
from appliance.store.reports.periods import Period
from appliance.store.reports.queue import DEFAULT_TARGET_S, QueueReport
from appliance.store.reports.queue_sql import load_queue

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


def build_report(engine: Engine, cal: WorkCalendar, office: str | None, p: Period, *,
                 now: datetime, target_s: float = DEFAULT_TARGET_S) -> Report:
    queue = load_queue(engine, office, p.first.isoformat(), p.last.isoformat(),
                       target_s=target_s)
    t0, t1 = bounds(p, cal)
    return Report(period=p, office=office, queue=queue,
                  dossiers=load_dossiers(engine, cal, office, p, t0, t1, int(now.timestamp())))
