"""Strict config building blocks: unknown keys and wrong types are errors, never ignored."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from appliance.i18n import tr

Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(tr(f"không có múi giờ {value!r} (ví dụ Asia/Ho_Chi_Minh)",
                            f"unknown time zone {value!r} (e.g. Asia/Ho_Chi_Minh)")) from None
    return value


# one check for every file that names a time zone (site file, set-up file)
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class BrokerConfig(StrictModel):
    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password: str | None = None
    keepalive: int = Field(default=15, ge=5, le=600)
    ca_file: str | None = None

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError(tr("phải bắt đầu bằng mqtt:// hoặc mqtts://",
                                "must start with mqtt:// or mqtts://"))
        if not parts.hostname:
            raise ValueError(tr("thiếu tên máy (host)", "has no host name"))
        try:
            parts.port  # noqa: B018 - evaluating it validates the port number
        except ValueError as exc:
            raise ValueError(tr(f"cổng không hợp lệ: {exc}", f"bad port: {exc}")) from None
        return value

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"
