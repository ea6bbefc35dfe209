"""The monthly report on A4 (landscape), printable: the office's heading, the 766 figures,
then the queue, satisfaction and dossier tables. fpdf2 with the forms' Noto fonts
(appliance/store/forms), so every diacritic prints and pdftotext reads it back."""

from __future__ import annotations

from datetime import date, datetime, time

from appliance.store.forms.base import new_form, vn_date
from appliance.store.offices import Office
from appliance.store.reports.load import Report
from appliance.store.reports.tables import Table, report_tables

PDF_TABLES = ("summary", "queue_service", "queue_counter", "queue_officer",
              "satisfaction_officer", "dossiers_sector", "on_time_month")


def _day(d: date) -> datetime:
    return datetime.combine(d, time(0))


def monthly_pdf(rep: Report, office: Office, now: datetime) -> bytes:
    pdf = new_form("Báo cáo tháng", orientation="L")
    pdf.add_page()
    pdf.heading(office, now)
    p = rep.period
    pdf.title_block(f"BÁO CÁO KẾT QUẢ TIẾP NHẬN VÀ GIẢI QUYẾT THÁNG {p.first.month:02d}/"
                    f"{p.first.year}", f"Từ {vn_date(_day(p.first))} đến {vn_date(_day(p.last))}")
    tables = {t.key: t for t in report_tables(rep)}
    full = pdf.w - pdf.l_margin - pdf.r_margin
    for key in PDF_TABLES:
        t: Table = tables[key]
        if len(t.rows) <= 1 and key not in ("summary", "queue_service"):
            continue
        if pdf.get_y() > pdf.h - 45:
            pdf.add_page()
        pdf.line_text(t.name(vi=True), "B", 12)
        heads = t.heads(vi=True)
        first = min(70.0, full * 0.3) if len(heads) > 2 else full * 0.6
        rest = (full - first) / max(1, len(heads) - 1)
        size = 9 if len(heads) > 8 else 10
        pdf.grid(heads, [first, *[rest] * (len(heads) - 1)],
                 t.shown(),
                 size=size)
        pdf.ln(2)
    pdf.signatures(None, ("THỦ TRƯỞNG ĐƠN VỊ", "(Ký, ghi rõ họ tên)", ""))
    return pdf.output_bytes()
