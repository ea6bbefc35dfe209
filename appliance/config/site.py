"""The hub's site definition: services, counters, units and what each unit may do."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from appliance.config.base import Ident, StrictModel, TimeZoneName
from appliance.i18n import tr

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# What each kind of unit may ask the hub by default; a unit entry can add or remove ops.
# A store unit that lists ``counters`` acts for them from the officer's counter screen
# (STORE_COUNTER_OPS), only with the code of an officer the counter lists in ``officers``.
ROLE_OPS: dict[str, frozenset[str]] = {
    "dispenser": frozenset({"ticket.issue", "ticket.void", "ticket.import"}),
    "counter": frozenset(
        {
            "counter.next", "counter.recall", "counter.no_show", "counter.finish",
            "counter.transfer", "counter.park", "counter.resume", "counter.call",
            "counter.open", "counter.close", "counter.sync", "rating.submit",
        }
    ),
    "board": frozenset(),
    "lookup": frozenset(),
    # the store asks where a ticket stands, for the citizen's phone page (read-only)
    "store": frozenset({"ticket.status"}),
    # e.g. an office PC that writes the boards' notice line (the broker ACL allows that)
    "admin": frozenset(),
}


STORE_COUNTER_OPS = frozenset({
    "counter.status", "counter.next", "counter.recall", "counter.no_show", "counter.finish",
    "counter.transfer", "counter.park", "counter.resume", "counter.call", "counter.open",
    "counter.close",
})


class ServiceConfig(StrictModel):
    id: Ident
    name: str = Field(min_length=1)
    name_en: str | None = None
    prefix: str = Field(default="", pattern=r"^[A-Z]{0,2}$")
    digits: int = Field(default=3, ge=2, le=4)
    first: int = Field(default=1, ge=0)
    last: int = Field(default=899, ge=1)
    daily_cap: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check_range(self) -> ServiceConfig:
        if self.last < self.first:
            raise ValueError(tr(f"last ({self.last}) nhỏ hơn first ({self.first})",
                                f"last ({self.last}) is below first ({self.first})"))
        if self.last >= 10**self.digits:
            raise ValueError(tr(f"last ({self.last}) không vừa {self.digits} chữ số",
                                f"last ({self.last}) does not fit in {self.digits} digits"))
        return self

    @property
    def letter(self) -> str:
        return self.prefix or self.id

    def format_number(self, n: int) -> str:
        return f"{self.letter}{n:0{self.digits}d}"


class CounterConfig(StrictModel):
    id: Ident
    name: str = ""
    services: list[Ident] = Field(min_length=1)
    # Officer codes (the store accounts' officer_code) that may work this counter from the
    # officer's screen of the store; the hub refuses the store any other code for it.
    officers: list[Annotated[str, Field(min_length=1, max_length=16)]] = Field(
        default_factory=list)

    @property
    def label(self) -> str:
        return self.name or f"Quầy {self.id}"


class Band(StrictModel):
    first: int = Field(ge=0)
    last: int = Field(ge=0)

    @model_validator(mode="after")
    def _order(self) -> Band:
        if self.last < self.first:
            raise ValueError(tr(f"last ({self.last}) nhỏ hơn first ({self.first})",
                                f"last ({self.last}) is below first ({self.first})"))
        return self


class UnitEntry(StrictModel):
    role: Literal["dispenser", "counter", "board", "lookup", "store", "admin"]
    counters: list[Ident] = Field(default_factory=list)
    offline_bands: dict[str, Band] = Field(default_factory=dict)
    allow: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)

    def ops(self) -> frozenset[str]:
        base = ROLE_OPS[self.role]
        if self.role == "store" and self.counters:
            base = base | STORE_COUNTER_OPS
        return (base | frozenset(self.allow)) - frozenset(self.deny)


class Hours(StrictModel):
    open: time = time(7, 30)
    close: time = time(17, 0)
    days: list[Weekday] = Field(
        default_factory=lambda: list[Weekday](["mon", "tue", "wed", "thu", "fri"])
    )
    enforce: bool = True


class Priority(StrictModel):
    label: str = "Ưu tiên"
    label_en: str = "Priority"
    categories: list[str] = Field(
        default_factory=lambda: [
            "người cao tuổi", "phụ nữ mang thai", "người khuyết tật", "người có công",
        ]
    )
    max_in_row: int = Field(default=3, ge=1, le=20)


class SiteConfig(StrictModel):
    office_name: str = Field(min_length=1)
    office_name_en: str | None = None
    timezone: TimeZoneName = "Asia/Ho_Chi_Minh"
    reset_at: time = time(4, 0)
    default_service_time_s: int = Field(default=300, ge=10)
    lookup_url: str | None = None
    hours: Hours = Hours()
    priority: Priority = Priority()
    services: list[ServiceConfig] = Field(min_length=1)
    counters: list[CounterConfig] = Field(min_length=1)
    units: dict[Ident, UnitEntry] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_check(self) -> SiteConfig:
        problems: list[str] = []
        ids = [s.id for s in self.services]
        letters = [s.letter for s in self.services]
        if len(set(ids)) != len(ids):
            problems.append(tr("services: hai dịch vụ trùng id",
                               "services: two services share an id"))
        if len(set(letters)) != len(letters):
            problems.append(tr("services: hai dịch vụ trùng chữ đầu số",
                               "services: two services share a number prefix"))
        cids = [c.id for c in self.counters]
        if len(set(cids)) != len(cids):
            problems.append(tr("counters: hai quầy trùng id", "counters: two counters share an id"))
        for ctr in self.counters:
            for sid in ctr.services:
                if sid not in ids:
                    problems.append(tr(f"counters.{ctr.id}.services: không có dịch vụ {sid!r}",
                                       f"counters.{ctr.id}.services: unknown service {sid!r}"))
        by_id = {s.id: s for s in self.services}
        taken: dict[str, list[tuple[int, int, str]]] = {}
        for uid, unit in self.units.items():
            for cid in unit.counters:
                if cid not in cids:
                    problems.append(tr(f"units.{uid}.counters: không có quầy {cid!r}",
                                       f"units.{uid}.counters: unknown counter {cid!r}"))
            for sid, band in unit.offline_bands.items():
                svc = by_id.get(sid)
                if svc is None:
                    problems.append(tr(f"units.{uid}.offline_bands.{sid}: không có dịch vụ này",
                                       f"units.{uid}.offline_bands.{sid}: unknown service"))
                    continue
                if band.last >= 10**svc.digits:
                    problems.append(tr(
                        f"units.{uid}.offline_bands.{sid}: {band.last} không vừa "
                        f"{svc.digits} chữ số",
                        f"units.{uid}.offline_bands.{sid}: {band.last} does not fit "
                        f"in {svc.digits} digits"))
                if band.first <= svc.last and band.last >= svc.first:
                    problems.append(tr(
                        f"units.{uid}.offline_bands.{sid}: {band.first}-{band.last} trùng "
                        f"dải số của hub {svc.first}-{svc.last}",
                        f"units.{uid}.offline_bands.{sid}: {band.first}-{band.last} overlaps "
                        f"the hub's own numbers {svc.first}-{svc.last}"))
                for first, last, other in taken.get(sid, []):
                    if band.first <= last and band.last >= first:
                        problems.append(tr(
                            f"units.{uid}.offline_bands.{sid}: trùng dải số của {other}",
                            f"units.{uid}.offline_bands.{sid}: overlaps the band of {other}"))
                taken.setdefault(sid, []).append((band.first, band.last, uid))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def service(self, sid: str) -> ServiceConfig | None:
        return next((s for s in self.services if s.id == sid), None)

    def counter(self, cid: str) -> CounterConfig | None:
        return next((c for c in self.counters if c.id == cid), None)
