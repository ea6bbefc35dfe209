"""Composition root of the hub: config → database → bus → service."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import threading
from collections.abc import Callable

from appliance.bus import Bus
from appliance.clock import Clock, SystemClock
from appliance.config import UnitConfig
from appliance.errors import ConfigError
from appliance.health import attach_health
from appliance.hub.service import HubService
from appliance.hub.shipper import RecordShipper
from appliance.hub.store import HubStore
from appliance.i18n import tr
from appliance.runtime import (
    add_common_arguments,
    load_from_args,
    return_large_buffers,
    wait_for_signal,
)
from appliance.watchdog import watch

log = logging.getLogger(__name__)


class Hub:
    def __init__(self, config: UnitConfig, clock: Clock,
                 on_fatal: Callable[[str], None] | None = None) -> None:
        if config.hub is None:
            raise ConfigError([f"{config.source}: a hub needs a [hub] section"])
        self.config = config
        self.store = HubStore(config.data_path / "hub.sqlite3")
        self.bus = Bus(site=config.site, unit=config.unit, role="hub", broker=config.broker,
                       clock=clock, status_interval_s=config.status_interval_s)
        attach_health(self.bus, config.data_path)
        self.heartbeat = watch(self.bus, "hub-worker", config.data_path)
        self.service = HubService(config.hub, self.store, self.bus, clock, on_fatal,
                                  beat=self.heartbeat.beat)
        # the day records go to the store when the site has one (docs/protocol.md)
        has_store = any(u.role == "store" for u in config.hub.units.values())
        self.shipper = (RecordShipper(config.data_path / "hub.sqlite3", self.bus)
                        if has_store else None)
        if self.shipper is not None:
            self.service.extra_status = self.shipper.status

    def start(self) -> None:
        self.bus.start(network_thread=False)  # the service's worker runs the network
        self.service.start()
        if self.shipper is not None:
            self.shipper.start()

    def stop(self) -> None:
        if self.shipper is not None:
            self.shipper.stop()
        self.service.stop()
        self.heartbeat.stop()
        self.bus.stop()
        self.store.close()


def build_hub(config: UnitConfig, *, clock: Clock | None = None,
              on_fatal: Callable[[str], None] | None = None) -> Hub:
    return_large_buffers()
    tz = config.hub.tz if config.hub else None
    return Hub(config, clock or (SystemClock(tz) if tz else SystemClock()), on_fatal)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = load_from_args(args)
    config.require_role("hub")
    # The worker releases the GIL for every fsync; with the default 5 ms switch interval it
    # then waits behind paho's busy network thread for up to 5 ms per commit (convoy effect).
    sys.setswitchinterval(0.0005)
    fatal: list[str] = []
    stop = threading.Event()

    def on_fatal(reason: str) -> None:
        fatal.append(reason)
        stop.set()

    hub = build_hub(config, on_fatal=on_fatal)
    # What is alive now lives as long as the process: the imported modules and the day
    # loaded from disk (20,000 tickets on a busy morning). Frozen, the collector no longer
    # walks them in every full collection, a pause of 40-60 ms a few times a minute under
    # load (gc.collect with 0 and 20,000 tickets: 38 and 57 ms here, 0.0 ms once frozen).
    gc.collect()
    gc.freeze()
    hub.start()
    log.info(tr("hub của điểm %s nối %s, dữ liệu ở %s",
                "hub for site %s on %s, data in %s"), config.site, config.broker.url,
             config.data_path)
    wait_for_signal(stop)
    hub.stop()
    # EX_SOFTWARE: systemd restarts the hub, which starts again from what is on disk
    return 70 if fatal else 0
