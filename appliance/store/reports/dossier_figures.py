"""Dossier figures from aggregate rows of the store's dossiers and dossier_history (counted
by the database, see ``dossier_sql``): pure functions.

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
from typing import Any

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


def dossier_report(procedure_rows: Iterable[Row], step_rows: Iterable[Row],
                   month_rows: Iterable[Row]) -> DossierReport:
    """The figures from aggregate rows (``dossier_sql``): per procedure (``procedure_code``,
    ``procedure_name``, ``sector`` and a count per name of ``COUNTS``), the history steps
    per procedure (``procedure_code``, ``stage``, ``n``), the results per month
    (``month``, ``early``, ``on_time``, ``late``)."""
    procs: dict[str, DossierFigures] = {}
    sector_of: dict[str, str] = {}
    for r in procedure_rows:
        f = procs.setdefault(r["procedure_code"], DossierFigures(
            r["procedure_code"], r.get("procedure_name") or ""))
        sector_of[f.key] = r.get("sector") or ""
        for name in COUNTS:
            f.counts[name] += int(r.get(name) or 0)
    for r in step_rows:
        f = procs.setdefault(r["procedure_code"], DossierFigures(r["procedure_code"],
                                                                 r.get("procedure_name") or ""))
        sector_of.setdefault(f.key, r.get("sector") or "")
        name = "supplement_asked" if r["stage"] == "awaiting_supplement" else "passed_on"
        f.counts[name] += int(r["n"])
    # a group with nothing to count (a dossier changed since, a summary row gone to 0) is
    # no row of the report: the raw and the summed figures then list the same groups
    procs = {k: f for k, f in procs.items() if any(f.counts.values())}
    total = DossierFigures()
    sectors: dict[str, DossierFigures] = {}
    for f in procs.values():
        sec = sector_of.get(f.key, "")
        for target in (total, sectors.setdefault(sec, DossierFigures(sec, sec))):
            for name in COUNTS:
                target.counts[name] += f.counts[name]
    months = []
    for r in month_rows:
        m = DossierFigures(r["month"], r["month"])
        for name in ("early", "on_time", "late"):
            m.counts[name] = int(r[name] or 0)
        if m.finished:
            months.append((r["month"], m))
    return DossierReport(
        total=total,
        groups={"procedure": sorted(procs.values(), key=lambda f: f.key),
                "sector": sorted(sectors.values(), key=lambda f: f.key)},
        on_time_by_month=sorted(months, key=lambda m: m[0]))


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
