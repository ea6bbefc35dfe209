"""The officer's pages: log in, worklists, search (a scanned receipt opens its dossier),
receive a dossier, the dossier page with its moves."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from appliance.i18n import tr
from appliance.store.auth import Locked
from appliance.store.cccd import parse_cccd_qr
from appliance.store.desk import ACTION_LABELS, ACTIONS, Move, check_office
from appliance.store.errors import StoreError
from appliance.store.models import DeskDossierIn
from appliance.store.stages import ALLOWED
from appliance.store.web.app import Web
from appliance.store.web.session import COOKIE, PRE_COOKIE
from appliance.store.web.words import word
from appliance.store.worklist import LISTS

FIELDS_VI = {
    "procedure_code": "Thủ tục", "applicant_name": "Họ và tên người nộp",
    "applicant_id": "Số định danh cá nhân (CCCD) phải gồm đúng 12 chữ số",
    "applicant_phone": "Số điện thoại chỉ gồm chữ số", "applicant_email": "Email không đúng dạng",
    "applicant_address": "Địa chỉ", "sets": "Số bộ hồ sơ từ 1 đến 20",
    "fee_due": "Phí phải nộp", "fee_paid": "Phí đã nộp", "documents": "Thành phần hồ sơ",
    "received_at": "Thời gian tiếp nhận",
}
# which actions each stage offers on the dossier page
OFFERED = {
    "handover": ("received", "processing"),
    "supplement": ("received", "processing"),
    "resume": ("awaiting_supplement",),
    "extend": ("received", "processing", "awaiting_supplement", "liaison"),
    "liaison_out": ("received", "processing"),
    "liaison_back": ("liaison",),
    "ready": ("processing", "liaison"),
    "returned": ("ready",),
    "refuse": ("received", "processing", "awaiting_supplement"),
    "stop": ("received", "processing", "awaiting_supplement", "liaison"),
}


def explain(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        field = str(e["loc"][0]) if e["loc"] else ""
        parts.append(FIELDS_VI.get(field, field) + ("" if field in FIELDS_VI
                                                    else f": {e['msg']}"))
    return tr("Chưa đúng: ", "Not right: ") + "; ".join(dict.fromkeys(parts)) + "."


def local_time(web: Web, text: str) -> datetime | None:
    """A datetime-local field (the office's own time zone) or None when empty."""
    text = text.strip()
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise StoreError("bad_request", tr(f"Thời gian không đúng dạng: {text!r}",
                                           f"Not a date and time: {text!r}")) from None
    return t if t.tzinfo else t.replace(tzinfo=web.store.calendar.tz)  # type: ignore[arg-type]


def register(app: FastAPI, web: Web) -> None:
    store = web.store

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/worklist", status_code=303)

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, next: str = "/worklist") -> Response:
        return login_form(request, next)

    def login_form(request: Request, nxt: str, status: int = 200, error: str = "") -> Response:
        pre, token = web.auth.login_csrf(request)
        resp = web.page(request, "login.html", None, status=status, next=nxt,
                        login_csrf=token, error=error)
        resp.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", path="/login")
        return resp

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form()
        web.auth.check_login(request, form)
        name, password = str(form.get("username", "")), str(form.get("password", ""))
        nxt = str(form.get("next", "/worklist"))
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/worklist"
        key = web.auth.client(request)
        if not web.auth.limiter.allow(key):
            return login_form(request, nxt, 429, tr(
                "Quá nhiều lần đăng nhập từ máy này; hãy thử lại sau ít phút.",
                "Too many log-in attempts from this computer; try again in a few minutes."))
        try:
            found = await run_in_threadpool(store.users.login, name, password)
        except Locked as exc:
            return login_form(request, nxt, 423, exc.message)
        if found is None:
            web.auth.limiter.failed(key)
            return login_form(request, nxt, 401, tr("Sai tên đăng nhập hoặc mật khẩu.",
                                                     "Wrong user name or password."))
        resp = RedirectResponse(nxt, status_code=303)
        resp.set_cookie(COOKIE, found[0], httponly=True, samesite="strict", path="/",
                        max_age=store.settings.token_ttl_s)
        return resp

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        who = web.auth.require(request)
        web.auth.check(request, await request.form())
        store.users.forget(who.name)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @app.get("/worklist", include_in_schema=False)
    def worklist(request: Request, list: str = "today", after: str = "") -> Response:
        who = web.auth.require(request)
        if list not in LISTS:
            list = "today"
        office = who.office or store.offices.default.code
        page = store.worklist.page(list, who, office, after or None, count=True)
        more = f"/worklist?{urlencode({'list': list, 'after': page.next})}" if page.next else ""
        return web.page(request, "worklist.html", who, lists=LISTS, current=list,
                        rows=page.rows, title=word("list", list), count=page.count_label,
                        more=more)

    @app.get("/search", include_in_schema=False)
    def search(request: Request, q: str = "", after: str = "") -> Response:
        who = web.auth.require(request)
        office = who.office or store.offices.default.code
        scanned = store.worklist.scanned_code(q)
        if scanned is not None:
            return RedirectResponse(f"/dossiers/{quote(scanned)}", status_code=303)
        page = store.worklist.search_page(q, office, after or None)
        rows = page.rows
        if len(rows) == 1 and rows[0]["code"] == q.strip().upper():
            return RedirectResponse(f"/dossiers/{quote(rows[0]['code'])}", status_code=303)
        more = f"/search?{urlencode({'q': q, 'after': page.next})}" if page.next else ""
        return web.page(request, "worklist.html", who, lists=LISTS, current="", rows=rows,
                        q=q, title=tr(f"Kết quả tìm «{q}»", f"Found for «{q}»"), more=more)

    @app.get("/receive", include_in_schema=False)
    def receive_page(request: Request, q: str = "", procedure: str = "") -> Response:
        who = web.auth.require(request, "staff")
        office = who.office or store.offices.default.code
        proc = store.catalogue.get(procedure) if procedure else None
        if proc is not None and not store.offices.uses(office, proc["code"]):
            proc = None
        found = store.catalogue.search(q, None, 30, 0, only=store.offices.procedures(office))[
            0] if q and proc is None else []
        return web.page(request, "receive.html", who, q=q, found=found, proc=proc, values={},
                        title=tr("Tiếp nhận hồ sơ", "Receive a dossier"))

    @app.post("/receive", include_in_schema=False)
    async def receive(request: Request) -> Response:
        who = web.auth.require(request, "staff")
        form = await request.form()
        web.auth.check(request, form)
        values = {k: str(v) for k, v in form.items()}
        scanned = parse_cccd_qr(values.get("cccd_scan", ""))
        if scanned:  # sent without the page's script: the server reads the scan itself
            values.update({k: v for k, v in scanned.items() if not values.get(k)})
        proc = store.catalogue.get(values.get("procedure_code", ""))
        docs = []
        for i, d in enumerate((proc or {}).get("documents") or []):
            if values.get(f"doc_{i}"):
                docs.append({"name": d["name"], "original": values.get(f"doc_{i}_original") or 0,
                             "copies": values.get(f"doc_{i}_copies") or 0})
        for extra in values.get("doc_extra", "").splitlines():
            if extra.strip():
                docs.append({"name": extra.strip(), "original": 0, "copies": 1})
        try:
            body = DeskDossierIn(
                procedure_code=values.get("procedure_code", ""),
                applicant_name=values.get("applicant_name", ""),
                applicant_id=values.get("applicant_id", "").replace(" ", ""),
                applicant_phone=values.get("applicant_phone", ""),
                applicant_email=values.get("applicant_email", ""),
                applicant_address=values.get("applicant_address", ""),
                channel=values.get("channel", "counter"),  # type: ignore[arg-type]
                sets=values.get("sets") or 1,  # type: ignore[arg-type]
                documents=docs,  # type: ignore[arg-type]
                fee_due=values.get("fee_due") or 0,  # type: ignore[arg-type]
                fee_paid=values.get("fee_paid") or 0,  # type: ignore[arg-type]
                return_method=values.get("return_method", "counter"),  # type: ignore[arg-type]
                return_address=values.get("return_address", ""),
                note=values.get("note", ""),
                received_at=local_time(web, values.get("received_at", "")),
                received_at_reason=values.get("received_at_reason", ""))
            code = await run_in_threadpool(store.desk.receive, body, who)
        except (ValidationError, StoreError) as exc:
            message = explain(exc) if isinstance(exc, ValidationError) else exc.message
            status = 422 if isinstance(exc, ValidationError) else 403 if getattr(
                exc, "code", "") == "forbidden" else 422
            return web.page(request, "receive.html", who, status=status, q="", found=[],
                            proc=proc, values=values, error=message, title="Tiếp nhận hồ sơ")
        return RedirectResponse(f"/dossiers/{quote(code)}?new=1", status_code=303)

    @app.get("/dossiers/{code}", include_in_schema=False)
    def dossier_page(request: Request, code: str, new: int = 0) -> Response:
        who = web.auth.require(request)
        d = own(code, who)
        staff = [u for u in store.users.list(d["office"]) if u["active"]]
        offered = [(a, ACTION_LABELS[a]) for a, stages in OFFERED.items()
                   if d["stage"] in stages and (ACTIONS[a][0] is None
                                                or ACTIONS[a][0] in ALLOWED[d["stage"]])]
        return web.page(request, "dossier.html", who, d=d, new=new, offered=offered,
                        staff=staff, counters=store.offices.counters(d["office"]),
                        action_labels=ACTION_LABELS,
                        procedure=store.catalogue.get(d["procedure"]["code"]),
                        title=tr("Hồ sơ ", "Dossier ") + d["code"])

    @app.post("/dossiers/{code}/act", include_in_schema=False)
    async def act(request: Request, code: str) -> Response:
        who = web.auth.require(request)
        form = await request.form()
        web.auth.check(request, form)
        v = {k: str(x) for k, x in form.items()}
        m = Move(action=v.get("action", ""), note=v.get("note", "").strip(),
                 public=bool(v.get("public")), to_user=v.get("to_user", ""),
                 to_unit=v.get("to_unit", "").strip(),
                 step_due=local_time(web, v.get("step_due", "")),
                 new_due=local_time(web, v.get("new_due", "")),
                 missing=[x.strip() for x in v.get("missing", "").splitlines() if x.strip()],
                 counter=v.get("counter", "").strip(),
                 return_method=v.get("return_method", ""))
        await run_in_threadpool(store.desk.act, code, m, who)
        return RedirectResponse(f"/dossiers/{quote(code)}", status_code=303)

    def own(code: str, who: Any) -> dict[str, Any]:
        d = store.dossiers.get(code)
        if d is None:
            raise StoreError("not_found", tr(f"Không có hồ sơ mã {code}.", f"No dossier {code}."))
        check_office(who, d["office"])
        return d

    app.state.own_dossier = own
