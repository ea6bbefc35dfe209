"""The citizen's ticket page (public, no log-in): ``/ticket/<site>/<YYYY-MM-DD>/<number>``,
the URL in the ticket's QR code (``<public_base_url>/ticket/...``).

It shows the number, how many wait before it, the estimated wait and the counters that call
it, and follows the queue by server-sent events (``…/events``), or by polling ``…/status``
when events cannot flow. Where the ticket stands is asked of the hub (``ticket.status``),
which counts everyone ahead however long the queue. Requests are rate-limited per address.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from appliance.store.core import Store
from appliance.store.live import ticket as tk
from appliance.store.live.view import HubUnavailable, QueueView
from appliance.store.ratelimit import RateLimiter
from appliance.store.web.live import Streams, event_stream
from appliance.store.web.public import LIMITED, client_key, public_page

# per phone address: a page, its event stream and a poll every few seconds fit easily
PHONE_RATE_PER_S = 1.0
PHONE_BURST = 20


def service_of(view: QueueView, number: str) -> str | None:
    """The service whose letter starts ``number`` (the longest letter wins)."""
    services = view.info.services if view.info else []
    found = [s for s in services if s.letter and number.startswith(s.letter)
             and number[len(s.letter):].isdigit()]
    return max(found, key=lambda s: len(s.letter or "")).id if found else None


def picture(view: QueueView, site: str, day: str, number: str) -> dict[str, Any]:
    key = tk.ticket_key(site, day, number)
    state = view.state
    today = date.fromisoformat(state.day) if state is not None and state.day else None
    early = tk.before_asking(key, view.bus.site, today, number[:8])
    if early is not None:
        return early
    assert key is not None
    try:
        reply = view.ticket(key.number, service_of(view, key.number))
    except HubUnavailable:
        return tk.unavailable(key.number)
    return tk.from_reply(key.number, reply, view.counter_names())


def register(app: FastAPI, store: Store, view: QueueView,
             limiter: RateLimiter | None = None) -> None:
    # on the app's state: one budget per app, and a test may put in a stopped clock's
    app.state.phone_limiter = limiter or RateLimiter(PHONE_RATE_PER_S, PHONE_BURST, 10**9)
    streams = Streams()
    app.state.phone_streams = streams

    def limited(request: Request) -> bool:
        return not app.state.phone_limiter.allow(client_key(request))

    @app.get("/ticket/{site}/{day}/{number}", include_in_schema=False)
    def ticket_page(request: Request, site: str, day: str, number: str) -> Response:
        if limited(request):
            return public_page(request, "public/ticket.html", store, 429, title="Số thứ tự",
                               view={"kind": "limited", "number": "", "headline": LIMITED[0],
                                     "detail": "", "final": True}, live=False)
        body = picture(view, site, day, number)
        status = 404 if body["kind"] == "unknown" else 200
        return public_page(request, "public/ticket.html", store, status,
                           title=f"Số thứ tự {body['number']}", view=body,
                           live=not body["final"],
                           base=f"/ticket/{site}/{day}/{number}")

    @app.get("/ticket/{site}/{day}/{number}/status", include_in_schema=False)
    def ticket_status(request: Request, site: str, day: str, number: str) -> Response:
        if limited(request):
            return JSONResponse({"error": {"code": "rate_limited", "message": LIMITED[0]}},
                                status_code=429)
        return JSONResponse(picture(view, site, day, number),
                            headers={"Cache-Control": "no-store"})

    @app.get("/ticket/{site}/{day}/{number}/events", include_in_schema=False)
    def ticket_events(request: Request, site: str, day: str, number: str) -> Response:
        if limited(request):
            return JSONResponse({"error": {"code": "rate_limited", "message": LIMITED[0]}},
                                status_code=429)
        service = service_of(view, number.upper())
        return event_stream(view, streams, lambda: picture(view, site, day, number),
                            depends=lambda: view.version_of(service))
