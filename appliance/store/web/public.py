"""Citizens' public pages (no log-in): the dossier's status opened from the receipt's QR.

The receipt's QR holds ``<public_base_url>/tra-cuu?ma=<code>&mk=<secret>`` — the same
``?ma=&mk=`` form the lookup terminal's scanner already reads (appliance.core.dossier_code).
The page shows only what the kiosk shows (Dossiers.lookup: masked name, stage names, public
notes), under the same per-address rate limit and failed-guess window as the JSON lookup
(one limiter for both, so a guesser cannot double the budget by switching doors), and a wrong
secret answers exactly like an unknown code: same status, same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from appliance.clock import parse_rfc3339
from appliance.store.core import Store
from appliance.store.ratelimit import RateLimiter

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["vn_time"] = lambda t: parse_rfc3339(t).strftime("%H:%M %d/%m/%Y") \
    if t else ""
TIMING = {"not_yet_due": "Đang trong hạn", "overdue": "Quá hạn", "early": "Xong trước hạn",
          "on_time": "Xong đúng hạn", "late": "Xong trễ hạn"}
NOT_FOUND = ("Không tìm thấy hồ sơ với mã số và mã tra cứu này.",
             "Xin kiểm tra lại mã hồ sơ và mã tra cứu in trên giấy tiếp nhận.")
LIMITED = ("Ông/bà tra cứu quá nhanh, xin thử lại sau ít phút.", "")
NO_STORE_CACHE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def public_page(request: Request, name: str, store: Store, status: int = 200,
                **ctx: Any) -> HTMLResponse:
    """A public page: the office's name, no session, never cached (codes are in the URL)."""
    return templates.TemplateResponse(request, name, {
        "office_name": store.settings.office_name, **ctx}, status_code=status,
        headers=NO_STORE_CACHE)


def client_key(request: Request) -> str:
    return request.client.host if request.client else "?"


def register(app: FastAPI, store: Store, limiter: RateLimiter) -> None:
    @app.get("/tra-cuu", include_in_schema=False)
    def dossier_status(request: Request, ma: str = "", mk: str = "") -> HTMLResponse:
        key = client_key(request)
        title = "Tình trạng hồ sơ"
        if not limiter.allow(key):
            return public_page(request, "public/dossier.html", store, 429, title=title,
                               dossier=None, message=LIMITED[0], hint=LIMITED[1])
        found = store.dossiers.lookup(ma[:80], mk[:20])
        if found is None:
            limiter.failed(key)
            return public_page(request, "public/dossier.html", store, 404, title=title,
                               dossier=None, message=NOT_FOUND[0], hint=NOT_FOUND[1])
        return public_page(request, "public/dossier.html", store, title=title, dossier=found,
                           timing_labels=TIMING)
