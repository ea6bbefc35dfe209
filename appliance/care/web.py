"""The fleet dashboard: server-rendered pages (Jinja2), Vietnamese first, every asset
served from this package; login with accounts and roles; Prometheus ``/metrics``."""

from __future__ import annotations

import base64
import hmac
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import bcrypt
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from appliance.care import metrics
from appliance.care.config import Account
from appliance.care.model import STATES
from appliance.care.vault import BadBackup, Vault, check_site_secret
from appliance.care.views import age, fact_rows, state_label, week
from appliance.i18n import tr

if TYPE_CHECKING:
    from appliance.care.bootstrap import CareServer

HERE = Path(__file__).parent
HISTORY_ROWS = 50
MAX_BACKUP = 1 << 30  # a hub's day is a few MB; a store of years stays far below
_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
# a hash to compare against for an unknown user, so timing does not tell who exists
_DUMMY_HASH = bcrypt.hashpw(b"-", bcrypt.gensalt(rounds=4))


class _Login(Exception):
    """Not logged in: go to the login page."""


def create_app(care: CareServer) -> FastAPI:
    app = FastAPI(title="motcua care", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SessionMiddleware, secret_key=care.config.web.session_secret,
                       session_cookie="motcua_care", same_site="strict",
                       https_only=bool(care.config.web.tls_cert), max_age=12 * 3600)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # signed releases: open to units (the signature, not the link, is what they trust)
    releases = care.config.data_path / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    app.mount("/releases", StaticFiles(directory=releases), name="releases")
    templates = Jinja2Templates(directory=HERE / "templates")
    accounts = {a.username: a for a in care.config.accounts}
    labels = {s: state_label(s) for s in STATES}

    @app.exception_handler(_Login)
    async def _to_login(request: Request, exc: _Login) -> Response:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    def user(request: Request) -> Account:
        name = request.session.get("user")
        account = accounts.get(name) if isinstance(name, str) else None
        if account is None:
            raise _Login()
        return account

    def may_see(account: Account, site: str) -> bool:
        return account.role == "province_admin" or site in account.sites

    def page(request: Request, name: str, account: Account | None, **ctx: Any) -> HTMLResponse:
        now = care.clock.now()
        return templates.TemplateResponse(request, name, {
            "province": care.config.province, "user": account, "labels": labels,
            "age": lambda t: age(t, now), **ctx})

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> HTMLResponse:
        return page(request, "login.html", None, next=next, error=None, refresh=3600)

    @app.post("/login")
    def login(request: Request, username: str = Form(""), password: str = Form(""),
              next: str = Form("/")) -> Response:
        account = accounts.get(username)
        hashed = account.password_hash.encode() if account else _DUMMY_HASH
        good = bcrypt.checkpw(password.encode("utf-8"), hashed) and account is not None
        if not good:
            resp = page(request, "login.html", None, next=next, refresh=3600,
                        error="Sai tên đăng nhập hoặc mật khẩu. (Wrong user name or password.)")
            resp.status_code = 401
            return resp
        request.session["user"] = username
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        return RedirectResponse(target, status_code=303)

    @app.post("/logout")
    def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/", response_class=HTMLResponse)
    def fleet(request: Request) -> HTMLResponse:
        account = user(request)
        sites = [s for s in care.fleet.sites() if may_see(account, s.site)]
        return page(request, "fleet.html", account, sites=sites, states=STATES,
                    total=sum(len(s.units) for s in sites))

    @app.get("/site/{site}", response_class=HTMLResponse)
    def site_page(request: Request, site: str) -> HTMLResponse:
        account = user(request)
        view = care.fleet.site(site) if may_see(account, site) else None
        if view is None:
            raise HTTPException(404, "Không có điểm này (no such site)")
        now = care.clock.now()
        return page(request, "site.html", account, site=view,
                    facts={u.unit: fact_rows(u) for u in view.units},
                    weeks={u.unit: week(care.history, site, u.unit, now) for u in view.units})

    @app.get("/site/{site}/unit/{unit}", response_class=HTMLResponse)
    def unit_page(request: Request, site: str, unit: str) -> HTMLResponse:
        account = user(request)
        view = care.fleet.site(site) if may_see(account, site) else None
        u = next((x for x in view.units if x.unit == unit), None) if view else None
        if view is None or u is None:
            raise HTTPException(404, "Không có thiết bị này (no such unit)")
        start = care.clock.now() - timedelta(days=30)
        history = care.history.changes(site, unit, start)[-HISTORY_ROWS:][::-1]
        return page(request, "unit.html", account, site=view, u=u, facts=fact_rows(u),
                    history=history)

    vault = Vault(care.config.data_path / "backups")

    @app.put("/backup/{site}/{name}", status_code=201)
    async def backup(request: Request, site: str, name: str, path: str, taken: str,
                     kind: str = "sqlite", sha256: str | None = None) -> dict[str, str]:
        # a site sends its own copies only, with the password `enrol` gave it
        auth = request.headers.get("authorization", "")
        try:
            user, _, password = base64.b64decode(auth.removeprefix("Basic ")).decode() \
                .partition(":")
        except (ValueError, UnicodeDecodeError):
            user = password = ""
        if user != site or not check_site_secret(care.config.data_path, site, password):
            raise HTTPException(401, tr("sai thông tin đăng nhập của điểm",
                                       "wrong site credentials"))
        if not _IDENT.match(name):
            raise HTTPException(400, tr("tên cơ sở dữ liệu sai", "bad database name"))
        if int(request.headers.get("content-length") or 0) > MAX_BACKUP:
            raise HTTPException(413, tr(f"bản sao lớn hơn {MAX_BACKUP} byte",
                                       f"a copy over {MAX_BACKUP} bytes"))
        try:
            # the checks read the whole copy (pg_restore for a dump): off the event loop
            stored = await run_in_threadpool(vault.put, site, name, path, taken,
                                             await request.body(), kind=kind, sha256=sha256)
        except BadBackup as exc:
            raise HTTPException(400, str(exc)) from None
        return {"stored": stored.name}

    @app.get("/metrics")
    def prometheus(request: Request) -> Response:
        token = care.config.web.metrics_token
        if token:
            given = request.headers.get("authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(given.encode(), token.encode()):
                raise HTTPException(401, tr("/metrics cần mã truy cập (bearer token)",
                                           "metrics need the bearer token"))
        return Response(metrics.render(care.fleet, care.alerts.pending),
                        media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"broker": care.link.connected, "ticks": care.ticks}

    return app
