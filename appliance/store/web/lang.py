"""The desk's language switch: Vietnamese first; an officer may switch their browser to
English (a cookie, not an account setting: a shared counter PC may serve either). Every
page text goes through ``tr(vi, en)`` and is chosen per request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from appliance.i18n import choose, unchoose

COOKIE = "motcua_ngonngu"


def register(app: FastAPI) -> None:
    @app.middleware("http")
    async def _language(request: Request,
                        call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # the desk speaks Vietnamese unless this browser asked for English (MOTCUA_LANG is
        # the language of the store's console, not of its officers' pages)
        token = choose("en" if request.cookies.get(COOKIE) == "en" else "vi")
        try:
            return await call_next(request)
        finally:
            unchoose(token)

    @app.get("/lang/{lang}", include_in_schema=False)
    def switch(lang: str, next: str = "/worklist") -> Response:
        if not next.startswith("/") or next.startswith("//"):
            next = "/worklist"
        resp = RedirectResponse(next, status_code=303)
        resp.set_cookie(COOKIE, "en" if lang == "en" else "vi", httponly=True,
                        samesite="strict", path="/", max_age=365 * 86400)
        return resp
