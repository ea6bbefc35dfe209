"""The offices page (admins): an office's names, the MQTT site whose boards show its
figures, its procedures in use and its counters. A store admin (no office of their own)
adds offices and edits any; an office's admin edits only their own."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from appliance.i18n import tr
from appliance.store import audit
from appliance.store.errors import StoreError
from appliance.store.web.app import Web

_CODE = re.compile(r"^[0-9A-Z][0-9A-Z.]{1,29}$")
_SITE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def parse_counters(text: str) -> list[tuple[str, str]]:
    """One counter a line: its id, then (optionally) its name: ``3 Quầy 3 - Tư pháp``."""
    out = []
    for line in text.splitlines():
        cid, _, name = line.strip().partition(" ")
        if cid:
            out.append((cid, name.strip()))
    return out


def register(app: FastAPI, web: Web) -> None:
    store = web.store

    @app.get("/admin/offices", include_in_schema=False)
    def offices_page(request: Request) -> Response:
        who = web.auth.require(request, "admin")
        shown = [o for o in store.offices.all() if who.office in (None, o.code)]
        info = {o.code: (sorted(store.offices.procedures(o.code) or []),
                         store.offices.counters(o.code)) for o in shown}
        return web.page(request, "offices.html", who, offices=shown, info=info,
                        title=tr("Cơ quan", "Offices"))

    @app.post("/admin/offices", include_in_schema=False)
    async def save_office(request: Request) -> Response:
        who, v = await web.auth.posted(request, "admin")
        code = v.get("code", "").upper()
        if not _CODE.match(code):
            raise StoreError("bad_request", tr(
                "Mã cơ quan (mã định danh điện tử) chỉ gồm chữ in hoa, số và dấu chấm, ví dụ "
                "000.00.06.G04.", "An agency code has capitals, digits and dots, e.g. "
                "000.00.06.G04."))
        if who.office is not None and code != who.office:
            raise StoreError("forbidden", tr("Bạn chỉ sửa được cơ quan của mình.",
                                              "You may change only your own office."))
        site = v.get("site") or None
        if site is not None and not _SITE.match(site):
            raise StoreError("bad_request", tr(
                "Mã điểm (site) MQTT: chữ thường không dấu, số, _ và -.",
                "MQTT site: lower-case letters, digits, _ and -."))
        if not v.get("name"):
            raise StoreError("bad_request", tr("Cần tên cơ quan.", "The office needs a name."))
        procs = v.get("procedures", "").replace(",", " ").split()
        counters = parse_counters(v.get("counters", ""))

        def save() -> None:
            store.offices.put(code, v["name"], v.get("agency_name", ""), v.get("place", ""),
                              site)
            store.offices.set_procedures(code, procs)
            store.offices.set_counters(code, counters)
            with store.engine.begin() as conn:
                audit.record(conn, who.name, "set_office", office=code, target=code,
                             site=site, procedures=len(procs), counters=[c for c, _ in counters])

        await run_in_threadpool(save)
        store.dossiers._changed()  # the boards: a site may show another office now
        return RedirectResponse("/admin/offices", status_code=303)
