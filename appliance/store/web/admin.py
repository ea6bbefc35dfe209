"""Accounts (admins manage their office's users; a store admin all offices'), password
change, and the audit log for leaders and admins."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from appliance.i18n import tr
from appliance.store import audit
from appliance.store.auth import ROLES
from appliance.store.errors import StoreError
from appliance.store.web.app import Web

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_OFFICER = re.compile(r"^[0-9A-Za-z]{0,16}$")


def register(app: FastAPI, web: Web) -> None:
    store = web.store

    @app.get("/admin/users", include_in_schema=False)
    def users_page(request: Request) -> Response:
        who = web.auth.require(request, "admin")
        return web.page(request, "users.html", who, users=store.users.list(who.office),
                        roles=ROLES, offices=store.offices.all(),
                        title=tr("Tài khoản", "Accounts"))

    @app.post("/admin/users", include_in_schema=False)
    async def save_user(request: Request) -> Response:
        who, v = await web.auth.posted(request, "admin")
        name, role = v.get("name", "").lower(), v.get("role", "staff")
        if not _NAME.match(name):
            raise StoreError("bad_request", tr("Tên đăng nhập: chữ thường không dấu, số, . _ -",
                                                "User name: lower-case letters, digits, . _ -"))
        if role not in ROLES:
            raise StoreError("bad_request", tr("Vai trò không hợp lệ.", "Not a role."))
        if not _OFFICER.match(v.get("officer_code", "")):
            raise StoreError("bad_request", tr("Mã cán bộ: tối đa 16 chữ và số.",
                                                "Officer code: at most 16 letters and digits."))
        office = who.office or v.get("office") or store.offices.default.code
        existing = store.users.find(name)
        if existing is not None and who.office and existing["office"] != who.office:
            raise StoreError("forbidden", tr("Tài khoản này thuộc cơ quan khác.",
                                              "This account belongs to another office."))
        password = v.get("password") or None
        if password is not None and not 8 <= len(password) <= 72:
            raise StoreError("bad_request", tr("Mật khẩu cần từ 8 đến 72 ký tự.",
                                                "A password has 8 to 72 characters."))
        await run_in_threadpool(lambda: store.users.set_user(
            name, role, password=password, full_name=v.get("full_name", ""), office=office,
            officer_code=v.get("officer_code", ""), active=int(bool(v.get("active"))),
            audited=lambda conn: audit.record(
                conn, who.name, "set_user", office=office, target=name, role=role,
                active=bool(v.get("active")), password_changed=password is not None,
                unlocked=bool(v.get("unlock")))))
        if v.get("unlock"):
            store.users.unlock(name)
        return RedirectResponse("/admin/users", status_code=303)

    @app.get("/password", include_in_schema=False)
    def password_page(request: Request) -> Response:
        who = web.auth.require(request)
        return web.page(request, "password.html", who, title=tr("Đổi mật khẩu", "Change password"))

    @app.post("/password", include_in_schema=False)
    async def change_password(request: Request) -> Response:
        who = web.auth.require(request)
        form = await request.form()
        web.auth.check(request, form)
        new = str(form.get("new", ""))
        if new != str(form.get("again", "")):
            return web.page(request, "password.html", who, status=422,
                            error=tr("Hai lần nhập mật khẩu mới không giống nhau.",
                                     "The two new passwords differ."))
        try:
            await run_in_threadpool(store.users.change_password, who.name,
                                    str(form.get("old", "")), new)
        except StoreError as exc:
            return web.page(request, "password.html", who, status=422, error=exc.message)
        with store.engine.begin() as conn:
            audit.record(conn, who.name, "change_password", office=who.office, target=who.name)
        return RedirectResponse("/login", status_code=303)

    @app.get("/audit", include_in_schema=False)
    def audit_page(request: Request, before: int | None = None) -> Response:
        who = web.auth.require(request, "leader")
        rows = audit.entries(store.engine, who.office, 100, before)
        return web.page(request, "audit.html", who, rows=rows,
                        title=tr("Nhật ký thay đổi", "Audit log"))
