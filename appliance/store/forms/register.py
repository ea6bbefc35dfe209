"""Mẫu 06: Phiếu kiểm soát quá trình giải quyết hồ sơ (every hand-over with its deadline,
result and signature columns) and Mẫu 07: Sổ theo dõi hồ sơ for a period (PDF and XLSX)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from sqlalchemy import select

from appliance.clock import parse_rfc3339
from appliance.store.calendar import timing
from appliance.store.dossiers import Dossiers, ep
from appliance.store.forms.base import new_form, vn_date, vn_time
from appliance.store.forms.context import FormContext
from appliance.store.offices import Office
from appliance.store.schema import dossiers, procedures
from appliance.store.stages import LABELS

RESULTS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn",
           "not_yet_due": "Trong hạn"}


def _short(t: datetime) -> str:
    return t.strftime("%H:%M %d/%m/%Y")


def control_pdf(ctx: FormContext) -> bytes:
    d = ctx.dossier
    pdf = new_form("Phiếu kiểm soát quá trình giải quyết hồ sơ")
    pdf.add_page()
    pdf.heading(ctx.office, ctx.now)
    pdf.title_block("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", f"Mã hồ sơ: {d['code']}")
    pdf.line_text(f"Cơ quan (bộ phận) giải quyết hồ sơ: {ctx.office.name}")
    pdf.line_text(f"Người nộp: {d['applicant_name']}; thủ tục: {d['procedure']['name']}")
    pdf.line_text(f"Thời gian nhận hồ sơ: {vn_time(ctx.at('received_at'))}")
    pdf.line_text(f"Thời gian trả kết quả: {vn_time(ctx.at('due_at'))}")
    rows = []
    hist = d.get("history", [])
    for prev, h in zip([None, *hist], hist, strict=False):
        handed_by = ctx.name_of(h.get("by", ""))
        to = ctx.name_of(h["to"]) if h.get("to") else (h.get("to_unit") or LABELS[h["stage"]])
        due = _short(parse_rfc3339(h["due_at"])) if h.get("due_at") else ""
        at = parse_rfc3339(h["at"])
        result = RESULTS.get(h.get("result") or "", "")
        if not result and h.get("due_at") and prev is not None:
            result = "Đúng hạn" if at <= parse_rfc3339(h["due_at"]) else "Quá hạn"
        rows.append([f"Giao: {handed_by}\nNhận: {to}", _short(at), due, result,
                     h.get("note", ""), ""])
    pdf.set_font("serif", "", 10)
    pdf.grid(["Tên cơ quan, người giao và nhận", "Thời gian giao, nhận", "Hạn xử lý bước",
               "Kết quả (trước / đúng / quá hạn)", "Ghi chú", "Ký nhận"],
              [45, 26, 26, 24, 34, 20], rows, size=9.5)
    return pdf.output_bytes()


BOOK_HEADER = ["STT", "Mã hồ sơ", "Tên thủ tục", "Người nộp", "Địa chỉ, điện thoại",
               "Ngày nhận", "Ngày hẹn trả", "Chuyển xử lý", "Ngày có kết quả", "Trạng thái",
               "Ngày trả", "Ký nhận"]


def book_rows(ds: Dossiers, office: str, t0: datetime, t1: datetime) -> list[list[str]]:
    d = dossiers.c
    q = (select(d.code, d.book_entry, d.applicant_name, d.applicant_address, d.applicant_phone,
                d.received_at, d.due_at, d.holder, d.ready_at, d.finished_at, d.stage,
                procedures.c.name)
         .join(procedures, procedures.c.code == d.procedure_code)
         .where(d.office == office, d.received_at >= ep(t0), d.received_at < ep(t1))
         .order_by(d.received_at, d.id))
    out = []
    now = ds.clock.now()
    with ds.reader.connect() as conn:
        for i, r in enumerate(conn.execute(q).mappings(), 1):
            due = ds._dt(r["due_at"])
            ready = ds._dt(r["ready_at"]) if r["ready_at"] else None
            state = LABELS[r["stage"]]
            if ready is not None:
                state += f" ({RESULTS[timing(due, ready, now, ds.cal)]})"
            out.append([str(r["book_entry"] or i), r["code"], r["name"], r["applicant_name"],
                        ", ".join(x for x in (r["applicant_address"], r["applicant_phone"]) if x),
                        _short(ds._dt(r["received_at"])), _short(due), r["holder"],
                        _short(ready) if ready else "",
                        state,
                        _short(ds._dt(r["finished_at"])) if r["finished_at"]
                        and r["stage"] == "returned" else "", ""])
    return out


def book_pdf(office: Office, rows: list[list[str]], t0: datetime, t1: datetime,
             now: datetime) -> bytes:
    pdf = new_form("Sổ theo dõi hồ sơ", orientation="L")
    pdf.add_page()
    pdf.heading(office, now)
    pdf.title_block("SỔ THEO DÕI HỒ SƠ", f"Từ {vn_date(t0)} đến {vn_date(t1)}")
    pdf.grid(BOOK_HEADER, [9, 38, 38, 24, 28, 18, 18, 20, 18, 24, 18, 9],
              rows or [[""] * len(BOOK_HEADER)], size=7.5)
    return pdf.output_bytes()


def book_xlsx(office: Office, rows: list[list[Any]], t0: datetime, t1: datetime) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "So theo doi ho so"
    ws.append([office.name])
    ws.append([f"SỔ THEO DÕI HỒ SƠ từ {vn_date(t0)} đến {vn_date(t1)}"])
    ws.append(BOOK_HEADER)
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for r in rows:
        ws.append(r)
    for col, width in zip("ABCDEFGHIJKL", [6, 28, 40, 24, 30, 17, 17, 20, 17, 26, 17, 10],
                          strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
