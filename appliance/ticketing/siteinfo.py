"""The hub's retained site/info, read strictly, as a ticket-printing unit needs it (offline too)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from appliance.contract import SiteInfo as SiteInfoMessage
from appliance.contract import decode, parse
from appliance.errors import ContractError
from appliance.i18n import tr

if TYPE_CHECKING:
    from appliance.ticketing.outbox import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceInfo:
    id: str
    name: str
    letter: str
    digits: int = 3


@dataclass(frozen=True)
class SiteInfo:
    office_name: str
    lookup_url: str | None
    services: dict[str, ServiceInfo]
    counters: dict[str, tuple[str, tuple[str, ...]]]  # id -> (name, service ids)
    priority_label: str
    bands: dict[str, tuple[int, int]] = field(default_factory=dict)  # this unit's bands
    # who may take a priority ticket (người cao tuổi, người khuyết tật...), as the site names them
    priority_categories: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def counter_names(self, ids: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self.counters.get(c, (f"Quầy {c}", ()))[0] for c in ids)

    def counters_for(self, service: str) -> tuple[str, ...]:
        return tuple(c for c, (_, svcs) in self.counters.items() if service in svcs)

    def digits_for(self, service: str) -> int:
        svc = self.services.get(service)
        band = self.bands.get(service)
        digits = svc.digits if svc else 3
        # the band must fit: a 4-digit band on a 3-digit service would otherwise misprint
        return max(digits, len(str(band[1]))) if band else digits


def parse_site_info(body: dict[str, Any], unit: str) -> SiteInfo:
    """ContractError("bad_request", ...) naming the field if the hub's site info is malformed."""
    try:
        services = {}
        for s in body["services"]:
            sid = str(s["id"])
            services[sid] = ServiceInfo(
                id=sid, name=str(s["name"]), letter=str(s.get("letter") or sid),
                digits=int(s.get("digits", 3)),
            )
        counters = {
            str(c["id"]): (str(c.get("name") or f"Quầy {c['id']}"),
                           tuple(str(x) for x in c.get("services", [])))
            for c in body.get("counters", [])
        }
        mine = (body.get("offline_bands") or {}).get(unit) or {}
        bands: dict[str, tuple[int, int]] = {}
        for sid, band in mine.items():
            if isinstance(band, dict):
                first, last = int(band["first"]), int(band["last"])
            else:
                first, last = int(band[0]), int(band[1])
            if last < first:
                raise ValueError(tr(f"dải số khi mất kết nối của {sid} kết thúc trước khi bắt đầu",
                                    f"offline band of {sid} ends before it starts"))
            bands[str(sid)] = (first, last)
        priority = body.get("priority") or {}
        return SiteInfo(
            office_name=str(body.get("office_name") or ""),
            lookup_url=body.get("lookup_url") or None,
            services=services,
            counters=counters,
            priority_label=str(priority.get("label") or "Ưu tiên"),
            bands=bands,
            priority_categories=tuple(str(c) for c in priority.get("categories") or ()),
            raw=body,
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ContractError("bad_request", f"site/info is malformed: {exc!r}") from None


def cached_site_info(cached: dict[str, Any] | None, unit: str) -> SiteInfo | None:
    """The site info a unit kept from its last run (to print right tickets before the hub
    answers), or None when there is none or it no longer reads (logged: a fresh one comes)."""
    if cached is None:
        return None
    try:
        return parse_site_info(cached, unit)
    except ContractError as exc:
        log.warning(tr("thông tin điểm đã lưu không dùng được: %s",
                       "cached site info unusable: %s"), exc)
        return None


def received_site_info(payload: bytes, unit: str, outbox: Outbox) -> SiteInfo | None:
    """The retained site info the hub published, read against the contract's model and then
    as this unit's view, and kept in the outbox for the next start; None when it does not
    read (logged: the unit goes on with the one it has)."""
    try:
        body = decode(payload)
        parse(SiteInfoMessage, body)
        site = parse_site_info(body, unit)
    except ContractError as exc:
        log.warning(tr("bỏ qua thông tin điểm: %s", "ignoring site info: %s"), exc)
        return None
    outbox.put("site_info", body)
    return site
