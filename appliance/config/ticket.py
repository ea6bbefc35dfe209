"""The [ticket] section of a ticket-printing unit's file (dispenser, lookup terminal).

Example::

    [ticket]
    # the store's public pages, as a phone on the office Wi-Fi reaches them: the ticket's QR
    # then opens <public_url>/ticket/<site>/<day>/<number> (the phone page of that ticket)
    public_url = "http://motcua.local:8080"
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import field_validator

from appliance.config.base import StrictModel
from appliance.i18n import tr


class TicketSection(StrictModel):
    public_url: str | None = None

    @field_validator("public_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if any(ch.isspace() for ch in value) or not value.isprintable():
            raise ValueError(tr("không được có dấu cách hay ký tự điều khiển",
                                "must not contain spaces or control characters"))
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https"):
            raise ValueError(tr("phải bắt đầu bằng http:// hoặc https://",
                                "must start with http:// or https://"))
        if not parts.hostname:
            raise ValueError(tr("thiếu tên máy (host)", "has no host name"))
        if parts.username or parts.password:
            raise ValueError(tr("không được chứa tên đăng nhập hay mật khẩu (in lên phiếu)",
                                "must not hold a user name or password (it is printed)"))
        if parts.query or parts.fragment:
            raise ValueError(tr("không được có phần ?... hay #... (mã phiếu được nối vào sau)",
                                "must not have a ?query or #fragment (the ticket is appended)"))
        try:
            parts.port  # noqa: B018 - evaluating it validates the port number
        except ValueError as exc:
            raise ValueError(tr(f"cổng không hợp lệ: {exc}", f"bad port: {exc}")) from None
        return value.rstrip("/")
