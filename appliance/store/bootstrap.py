"""Composition root of the store: ``motcua store --config store.toml``."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from typing import Any

from appliance.bus import Bus
from appliance.clock import Clock, SystemClock
from appliance.config import UnitConfig
from appliance.config.store import StoreSection
from appliance.runtime import add_common_arguments, load_from_args, wait_for_signal
from appliance.store.core import Store, open_store
from appliance.store.service import StoreService
from appliance.watchdog import watch

log = logging.getLogger(__name__)


class StoreUnit:
    """The running store: database, MQTT service and (optionally) the HTTP API."""

    def __init__(self, config: UnitConfig, *, clock: Clock | None = None,
                 database_url: str | None = None, http: bool | None = None,
                 http_port: int | None = None) -> None:
        settings = config.store or StoreSection()
        if http_port is not None:
            settings = settings.model_copy(update={"http_port": http_port})
        self.clock = clock or SystemClock()
        self.store: Store = open_store(settings, data_path=config.data_path,
                                       base_dir=config.base_dir, clock=self.clock,
                                       url=database_url)
        self.bus = Bus(site=config.site, unit=config.unit, role="store", broker=config.broker,
                       clock=self.clock, status_interval_s=config.status_interval_s)
        self.heartbeat = watch(self.bus, "store-workers", config.data_path)
        self.service = StoreService(self.bus, self.store, beat=self.heartbeat.beat)
        self.http_enabled = settings.http_enabled if http is None else http
        self._server: Any = None
        self._http_thread: threading.Thread | None = None

    def start(self) -> None:
        self.service.start()
        self.bus.start()
        if self.http_enabled:
            self._start_http()

    def _start_http(self) -> None:
        import uvicorn

        from appliance.store.api import create_app

        s = self.store.settings
        cfg = uvicorn.Config(create_app(self.store), host=s.http_host, port=s.http_port,
                             log_level="warning", access_log=False)
        self._server = uvicorn.Server(cfg)
        self._http_thread = threading.Thread(target=self._server.run, name="store-http",
                                             daemon=True)
        self._http_thread.start()
        log.info("store HTTP API on http://%s:%d/docs", s.http_host, s.http_port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._http_thread is not None:
            self._http_thread.join(timeout=5)
        self.service.stop()
        self.bus.stop()
        self.store.close()


def build_store(config: UnitConfig, *, clock: Clock | None = None,
                database_url: str | None = None, http: bool | None = None,
                http_port: int | None = None) -> StoreUnit:
    config.require_role("store")
    return StoreUnit(config, clock=clock, database_url=database_url, http=http,
                     http_port=http_port)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--database", metavar="URL", help="database URL (overrides the file)")
    parser.add_argument("--no-http", action="store_true", help="do not serve the HTTP API")
    parser.add_argument("--set-user", metavar="NAME:ROLE",
                        help="create or update a staff account (password read from stdin), "
                             "then exit")


def run(args: argparse.Namespace) -> int:
    config = load_from_args(args)
    if args.set_user:
        name, _, role = args.set_user.partition(":")
        store = open_store(config.store or StoreSection(), data_path=config.data_path,
                           base_dir=config.base_dir, url=args.database)
        password = sys.stdin.readline().rstrip("\n")
        if len(password) < 8:
            print("motcua store: the password needs at least 8 characters", file=sys.stderr)
            return 2
        store.users.set_user(name, role or "staff", password=password)
        store.close()
        print(f"account {name!r} ({role or 'staff'}) saved")
        return 0
    unit = build_store(config, database_url=args.database, http=False if args.no_http else None)
    unit.start()
    try:
        wait_for_signal()
    finally:
        unit.stop()
    return 0
