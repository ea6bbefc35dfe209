"""The care server's strict config (``care.toml``): unknown keys and wrong types are errors."""

from __future__ import annotations

import tomllib
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from appliance.care.model import Thresholds
from appliance.config.base import BrokerConfig, Ident, StrictModel
from appliance.config.loader import explain
from appliance.errors import ConfigError
from appliance.i18n import tr


class ThresholdSection(StrictModel):
    # the defaults tell a person within 60 s of any death (docs/care.md)
    unit_silence_s: float = Field(default=65.0, gt=0)
    site_silence_s: float = Field(default=30.0, gt=0)
    never_seen_after_s: float = Field(default=30.0, ge=0)
    disk_min_mb: int = Field(default=200, ge=0)
    cpu_hot_c: float = 80.0
    clock_max_offset_s: float = Field(default=10.0, gt=0)

    def model(self) -> Thresholds:
        return Thresholds(**self.model_dump())


class WebhookSection(StrictModel):
    url: str = Field(pattern=r"^https?://")
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    attempts: int = Field(default=3, ge=1, le=10)


class EmailSection(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(min_length=3)
    to: list[str] = Field(min_length=1)
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=120)


class AlertSection(StrictModel):
    cooldown_s: float = Field(default=900.0, ge=0)
    digest_at: time = time(7, 0)
    webhook: WebhookSection | None = None
    email: EmailSection | None = None


class WebSection(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8440, ge=0, le=65535)
    tls_cert: str | None = None
    tls_key: str | None = None
    session_secret: str = Field(min_length=16)
    public_url: str | None = None  # how units reach the release downloads (https://...)
    metrics_token: str | None = None  # a bearer token /metrics asks for, when set


class Account(StrictModel):
    username: Ident
    password_hash: str = Field(pattern=r"^\$2[aby]\$")
    role: Literal["province_admin", "site_viewer"]
    sites: list[Ident] = Field(default_factory=list)

    @model_validator(mode="after")
    def _viewer_has_sites(self) -> Account:
        if self.role == "site_viewer" and not self.sites:
            raise ValueError(tr("tài khoản site_viewer cần danh sách điểm được xem (sites)",
                                "a site_viewer needs the sites they may see"))
        return self


class SiteEntry(StrictModel):
    name: str = ""


class CareBroker(StrictModel):
    """Where sites' bridges reach the care broker (written into their bridge config)."""

    public_host: str = "127.0.0.1"
    public_port: int = Field(default=8883, ge=1, le=65535)
    keepalive_s: int = Field(default=10, ge=1, le=300)
    site_heartbeat_s: int = Field(default=10, ge=1, le=60)  # the site broker's $SYS interval


class CareConfig(StrictModel):
    province: str = Field(min_length=1)
    timezone: str = "Asia/Ho_Chi_Minh"
    data_dir: str = "/var/lib/motcua-care"
    broker: BrokerConfig
    care_broker: CareBroker = CareBroker()
    thresholds: ThresholdSection = ThresholdSection()
    alerts: AlertSection = AlertSection()
    web: WebSection
    accounts: list[Account] = Field(default_factory=list)
    sites: dict[Ident, SiteEntry] = Field(default_factory=dict)
    tick_s: float = Field(default=1.0, gt=0, le=10)

    _source: Path | None = PrivateAttr(default=None)

    def resolve(self, path: str) -> Path:
        p = Path(path)
        base = self._source.parent if self._source else Path.cwd()
        return p if p.is_absolute() else (base / p).resolve()

    @property
    def data_path(self) -> Path:
        return self.resolve(self.data_dir)


def parse_care_config(data: dict[str, object], source: Path | None = None) -> CareConfig:
    try:
        config = CareConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(explain(str(source or "<care config>"), exc)) from None
    config._source = source.resolve() if source else None
    return config


def load_care_config(path: str | Path) -> CareConfig:
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([tr(f"{source}: không đọc được tệp: {exc.strerror or exc}",
                              f"{source}: cannot read the file: {exc.strerror or exc}")]) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([tr(f"{source}: không phải TOML UTF-8 hợp lệ: {exc}",
                              f"{source}: not valid UTF-8 TOML: {exc}")]) from None
    return parse_care_config(data, source)
