"""A whole virtual office: broker, hub and the example site's units on virtual hardware.

Roles plug in through ``appliance.demo.<role>_unit.attach(office)``; each may replace the
two hooks the simulator drives (``press_ticket`` and ``counter_action``) with versions
that go through its virtual hardware (mock GPIO pins, a fake keypad, ...).
"""

from __future__ import annotations

import importlib
import logging
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.broker import MosquittoBroker
from appliance.bus import Bus
from appliance.clock import Clock
from appliance.config import UnitConfig, load_unit_config
from appliance.config.base import BrokerConfig
from appliance.config.site import SiteConfig
from appliance.errors import MotcuaError, NotConnected, RequestTimeout
from appliance.hub.bootstrap import Hub, build_hub
from appliance.i18n import tr

log = logging.getLogger(__name__)
EXAMPLE_SITE = Path(__file__).resolve().parents[2] / "firmware_config" / "examples" / "demo-site"

# Roles whose virtual units the demo starts, in start order (the store first: others ask it).
PLUGINS: list[str] = ["store", "counter", "board", "dispenser", "lookup"]

COUNTER_OPS = {"open": "counter.open", "next": "counter.next", "finish": "counter.finish",
               "no_show": "counter.no_show", "recall": "counter.recall",
               "close": "counter.close", "rate": "rating.submit"}


class Office:
    def __init__(self, out_dir: Path, clock: Clock, *, headless: bool,
                 broker_url: str | None = None, site_src: Path = EXAMPLE_SITE) -> None:
        self.out_dir = out_dir.resolve()
        self.clock = clock
        self.headless = headless
        self.site_dir = self.out_dir / "site"
        if self.site_dir.exists():
            shutil.rmtree(self.site_dir)
        shutil.copytree(site_src, self.site_dir, ignore=shutil.ignore_patterns("data"))
        self._broker: MosquittoBroker | None = None
        if broker_url is None:
            self._broker = MosquittoBroker(workdir=self.out_dir / "mosquitto")
            self._broker.start()
            broker_url = self._broker.url
        self.broker_url = broker_url
        self.hub_config: UnitConfig = load_unit_config(self.site_dir / "hub.toml",
                                                       broker_url=broker_url)
        assert self.hub_config.hub is not None
        self.site: SiteConfig = self.hub_config.hub
        self.hub: Hub | None = None
        self._stops: list[Callable[[], None]] = []
        self._buses: dict[str, Bus] = {}
        self.press_ticket: Callable[[str, bool], str | None] = self._press_direct
        self.counter_action: Callable[..., dict[str, Any] | None] = self._counter_direct
        self.attached: list[str] = []
        self.interrupted = False  # told to stop (a signal): stop fast, skip the niceties

    def unit_config(self, unit: str) -> UnitConfig:
        return load_unit_config(self.site_dir / f"{unit}.toml", broker_url=self.broker_url)

    def start(self) -> None:
        self.hub = build_hub(self.hub_config, clock=self.clock)
        self.hub.start()
        if not self.hub.bus.wait_connected(10):
            raise MotcuaError(tr("hub của bản chạy thử không kết nối được broker",
                                 "the demo hub could not reach its broker"))
        for role in PLUGINS:
            module = importlib.import_module(f"appliance.demo.{role}_unit")
            self._stops.append(module.attach(self))
            self.attached.append(role)
            log.info(tr("demo: %s đã chạy", "demo: %s attached"), role)

    def stop(self) -> None:
        for role, stop in reversed(list(zip(self.attached, self._stops, strict=False))):
            began = time.monotonic()
            try:
                stop()
            except Exception:  # stopping must go on for the others; the error is logged
                log.exception(tr("demo: một thiết bị không dừng được",
                                 "demo: a unit failed to stop"))
            log.debug("demo: %s stopped in %.2f s", role, time.monotonic() - began)
        began = time.monotonic()
        for bus in self._buses.values():
            bus.stop()
        if self.hub is not None:
            self.hub.stop()
        log.debug("demo: hub stopped in %.2f s", time.monotonic() - began)
        if self._broker is not None:
            self._broker.stop()
        log.debug("demo: broker stopped in %.2f s", time.monotonic() - began)

    # ---- default hooks: the units' requests without their hardware -----------------
    def bus_for(self, unit: str, role: str) -> Bus:
        """A connected bus client of the office (made once per unit, stopped with it)."""
        return self._bus(unit, role)

    def _bus(self, unit: str, role: str) -> Bus:
        bus = self._buses.get(unit)
        if bus is None:
            bus = Bus(site=self.hub_config.site, unit=unit, role=role,
                      broker=BrokerConfig(url=self.broker_url), clock=self.clock)
            bus.start()
            bus.wait_connected(10)
            self._buses[unit] = bus
        return bus

    def _request(self, unit: str, role: str, body: dict[str, Any]) -> dict[str, Any] | None:
        rid = uuid.uuid4().hex
        for _ in range(3):
            try:
                return self._bus(unit, role).request("hub", body, timeout=5, req_id=rid)
            except (RequestTimeout, NotConnected) as exc:
                log.warning("demo: %s %s: %s", unit, body.get("op"), exc)
        return None

    def _press_direct(self, service: str, priority: bool) -> str | None:
        r = self._request("dispenser-1", "dispenser",
                          {"op": "ticket.issue", "service": service, "priority": priority})
        return r["ticket"]["number"] if r and r.get("ok") else None

    def _counter_direct(self, counter: str, action: str, **extra: Any) -> dict[str, Any] | None:
        return self._request(f"counter-{counter}", "counter",
                             {"op": COUNTER_OPS[action], "counter": counter, **extra})
