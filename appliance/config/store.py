"""The [store] section of a store unit's config file."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from appliance.config.base import StrictModel
from appliance.core.dossier_code import DEFAULT_CODE_FORMAT
from appliance.i18n import tr

Hhmm = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class StoreSection(StrictModel):
    """Settings of the dossier store: database, dossier codes, calendar, HTTP API, limits."""

    # SQLAlchemy URL; None = SQLite file ``store.sqlite3`` in the unit's data folder.
    database_url: str | None = None
    # The agency's electronic identifier code (mã định danh điện tử của cơ quan).
    agency_code: str = Field(default="000.00.06.G04", pattern=r"^[0-9A-Z][0-9A-Z.]{1,29}$")
    agency_name: str = "UBND phường Mẫu"
    office_name: str = "Trung tâm Phục vụ hành chính công phường Mẫu"
    code_format: str = DEFAULT_CODE_FORMAT
    # A TOML calendar of public holidays (relative to this file); None = the shipped one.
    calendar_file: str | None = None
    # Weekdays on which dossiers are processed (Mon=0); Saturday opening does not count.
    working_weekdays: list[int] = Field(default=[0, 1, 2, 3, 4], min_length=1, max_length=7)
    # Dossiers received after this time count from the next working day.
    cutoff: Hhmm = "16:30"
    # The public lookup page printed in the receipt's QR code (None = "<code>/<secret>").
    lookup_url: str | None = None
    # How citizens' phones reach this store's public pages on the office LAN/Wi-Fi, e.g.
    # "http://192.168.1.10:8470": the ticket page (/ticket/...) and the dossier status page
    # (/tra-cuu?ma=...&mk=...) that the ticket's and the receipt's QR codes open.
    public_base_url: Annotated[str, Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
                                          max_length=200)] | None = None
    # Load the shipped sample catalogue when the catalogue is empty.
    seed_sample_catalogue: bool = True
    http_enabled: bool = True
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8470, ge=1, le=65535)
    # Lookups per unit (MQTT) or per client address (HTTP): a token bucket.
    lookup_rate_per_s: float = Field(default=2.0, gt=0, le=100000)
    lookup_burst: int = Field(default=10, ge=1, le=1000000)
    # Failed lookups per unit per 10 minutes before it is refused (secret guessing).
    max_failed_lookups: int = Field(default=30, ge=1, le=1000000)
    # Staff accounts: TOML with [[users]] name, role, password_hash (bcrypt).
    users_file: str | None = None
    # First start with no users: create this admin from a file holding its password.
    admin_user: str = "admin"
    admin_password_file: str | None = None
    token_ttl_s: int = Field(default=8 * 3600, ge=60, le=7 * 24 * 3600)
    max_import_rows: int = Field(default=200_000, ge=1, le=10_000_000)
    board_ready_limit: int = Field(default=30, ge=1, le=500)
    workers: int = Field(default=2, ge=1, le=16)
    # The hub's config file (relative to this one): its [hub.units] say which units may ask
    # the store what, as for the hub. None = any unit may ask (logged at start).
    site_file: str | None = None

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @property
    def receipt_lookup_url(self) -> str | None:
        """The page a receipt's QR code opens: ``lookup_url``, else the store's own public
        status page under ``public_base_url``, else None (the QR then holds code/secret)."""
        if self.lookup_url:
            return self.lookup_url
        return f"{self.public_base_url}/tra-cuu" if self.public_base_url else None

    @field_validator("code_format")
    @classmethod
    def _check_format(cls, value: str) -> str:
        from datetime import date

        try:
            sample = value.format(agency="000.00.06.G04", date=date(2026, 11, 30), seq=1)
        except (KeyError, IndexError, ValueError) as exc:
            fields = "{agency}, {date:%y%m%d}, {seq:04d}"
            raise ValueError(tr(f"mẫu mã hồ sơ sai ({exc}); dùng {fields}",
                                f"bad code format ({exc}); use {fields}")) from None
        if "{seq" not in value:
            raise ValueError(tr("mẫu mã hồ sơ cần {seq...} (số thứ tự trong ngày)",
                             "the code format needs {seq...} (the daily sequence)"))
        if sample == value:
            raise ValueError(tr("mẫu mã hồ sơ không có trường nào",
                                "the code format has no fields"))
        return value

    @field_validator("working_weekdays")
    @classmethod
    def _check_weekdays(cls, value: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in value) or len(set(value)) != len(value):
            raise ValueError(tr("ngày làm việc là các số khác nhau từ 0 (thứ Hai) đến 6 (Chủ nhật)",
                             "weekdays are distinct numbers 0 (Monday) to 6 (Sunday)"))
        return sorted(value)
