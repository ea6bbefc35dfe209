"""Dossier figures over rows of the store's dossiers and dossier_history: pure functions.

Of a period: received (at the counter, online, by post); finished early / on time / late
(reached ``ready`` or ``returned`` in the period, judged against the appointment date as
the desk does); refused, stopped, withdrawn (ended in the period); the supplements asked
and the dossiers passed on (liên thông) in the period, from the history. At the period's
end (or now, if sooner): open and not yet due / overdue, awaiting a supplement, paused
(the clock stopped). Quyết định 766/QĐ-TTg: on-time rate = (early + on time) / finished;
the share received online; the share digitised is not recorded by this store (None).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appliance.store.calendar import WorkCalendar, timing
from appliance.store.stages import OPEN

Row = Mapping[str, Any]
COUNTS = ("received", "received_counter", "received_online", "received_post", "early",
          "on_time", "late", "open_not_due", "open_overdue", "awaiting_supplement", "paused",
          "supplement_asked", "passed_on", "refused", "stopped", "withdrawn", "returned_post")


@dataclass
class DossierFigures:
    key: str = ""
    name: str = ""
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))

    @property
    def finished(self) -> int:
        return self.counts["early"] + self.counts["on_time"] + self.counts["late"]

    @property
    def on_time_rate(self) -> float | None:
        done = self.finished
        return (self.counts["early"] + self.counts["on_time"]) / done if done else None

    @property
    def online_share(self) -> float | None:
        r = self.counts["received"]
        return self.counts["received_online"] / r if r else None


@dataclass
class DossierReport:
    total: DossierFigures
    groups: dict[str, list[DossierFigures]]  # "procedure" / "sector" → rows
    on_time_by_month: list[tuple[str, DossierFigures]]
    digitised_share: float | None = None  # not recorded by this store


def _dt(epoch: int, cal: WorkCalendar) -> datetime:
    return cal.local(datetime.fromtimestamp(epoch, tz=cal.tz))  # type: ignore[arg-type]


def _classify(d: Row, hist: list[Row], t0: int, t1: int, now: int,
              cal: WorkCalendar) -> tuple[list[str], str | None]:
    """The counts a dossier adds, and the month (YYYY-MM) it finished in, if it did."""
    out: list[str] = []
    month = None
    if t0 <= d["received_at"] < t1:
        out += ["received", f"received_{d['channel']}"]
    done = d["ready_at"] if d["stage"] in ("ready", "returned") else None
    if done is not None and t0 <= done < t1:
        out.append(timing(_dt(d["due_at"], cal), _dt(done, cal), _dt(now, cal), cal))
        month = _dt(done, cal).strftime("%Y-%m")
    fin = d["finished_at"]
    if fin is not None and t0 <= fin < t1:
        if d["stage"] in ("refused", "stopped", "withdrawn"):
            out.append(d["stage"])
        elif d["stage"] == "returned" and d["return_method"] == "post":
            out.append("returned_post")
    end = min(now, t1)
    if d["received_at"] < end and d["stage"] in OPEN:
        out.append("open_overdue" if d["due_at"] < end else "open_not_due")
        if d["stage"] == "awaiting_supplement":
            out.append("awaiting_supplement")
        if d["paused_since"] is not None:
            out.append("paused")
    for h in hist:
        if t0 <= h["at"] < t1:
            if h["stage"] == "awaiting_supplement":
                out.append("supplement_asked")
            elif h["stage"] == "liaison":
                out.append("passed_on")
    return out, month


def dossier_report(rows: Iterable[Row], history: Iterable[Row], *, t0: int, t1: int,
                   now: int, cal: WorkCalendar) -> DossierReport:
    """``rows``: dossiers joined with their procedure (``procedure_name``, ``sector``);
    ``history``: their history rows; the period is [t0, t1) in epoch seconds."""
    by_dossier: dict[int, list[Row]] = {}
    for h in history:
        by_dossier.setdefault(h["dossier_id"], []).append(h)
    total = DossierFigures()
    groups: dict[str, dict[str, DossierFigures]] = {"procedure": {}, "sector": {}}
    months: dict[str, DossierFigures] = {}
    for d in rows:
        adds, month = _classify(d, by_dossier.get(d["id"], []), t0, t1, now, cal)
        if not adds:
            continue
        targets = [total,
                   groups["procedure"].setdefault(d["procedure_code"], DossierFigures(
                       d["procedure_code"], d.get("procedure_name") or "")),
                   groups["sector"].setdefault(d.get("sector") or "", DossierFigures(
                       d.get("sector") or "", d.get("sector") or ""))]
        for f in targets:
            for name in adds:
                f.counts[name] += 1
        if month is not None:  # a month's row counts only what finished in it
            m = months.setdefault(month, DossierFigures(month, month))
            for name in adds:
                if name in ("early", "on_time", "late"):
                    m.counts[name] += 1
    return DossierReport(
        total=total,
        groups={g: sorted(v.values(), key=lambda f: f.key) for g, v in groups.items()},
        on_time_by_month=sorted(months.items()))


DOSSIER_COLUMNS: list[tuple[str, str, str]] = [
    ("received", "Tiếp nhận", "Received"),
    ("received_counter", "Tại quầy", "At the counter"),
    ("received_online", "Trực tuyến", "Online"),
    ("received_post", "Qua bưu chính", "By post"),
    ("early", "Trước hạn", "Early"),
    ("on_time", "Đúng hạn", "On time"),
    ("late", "Quá hạn", "Late"),
    ("open_not_due", "Đang giải quyết: trong hạn", "Open: not yet due"),
    ("open_overdue", "Đang giải quyết: quá hạn", "Open: overdue"),
    ("awaiting_supplement", "Chờ bổ sung", "Awaiting supplement"),
    ("paused", "Tạm dừng", "Paused"),
    ("passed_on", "Liên thông", "Passed on"),
    ("refused", "Từ chối", "Refused"),
    ("stopped", "Dừng giải quyết", "Stopped"),
    ("withdrawn", "Rút hồ sơ", "Withdrawn"),
    ("returned_post", "Trả qua bưu chính", "Returned by post"),
]
