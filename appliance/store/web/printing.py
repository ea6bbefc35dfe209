"""Printing the forms from the desk: Mẫu 01–06 per dossier, Mẫu 07 for a period."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from appliance.i18n import tr
from appliance.store.auth import Principal
from appliance.store.core import Store
from appliance.store.errors import StoreError
from appliance.store.forms.context import FormContext
from appliance.store.web.app import Web

# form -> (module of appliance.store.forms, its function, file name). The forms (fpdf2,
# fontTools, openpyxl: some 35 MB and seconds of start on a Pi) are imported at the first
# print, not when the store starts.
FORMS: dict[str, tuple[str, str, str]] = {
    "01": ("receipt", "receipt_pdf", "giay-tiep-nhan"),
    "02": ("notices", "supplement_pdf", "phieu-yeu-cau-bo-sung"),
    "03": ("notices", "refusal_pdf", "phieu-tu-choi"),
    "04": ("notices", "apology_pdf", "phieu-xin-loi-hen-lai"),
    "05": ("notices", "stop_pdf", "phieu-dung-giai-quyet"),
    "06": ("register", "control_pdf", "phieu-kiem-soat"),
}


def form_maker(form: str) -> Callable[[FormContext], bytes]:
    module, function, _ = FORMS[form]
    make: Callable[[FormContext], bytes] = getattr(
        importlib.import_module(f"appliance.store.forms.{module}"), function)
    return make


def context(store: Store, d: dict[str, Any]) -> FormContext:
    names = {u["name"]: u["full_name"] for u in store.users.list(d["office"])}
    return FormContext(d, store.catalogue.get(d["procedure"]["code"]),
                       store.offices.get(d["office"]), store.dossiers.clock.now(), names,
                       store.settings.receipt_lookup_url)


def pdf(body: bytes, name: str) -> Response:
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})


def _period(store: Store, start: str, end: str) -> tuple[datetime, datetime]:
    tz = store.calendar.tz
    try:
        d0 = date.fromisoformat(start) if start else store.calendar.local(
            store.dossiers.clock.now()).date().replace(day=1)
        d1 = date.fromisoformat(end) if end else store.calendar.local(
            store.dossiers.clock.now()).date()
    except ValueError:
        raise StoreError("bad_request", tr("Ngày không đúng dạng (YYYY-MM-DD).",
                                            "Not a date (YYYY-MM-DD).")) from None
    if d1 < d0 or (d1 - d0).days > 400:
        raise StoreError("bad_request", tr("Khoảng thời gian không hợp lệ (tối đa 400 ngày).",
                                            "Not a period (at most 400 days)."))
    t0 = datetime.combine(d0, datetime.min.time(), tz)  # type: ignore[arg-type]
    return t0, datetime.combine(d1, datetime.min.time(), tz) + timedelta(days=1)  # type: ignore[arg-type]


def register(app: FastAPI, web: Web) -> None:
    store = web.store

    @app.get("/dossiers/{code}/forms/{form}.pdf", include_in_schema=False)
    def form_pdf(request: Request, code: str, form: str) -> Response:
        who = web.auth.require(request)
        if form not in FORMS:
            raise StoreError("not_found", tr(f"Không có mẫu {form}.", f"No form {form}."))
        d = app.state.own_dossier(code, who)
        name = FORMS[form][2]
        return pdf(form_maker(form)(context(store, d)), f"mau-{form}-{name}-{d['code']}")

    def book(request: Request, start: str, end: str) -> tuple[Principal, Any]:
        from appliance.store.forms.register import book_rows

        who = web.auth.require(request, "staff", "leader", "processor")
        t0, t1 = _period(store, start, end)
        office = store.offices.get(who.office)
        return who, (office, book_rows(store.dossiers, office.code, t0, t1), t0, t1)

    @app.get("/book.pdf", include_in_schema=False)
    def book_as_pdf(request: Request, start: str = "", end: str = "") -> Response:
        from appliance.store.forms.register import book_pdf

        _, (office, rows, t0, t1) = book(request, start, end)
        return pdf(book_pdf(office, rows, t0, t1 - timedelta(days=1),
                            store.dossiers.clock.now()), "mau-07-so-theo-doi-ho-so")

    @app.get("/book.xlsx", include_in_schema=False)
    def book_as_xlsx(request: Request, start: str = "", end: str = "") -> Response:
        from appliance.store.forms.register import book_xlsx

        _, (office, rows, t0, t1) = book(request, start, end)
        return Response(book_xlsx(office, rows, t0, t1 - timedelta(days=1)),
                        media_type="application/vnd.openxmlformats-officedocument."
                                   "spreadsheetml.sheet",
                        headers={"Content-Disposition":
                                 'attachment; filename="mau-07-so-theo-doi-ho-so.xlsx"'})
