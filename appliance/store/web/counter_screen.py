"""The officer's counter screen (``/quay/<counter>``): who I am serving and since when, the
waiting counts and longest wait of my services, my parked tickets, my day so far, and the
buttons of the keypad — next, recall, no-show, finish, transfer, park/resume, call a number.

The store speaks the hub's wire contract for the counter, as its own unit: the site file
lists the counters the store may act for (``[hub.units.<store>].counters``) and, per counter,
the officer codes that may work it (``officers``). The store sends an action only for a
counter that lists the logged-in officer's code, with that code; the hub checks both again,
so neither a forged form nor a second officer can act as another's counter. The counter
unit's keypad works beside the screen on the same state (both read the hub's).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from appliance.clock import Clock, parse_rfc3339, rfc3339
from appliance.config.site import CounterConfig
from appliance.i18n import tr
from appliance.store.auth import Principal
from appliance.store.errors import StoreError
from appliance.store.live.view import HubUnavailable, QueueView
from appliance.store.web.app import Web
from appliance.store.web.live import Streams, event_stream

ACTIONS: dict[str, str] = {
    "next": "Gọi số tiếp", "recall": "Gọi lại", "no_show": "Vắng mặt", "finish": "Xong",
    "transfer": "Chuyển dịch vụ", "park": "Tạm dừng", "resume": "Phục vụ tiếp",
    "call": "Gọi số", "open": "Mở quầy", "close": "Đóng quầy",
}
_NUMBER = re.compile(r"^[A-Z]{1,2}[0-9]{2,4}$")
_CLICK = re.compile(r"^[A-Za-z0-9-]{8,64}$")
SCREEN_GAP_S = 0.3  # a screen's picture asks the hub; at most ~3 a second per screen


def my_counters(view: QueueView, who: Principal) -> list[CounterConfig]:
    """The counters this officer may work from the screen (none without a site file)."""
    site = view.site
    entry = site.units.get(view.bus.unit) if site else None
    if site is None or entry is None or entry.role != "store" or not who.officer_code:
        return []
    return [c for c in site.counters if c.id in entry.counters and who.officer_code in c.officers]


def _bound(view: QueueView, who: Principal, cid: str) -> CounterConfig:
    found = next((c for c in my_counters(view, who) if c.id == cid), None)
    if found is None:
        raise StoreError("forbidden", tr(
            f"Tài khoản {who.name} không được phân công làm việc tại quầy {cid}.",
            f"The account {who.name} is not assigned to counter {cid}."))
    return found


def _age_s(at: str | None, now: datetime) -> int | None:
    return max(0, int((now - parse_rfc3339(at)).total_seconds())) if at else None


def picture(view: QueueView, who: Principal, counter: CounterConfig, clock: Clock
            ) -> dict[str, Any]:
    """What the screen shows, from the hub's ``counter.status`` (asked as the store)."""
    now = clock.now()
    base: dict[str, Any] = {"now": rfc3339(now), "officer": who.label,
                            "code": who.officer_code, "counter_name": counter.label}
    try:
        reply = view.ask("counter.status", counter=counter.id, officer=who.officer_code)
    except HubUnavailable:
        return {**base, "ok": False, "message": tr(
            "Không liên lạc được với máy chủ hàng chờ; bàn phím của quầy vẫn dùng được.",
            "The queue hub does not answer; the counter's keypad still works.")}
    if not reply.get("ok"):
        return {**base, "ok": False, "message": (reply.get("error") or {}).get("message", "")}
    c = reply["counter"]
    names = view.service_names()
    return {**base, "ok": True, "counter": c, "serving_for_s": _age_s(c.get("since"), now),
            "services": [{"id": sid, "name": s["name"], "waiting": s["waiting"],
                          "priority": s["priority"],
                          "longest_wait_s": _age_s(s.get("oldest_at"), now)}
                         for sid, s in reply["services"].items()],
            "parked": [{"number": t["number"], "service_name": t.get("service_name", ""),
                        "waited_s": _age_s(t.get("issued_at"), now)} for t in reply["parked"]],
            "today": reply["today"],
            "transfer_to": [{"id": sid, "name": n} for sid, n in names.items()
                            if sid != c.get("service")]}


def _extra(action: str, form: Any) -> dict[str, Any]:
    if action == "transfer":
        to = str(form.get("to_service", ""))
        if not to:
            raise StoreError("bad_request", tr("Chọn dịch vụ để chuyển đến.",
                                               "Choose the service to transfer to."))
        return {"to_service": to[:40]}
    if action in ("call", "resume"):
        number = str(form.get("number", "")).strip().upper()
        if not number and action == "resume":
            return {}
        if not _NUMBER.match(number):
            raise StoreError("bad_request", tr(f"Số thứ tự {number[:10]!r} không đúng dạng "
                                               "(ví dụ A015).",
                                               f"Ticket number {number[:10]!r} is not valid "
                                               "(e.g. A015)."))
        return {"number": number}
    return {}


def register(app: FastAPI, web: Web, view: QueueView) -> None:
    clock = web.store.dossiers.clock
    streams = Streams(limit=50)

    @app.get("/quay", include_in_schema=False)
    def counters(request: Request) -> Response:
        who = web.auth.require(request, "staff")
        mine = my_counters(view, who)
        if len(mine) == 1:
            return RedirectResponse(f"/quay/{mine[0].id}", status_code=303)
        return web.page(request, "counter_pick.html", who, counters=mine)

    @app.get("/quay/{cid}", include_in_schema=False)
    def screen(request: Request, cid: str) -> Response:
        who = web.auth.require(request, "staff")
        counter = _bound(view, who, cid)
        return web.page(request, "counter.html", who, title=counter.label, counter=counter,
                        actions=ACTIONS, view=picture(view, who, counter, clock))

    @app.get("/quay/{cid}/state", include_in_schema=False)
    def state(request: Request, cid: str) -> Response:
        who = web.auth.require(request, "staff")
        return JSONResponse(picture(view, who, _bound(view, who, cid), clock))

    @app.get("/quay/{cid}/events", include_in_schema=False)
    def events(request: Request, cid: str) -> Response:
        who = web.auth.require(request, "staff")
        counter = _bound(view, who, cid)
        return event_stream(view, streams, lambda: picture(view, who, counter, clock),
                            depends=lambda: view.version_of(*counter.services),
                            min_gap_s=SCREEN_GAP_S)

    @app.post("/quay/{cid}/act", include_in_schema=False)
    async def act(request: Request, cid: str) -> Response:
        who = web.auth.require(request, "staff")
        wants_json = "application/json" in request.headers.get("accept", "")
        try:
            return await _act(request, who, cid, wants_json)
        except StoreError as exc:
            if not wants_json:
                raise  # the desk's HTML error page
            return JSONResponse({"ok": False, "message": exc.message,
                                 "error": {"code": exc.code, "message": exc.message}},
                                status_code=403 if exc.code == "forbidden" else 422)

    async def _act(request: Request, who: Principal, cid: str, wants_json: bool) -> Response:
        form = await request.form()
        web.auth.check(request, form)
        counter = _bound(view, who, cid)
        action = str(form.get("action", ""))
        if action not in ACTIONS:
            raise StoreError("bad_request", tr(f"Không có thao tác {action[:20]!r}.",
                                               f"No action {action[:20]!r}."))
        fields = _extra(action, form)
        click = str(form.get("click", ""))
        # the same click sent again (a retry) reaches the hub with the same id: done once
        rid = f"quay-{who.name}-{click}"[:100] if _CLICK.match(click) else None
        try:
            reply = await run_in_threadpool(
                lambda: view.ask(f"counter.{action}", req_id=rid, counter=counter.id,
                                 officer=who.officer_code, **fields))
        except HubUnavailable:
            reply = {"ok": False, "error": {"message": tr(
                "Không liên lạc được với máy chủ hàng chờ; hãy dùng bàn phím của quầy.",
                "The queue hub does not answer; use the counter's keypad.")}}
        shown = await run_in_threadpool(picture, view, who, counter, clock)
        ok = bool(reply.get("ok"))
        message = "" if ok else (reply.get("error") or {}).get("message", "")
        if not wants_json:
            return RedirectResponse(f"/quay/{cid}", status_code=303)
        return JSONResponse({"ok": ok, "message": message, "view": shown},
                            status_code=200 if ok else 409)
