"""Log-in sessions for pages: an HttpOnly, SameSite=Strict cookie holding the session token,
and a CSRF token (an HMAC of the session token) that every form carries back."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from fastapi import Request

from appliance.errors import MotcuaError
from appliance.i18n import tr
from appliance.store.auth import Principal
from appliance.store.core import Store
from appliance.store.errors import StoreError
from appliance.store.ratelimit import RateLimiter

COOKIE = "motcua_phien"
PRE_COOKIE = "motcua_dangnhap"  # before log-in: what the log-in form's CSRF token is bound to


class LoginRequired(MotcuaError):
    """No (valid) session: the page handler sends the browser to the log-in page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class WebAuth:
    def __init__(self, store: Store, limiter: RateLimiter | None = None) -> None:
        self.store = store
        # kept in the database: a form opened before a restart of the store still posts
        self._key = store.users.key("csrf")
        # log-in attempts per client address: a burst of 10, then one each 5 s; 30 wrong
        # passwords in 10 minutes and the address waits (the account lock-out is in Users)
        self.limiter = limiter or RateLimiter(0.2, 10, 30)

    def token(self, request: Request) -> str | None:
        return request.cookies.get(COOKIE)

    def who(self, request: Request) -> Principal | None:
        token = self.token(request)
        return self.store.users.principal(token) if token else None

    def require(self, request: Request, *roles: str) -> Principal:
        """The logged-in account, if it has one of ``roles`` (any role when none given)."""
        p = self.who(request)
        if p is None:
            raise LoginRequired(str(request.url.path))
        if roles and not p.can(*roles):
            raise StoreError("forbidden", tr("Tài khoản của bạn không có quyền dùng trang này.",
                                              "Your account may not use this page."))
        return p

    async def posted(self, request: Request, *roles: str) -> tuple[Principal, dict[str, str]]:
        """The account behind a form's POST (one of ``roles``), and the form's fields
        (stripped) once its CSRF token is checked."""
        who = self.require(request, *roles)
        form = await request.form()
        self.check(request, form)
        return who, {k: str(x).strip() for k, x in form.items()}

    def csrf(self, request: Request, token: str | None = None) -> str:
        token = token if token is not None else (self.token(request) or "")
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()

    def login_csrf(self, request: Request) -> tuple[str, str]:
        """(pre-session cookie value, the log-in form's token bound to it)."""
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(16)
        return pre, self.csrf(request, "login:" + pre)

    def check_login(self, request: Request, form: Any) -> None:
        pre = request.cookies.get(PRE_COOKIE)
        sent = str(form.get("csrf", ""))
        if not pre or not hmac.compare_digest(sent, self.csrf(request, "login:" + pre)):
            raise StoreError("forbidden", tr(
                "Trang đăng nhập đã hết hạn (thiếu mã chống giả mạo CSRF); hãy tải lại trang và "
                "đăng nhập lại.", "The log-in page has expired (no CSRF token); reload it and "
                "log in again."))

    def check(self, request: Request, form: Any) -> None:
        """Refuse a POST whose form lacks this session's CSRF token."""
        sent = str(form.get("csrf", ""))
        if not self.token(request) or not hmac.compare_digest(sent, self.csrf(request)):
            raise StoreError("forbidden", tr(
                "Biểu mẫu đã hết hạn hoặc không hợp lệ (thiếu mã chống giả mạo CSRF); hãy tải lại "
                "trang và thử lại.", "The form has expired or is not valid (no CSRF token); "
                "reload the page and try again."))

    def client(self, request: Request) -> str:
        return request.client.host if request.client else "?"
