"""Mount the desk on the store's FastAPI app: static assets, the local API docs, templates,
the log-in redirect, and the HTML error page."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from appliance.clock import VN_TZ
from appliance.i18n import language, tr
from appliance.store.auth import ROLE_LABELS, Principal
from appliance.store.core import Store
from appliance.store.stages import LABELS
from appliance.store.web.session import LoginRequired, WebAuth

HERE = Path(__file__).resolve().parent
_templates = Jinja2Templates(directory=str(HERE / "templates"))
_templates.env.globals.update(stage_labels=LABELS, role_labels=ROLE_LABELS, tr=tr,
                              language=language)
_templates.env.filters["dt"] = lambda t: t.strftime("%d/%m/%Y %H:%M") if t else ""
_templates.env.filters["ts"] = lambda t: datetime.fromtimestamp(t, VN_TZ).strftime(
    "%d/%m/%Y %H:%M:%S")


class Web:
    """What every page handler needs: the store, sessions and templates."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.auth = WebAuth(store)

    def page(self, request: Request, name: str, who: Principal | None, status: int = 200,
             **ctx: Any) -> HTMLResponse:
        office = self.store.offices.get(who.office) if who else None
        return _templates.TemplateResponse(request, name, {
            "who": who, "csrf": self.auth.csrf(request) if who else "", "office": office,
            **ctx}, status_code=status)


def page_error(request: Request, message: str, status: int) -> Response:
    web: Web | None = getattr(request.app.state, "web", None)
    who = web.auth.who(request) if web else None
    if web is None:
        return HTMLResponse(message, status_code=status)
    return web.page(request, "error.html", who, status=status, message=message)


def mount_web(app: FastAPI, store: Store) -> Web:
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html

    web = Web(store)
    app.state.web = web
    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
              name="swagger")
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json",
                                   title="motcua — API kho hồ sơ",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={exc.next_url}", status_code=303)

    from appliance.store.web import admin, lang, offices, pages, printing, report_pages
    from appliance.store.web.words import word

    _templates.env.globals["word"] = word

    pages.register(app, web)
    printing.register(app, web)
    admin.register(app, web)
    offices.register(app, web)
    lang.register(app)
    report_pages.register(app, web)
    return web
