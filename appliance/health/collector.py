"""Gather a unit's health block for its status, and plug it into the unit's bus.

Platform readings are cached for ``cache_s`` (one status period): a status may be
republished many times a minute (every change), and the firmware tool is a process start
on a Pi.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from appliance.clock import parse_rfc3339
from appliance.health import sources
from appliance.health.facts import HealthFacts, device_facts

if TYPE_CHECKING:
    from appliance.bus import Bus, Message
    from appliance.clock import Clock

log = logging.getLogger(__name__)


class FactSource(Protocol):
    def read(self) -> dict[str, Any]: ...


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("motcua")
    except PackageNotFoundError:
        return None


class HealthCollector:
    def __init__(self, data_dir: Path, *, clock: Clock, fake: FactSource | None = None,
                 sys_root: Path = Path("/sys"), cache_s: float = 30.0,
                 version: str | None = None) -> None:
        self.data_dir = data_dir
        self.clock = clock
        self.fake = fake
        self.sys_root = sys_root
        self.cache_s = cache_s
        self.version = version if version is not None else _version()
        self._started = time.monotonic()
        self._cached: dict[str, Any] = {}
        self._cached_at = float("-inf")
        self._offset: float | None = None
        self._lock = threading.Lock()

    def platform(self) -> dict[str, Any]:
        """Disk, SD errors, temperature, power: from the machine, or from the fake."""
        if self.fake is not None:
            return {}
        with self._lock:
            if time.monotonic() - self._cached_at < self.cache_s:
                return dict(self._cached)
        free, total = sources.disk_mb(self.data_dir)
        power = sources.power_flags(self.sys_root)
        facts = {
            "disk_free_mb": free, "disk_total_mb": total,
            "sd_write_errors": sources.sd_write_errors(self.sys_root),
            "cpu_temp_c": sources.cpu_temp_c(self.sys_root),
            "under_voltage": power.under_voltage,
            "under_voltage_seen": power.under_voltage_seen,
            "throttled": power.throttled, "throttled_seen": power.throttled_seen,
        }
        with self._lock:
            self._cached, self._cached_at = facts, time.monotonic()
        return dict(facts)

    def observe_hub_time(self, hub_at: str) -> None:
        """The hub's live status just arrived saying it is ``hub_at``: our clock's offset."""
        try:
            offset = (self.clock.now() - parse_rfc3339(hub_at)).total_seconds()
        except (ValueError, TypeError):
            return
        with self._lock:
            self._offset = round(offset, 1)

    def facts(self, role: str, fields: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": self.version,
            "uptime_s": round(time.monotonic() - self._started),
            "clock_offset_s": 0.0 if role == "hub" else self._offset,
        }
        out.update(device_facts(role, fields))
        out.update(self.platform())
        if self.fake is not None:
            out.update(self.fake.read())
        # only the contract's fields, with their types: a fake's typo must not go out
        return HealthFacts.read(out).model_dump(exclude_none=False)


def attach_health(bus: Bus, data_dir: Path, *, hub_unit: str = "hub",
                  fake: FactSource | None = None, clock: Clock | None = None) -> HealthCollector:
    """Give ``bus`` a health block in every status it publishes, and follow the hub's live
    status to know how far our clock is from the hub's."""
    collector = HealthCollector(data_dir, clock=clock or bus.clock, fake=fake)
    role = bus.role

    def provider(fields: dict[str, Any]) -> dict[str, Any]:
        return collector.facts(role, fields)

    bus.set_health_source(provider)
    if role != "hub":
        def on_hub(msg: Message) -> None:
            if msg.retain:
                return  # a retained status may be minutes old: not a clock reading
            from appliance.contract import decode
            from appliance.errors import ContractError

            try:
                at = decode(msg.payload).get("at")
            except ContractError:
                return
            if isinstance(at, str):
                collector.observe_hub_time(at)

        bus.subscribe(bus.topics.status(hub_unit), on_hub)
    return collector
