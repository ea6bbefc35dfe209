"""The day's figures, read from the hub's own records (not from anyone's say-so)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from appliance.i18n import tr


@dataclass
class ServiceFigures:
    issued: int = 0
    served: int = 0
    no_shows: int = 0
    waiting_or_open: int = 0
    waits_s: list[float] = field(default_factory=list)
    service_s: list[float] = field(default_factory=list)

    @staticmethod
    def _mean(xs: list[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    @property
    def avg_wait_s(self) -> float | None:
        return self._mean(self.waits_s)

    @property
    def p90_wait_s(self) -> float | None:
        if not self.waits_s:
            return None
        ordered = sorted(self.waits_s)
        return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]

    @property
    def avg_service_s(self) -> float | None:
        return self._mean(self.service_s)


@dataclass
class DayReport:
    day: str
    services: dict[str, ServiceFigures]
    ratings: dict[str, dict[str, int]]  # counter -> rating -> count

    @property
    def total(self) -> ServiceFigures:
        t = ServiceFigures()
        for f in self.services.values():
            t.issued += f.issued
            t.served += f.served
            t.no_shows += f.no_shows
            t.waiting_or_open += f.waiting_or_open
            t.waits_s += f.waits_s
            t.service_s += f.service_s
        return t


def day_report(db_path: Path, day: str) -> DayReport:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT service, state, issued_at, first_called_at, called_at, finished_at, "
            "counter, rating FROM tickets WHERE day = ? AND state != 'voided'", (day,)
        ).fetchall()
    finally:
        db.close()
    services: dict[str, ServiceFigures] = {}
    ratings: dict[str, dict[str, int]] = {}
    for service, state, issued, first_called, called, finished, counter, rating in rows:
        f = services.setdefault(service, ServiceFigures())
        f.issued += 1
        if first_called:
            f.waits_s.append((datetime.fromisoformat(first_called)
                              - datetime.fromisoformat(issued)).total_seconds())
        if state == "finished":
            f.served += 1
            if called and finished:
                f.service_s.append((datetime.fromisoformat(finished)
                                    - datetime.fromisoformat(called)).total_seconds())
        elif state == "no_show":
            f.no_shows += 1
        elif state in ("waiting", "serving", "parked"):
            f.waiting_or_open += 1
        if rating and counter:
            per = ratings.setdefault(counter, {})
            per[rating] = per.get(rating, 0) + 1
    return DayReport(day=day, services=dict(sorted(services.items())), ratings=ratings)


def _m(v: float | None) -> str:
    if v is None:
        return "-"
    minutes = f"{v / 60:.1f}"
    return tr(f"{minutes.replace('.', ',')} phút", f"{minutes} min")  # 1,5 phút in Vietnamese


def format_report(report: DayReport, names: dict[str, str]) -> str:
    lines = [tr(f"Ngày {report.day}  (theo số liệu của hub)",
                f"Day {report.day}  (from the hub's records)"),
             tr(f"{'dịch vụ':<28}{'cấp số':>7}{'xong':>7}{'vắng':>8}{'còn':>6}"
                f"{'chờ TB':>11}{'chờ p90':>11}{'phục vụ TB':>13}",
                f"{'service':<28}{'issued':>7}{'served':>7}{'no-show':>8}{'open':>6}"
                f"{'avg wait':>11}{'p90 wait':>11}{'avg service':>13}")]
    rows = [*report.services.items(), ("all", report.total)]
    for sid, f in rows:
        label = f"{sid} {names.get(sid, '')}".strip() if sid != "all" else tr("Tổng", "Total")
        lines.append(f"{label[:27]:<28}{f.issued:>7}{f.served:>7}{f.no_shows:>8}"
                     f"{f.waiting_or_open:>6}{_m(f.avg_wait_s):>11}{_m(f.p90_wait_s):>11}"
                     f"{_m(f.avg_service_s):>13}")
    if report.ratings:
        lines.append(tr("Đánh giá (rất hài lòng / hài lòng / không hài lòng):",
                        "Satisfaction (very satisfied / satisfied / unsatisfied):"))
        for counter, per in sorted(report.ratings.items()):
            lines.append(tr("  Quầy ", "  Counter ") + f"{counter}: "
                         f"{per.get('very_satisfied', 0)} / {per.get('satisfied', 0)} / "
                         f"{per.get('unsatisfied', 0)}")
    return "\n".join(lines)
