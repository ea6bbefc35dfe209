"""A report as tables: the same headings, rows and number formats for the page, the XLSX,
the CSV and the PDF. Headings carry both languages; exports are always in Vietnamese (the
office's documents), the page follows MOTCUA_LANG."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from appliance.i18n import tr
from appliance.store.reports.dossier_figures import DOSSIER_COLUMNS, DossierFigures
from appliance.store.reports.load import Report
from appliance.store.reports.queue import (
    QUEUE_COLUMNS,
    RATING_LABELS,
    SATISFACTION_COLUMNS,
    Column,
    QueueFigures,
    QueueReport,
    share,
)

Format = Literal["text", "int", "min", "pct"]
GROUP_LABELS = {"service": ("Dịch vụ", "Service"), "counter": ("Quầy", "Counter"),
                "officer": ("Cán bộ", "Officer"), "procedure": ("Thủ tục", "Procedure"),
                "sector": ("Lĩnh vực", "Sector")}
_FORMATS: dict[str, Format] = {"avg_wait": "min", "p90_wait": "min", "avg_service": "min",
                               "idle": "min", "service_level": "pct", "rated_share": "pct",
                               "satisfied_share": "pct", "on_time_rate": "pct",
                               "online_share": "pct"}


@dataclass
class Table:
    key: str
    title: tuple[str, str]  # (vi, en)
    headings: list[tuple[str, str]]
    formats: list[Format]
    rows: list[list[Any]]

    def heads(self, vi: bool = False) -> list[str]:
        return [h[0] if vi else tr(*h) for h in self.headings]

    def name(self, vi: bool = False) -> str:
        return self.title[0] if vi else tr(*self.title)

    def shown(self) -> list[list[str]]:
        """The rows as text, for the page and the PDF (Vietnamese decimal comma)."""
        return [[show(v, f) for v, f in zip(r, self.formats, strict=True)] for r in self.rows]


def show(v: Any, fmt: Format) -> str:
    if v is None:
        return "—"
    if fmt == "pct":
        return f"{v:.1f} %".replace(".", ",")
    if fmt == "min":
        return f"{v:.1f}".replace(".", ",")
    return str(v)


def _queue_table(key: str, title: tuple[str, str], group: str, cols: list[Column],
                 rows: list[QueueFigures], total: QueueFigures, target_s: float) -> Table:
    heads = [GROUP_LABELS[group], *[(vi, en) for _, vi, en, _ in cols]]
    formats: list[Format] = ["text", *[_FORMATS.get(k, "int") for k, *_ in cols]]
    body = [[f.key or "—", *[fn(f, target_s) for *_, fn in cols]] for f in rows]
    body.append([tr("Tổng", "Total"), *[fn(total, target_s) for *_, fn in cols]])
    return Table(key, title, heads, formats, body)


def _dossier_table(group: str, rows: list[DossierFigures], total: DossierFigures) -> Table:
    heads = [GROUP_LABELS[group], *[(vi, en) for _, vi, en in DOSSIER_COLUMNS],
             ("Tỷ lệ đúng hạn (%)", "On-time rate (%)")]
    counts: list[Format] = ["int"] * len(DOSSIER_COLUMNS)
    formats: list[Format] = ["text", *counts, "pct"]

    def line(f: DossierFigures, label: str) -> list[Any]:
        return [label, *[f.counts[k] for k, _, _ in DOSSIER_COLUMNS], share(f.on_time_rate)]

    body = [line(f, f"{f.key} {f.name}".strip() if f.name != f.key else f.key or "—")
            for f in rows]
    body.append(line(total, tr("Tổng", "Total")))
    return Table(f"dossiers_{group}", ("Hồ sơ theo " + GROUP_LABELS[group][0].lower(),
                                       "Dossiers by " + GROUP_LABELS[group][1].lower()),
                 heads, formats, body)


def report_tables(rep: Report) -> list[Table]:
    q, d, target = rep.queue, rep.dossiers, rep.queue.target_s
    tables = [Table("summary", ("Chỉ số theo Quyết định 766/QĐ-TTg",
                                "Quyết định 766/QĐ-TTg figures"),
                    [("Chỉ số", "Figure"), ("Giá trị (%)", "Value (%)")], ["text", "pct"], [
        [tr("Hồ sơ giải quyết đúng hạn", "Dossiers finished on time"),
         share(d.total.on_time_rate)],
        [tr("Công dân hài lòng (trong số đánh giá)", "Citizens satisfied (of those rating)"),
         share(q.total.satisfied_share)],
        [tr("Hồ sơ tiếp nhận trực tuyến", "Dossiers received online"),
         share(d.total.online_share)],
        [tr("Hồ sơ được số hoá (chưa ghi nhận)", "Dossiers digitised (not recorded)"),
         share(d.digitised_share)],
        [tr(f"Phục vụ trong {target / 60:.0f} phút", f"Served within {target / 60:.0f} min"),
         share(q.total.service_level)]])]
    for g in ("service", "counter", "officer"):
        tables.append(_queue_table(f"queue_{g}", ("Hàng đợi theo " + GROUP_LABELS[g][0].lower(),
                                                  "Queue by " + GROUP_LABELS[g][1].lower()),
                                   g, QUEUE_COLUMNS, q.groups[g], q.total, target))
    for g in ("officer", "counter", "service"):
        tables.append(_queue_table(
            f"satisfaction_{g}", ("Mức độ hài lòng theo " + GROUP_LABELS[g][0].lower(),
                                  "Satisfaction by " + GROUP_LABELS[g][1].lower()),
            g, SATISFACTION_COLUMNS, q.groups[g], q.total, target))
    tables.append(_priority_table(q))
    tables.append(Table("arrivals", ("Số phát theo giờ", "Arrivals by hour of day"),
                        [("Giờ", "Hour"), ("Số phát", "Tickets")], ["text", "int"],
                        [[f"{h:02d}:00", n] for h, n in q.arrivals_by_hour.items() if n]))
    tables.append(Table("waits", ("Phân bố thời gian chờ", "Wait distribution"),
                        [("Chờ (phút)", "Wait (min)"), ("Số lượt", "Tickets")],
                        ["text", "int"], [[label, n] for label, n in q.wait_buckets]))
    for g in ("procedure", "sector"):
        tables.append(_dossier_table(g, d.groups[g], d.total))
    tables.append(Table("on_time_month", ("Tỷ lệ đúng hạn theo tháng", "On-time rate by month"),
                        [("Tháng", "Month"), ("Trước hạn", "Early"), ("Đúng hạn", "On time"),
                         ("Quá hạn", "Late"), ("Tỷ lệ đúng hạn (%)", "On-time rate (%)")],
                        ["text", "int", "int", "int", "pct"],
                        [[m, f.counts["early"], f.counts["on_time"], f.counts["late"],
                          share(f.on_time_rate)] for m, f in d.on_time_by_month]))
    return tables


def _priority_table(q: QueueReport) -> Table:
    """Tickets issued and served per priority category (ticket.issue's ``category``), each
    with its share of every ticket issued."""
    def of_issued(n: int) -> float | None:
        return share(n / q.total.issued) if q.total.issued else None

    rows: list[list[Any]] = [[c, i, s, of_issued(i)] for c, i, s in q.categories]
    issued, served = sum(i for _, i, _ in q.categories), sum(s for *_, s in q.categories)
    return Table("priority", ("Số ưu tiên theo đối tượng", "Priority tickets by category"),
                 [("Đối tượng ưu tiên", "Priority category"), ("Số phát", "Issued"),
                  ("Đã phục vụ", "Served"), ("Tỷ lệ trong số phát (%)", "Share of issued (%)")],
                 ["text", "int", "int", "pct"],
                 [*rows, [tr("Tổng", "Total"), issued, served, of_issued(issued)]])


def rating_label(key: str) -> str:
    return RATING_LABELS.get(key, key)
