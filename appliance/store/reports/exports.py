"""Exports of a report: XLSX (openpyxl, a sheet per table, Vietnamese headings, number
formats) and CSV with a UTF-8 byte-order mark (so Excel on a Vietnamese Windows PC shows
the letters right)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from appliance.store.reports.load import Report
from appliance.store.reports.tables import Format, Table, report_tables

_SHEET_BAD = re.compile(r"[\\/*?:\[\]]")  # characters a sheet's name may not hold
# minutes with one decimal, shares as "85,0 %"-style per cent numbers, whole counts
NUMBER_FORMATS: dict[Format, str] = {"int": "#,##0", "min": "0.0", "pct": '0.0" %"',
                                     "text": "@"}


def xlsx_bytes(rep: Report, office_name: str, made_at: datetime) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    bold, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDE7F0")
    for t in report_tables(rep):
        ws = wb.create_sheet(_SHEET_BAD.sub("-", t.name(vi=True))[:31])
        ws["A1"] = t.name(vi=True)
        ws["A1"].font = Font(bold=True, size=13)
        ws["A2"] = f"{office_name} — {rep.period.first:%d/%m/%Y} – {rep.period.last:%d/%m/%Y}"
        ws["A3"] = "Lập lúc"
        ws["B3"] = made_at.replace(tzinfo=None)
        ws["B3"].number_format = "dd/mm/yyyy hh:mm"
        for col, head in enumerate(t.heads(vi=True), start=1):
            cell = ws.cell(row=5, column=col, value=head)
            cell.font, cell.fill = bold, head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.column_dimensions[get_column_letter(col)].width = 28 if col == 1 else 14
        for r, row in enumerate(t.rows, start=6):
            for col, (value, fmt) in enumerate(zip(row, t.formats, strict=True), start=1):
                cell = ws.cell(row=r, column=col, value=value)
                cell.number_format = NUMBER_FORMATS[fmt]
        ws.freeze_panes = "B6"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(rep: Report, only: str | None = None) -> bytes:
    """Every table (or the one named ``only``) one after the other, ; separated as Excel
    expects where the decimal mark is a comma, with a blank line between tables."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    tables: list[Table] = [t for t in report_tables(rep) if only is None or t.key == only]
    if not tables:
        raise KeyError(only)
    for t in tables:
        w.writerow([t.name(vi=True)])
        w.writerow(t.heads(vi=True))
        for row in t.rows:
            w.writerow(["" if v is None else (f"{v}".replace(".", ",") if isinstance(v, float)
                                              else v) for v in row])
        w.writerow([])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")
