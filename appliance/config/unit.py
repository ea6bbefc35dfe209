"""A unit's config file: who it is, where the broker is, and its role's section."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, model_validator

from appliance.config.base import BrokerConfig, Ident, StrictModel
from appliance.config.board import BoardSection
from appliance.config.counter import CounterSection
from appliance.config.dispenser import DispenserSection
from appliance.config.lookup import LookupSection
from appliance.config.site import SiteConfig
from appliance.config.store import StoreSection
from appliance.config.ticket import TicketSection
from appliance.errors import ConfigError
from appliance.i18n import tr

Role = Literal["hub", "dispenser", "counter", "board", "lookup", "store"]
ROLE_SECTIONS = ("hub", "dispenser", "counter", "board", "lookup", "store")
TICKET_ROLES = ("dispenser", "lookup")  # the units that print tickets


class UnitConfig(StrictModel):
    site: Ident
    unit: Ident
    role: Role
    broker: BrokerConfig = BrokerConfig()
    data_dir: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    hub: SiteConfig | None = None
    dispenser: DispenserSection | None = None
    counter: CounterSection | None = None
    board: BoardSection | None = None
    lookup: LookupSection | None = None
    store: StoreSection | None = None
    ticket: TicketSection | None = None
    status_interval_s: float = Field(default=30.0, ge=1.0, le=3600.0)

    _source: Path | None = PrivateAttr(default=None)
    _data_override: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _sections_match_role(self) -> UnitConfig:
        problems = []
        for name in ROLE_SECTIONS:
            if name != self.role and getattr(self, name) is not None:
                problems.append(tr(f"[{name}] không thuộc tệp của thiết bị {self.role}",
                                   f"[{name}] does not belong in a {self.role} unit's file"))
        if self.ticket is not None and self.role not in TICKET_ROLES:
            problems.append(tr(f"[ticket] không thuộc tệp của thiết bị {self.role} (chỉ máy "
                               "lấy số và máy tra cứu in phiếu)",
                               f"[ticket] does not belong in a {self.role} unit's file "
                               "(only the dispenser and the lookup terminal print tickets)"))
        if self.role == "hub" and self.hub is None:
            problems.append(tr("hub cần mục [hub] với các dịch vụ và quầy của đơn vị",
                               "a hub needs a [hub] section with the site's services and "
                               "counters"))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def source(self) -> Path | None:
        """The file this config was read from, if any."""
        return self._source

    @property
    def base_dir(self) -> Path:
        return self._source.parent if self._source else Path.cwd()

    def resolve(self, path: str | Path) -> Path:
        """A path from the config, taken relative to the config file's folder."""
        p = Path(path)
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    @property
    def data_path(self) -> Path:
        if self._data_override is not None:
            return self._data_override
        return self.resolve(self.data_dir or f"data/{self.unit}")

    def require_role(self, role: str) -> None:
        """Refuse a config written for another kind of unit (a common install mistake)."""
        if self.role != role:
            where = self._source or "<config>"
            raise ConfigError([tr(f"{where}: role là {self.role!r}, không phải {role!r}",
                                  f"{where}: role is {self.role!r}, not {role!r}")])

    @property
    def public_url(self) -> str | None:
        """[ticket] public_url: where a phone opens this unit's tickets (None: not set)."""
        return self.ticket.public_url if self.ticket else None

    def section(self) -> object:
        return getattr(self, self.role)
