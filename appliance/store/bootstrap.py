"""Composition root of the store: ``motcua store --config store.toml``."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

from appliance.bus import Bus
from appliance.clock import Clock, SystemClock
from appliance.config import UnitConfig, load_unit_config
from appliance.config.store import StoreSection
from appliance.errors import ConfigError
from appliance.health import attach_health
from appliance.i18n import tr
from appliance.runtime import (
    add_common_arguments,
    load_from_args,
    return_large_buffers,
    wait_for_signal,
)
from appliance.store.core import Store, open_store
from appliance.store.live.view import QueueView
from appliance.store.service import StoreService
from appliance.watchdog import watch

log = logging.getLogger(__name__)


class StoreUnit:
    """The running store: database, MQTT service and (optionally) the HTTP API."""

    def __init__(self, config: UnitConfig, *, clock: Clock | None = None,
                 database_url: str | None = None, http: bool | None = None,
                 http_port: int | None = None,
                 on_fatal: Callable[[str], None] | None = None) -> None:
        return_large_buffers()
        settings = config.store or StoreSection()
        if http_port is not None:
            settings = settings.model_copy(update={"http_port": http_port})
        self.clock = clock or SystemClock()
        self.store: Store = open_store(settings, data_path=config.data_path,
                                       base_dir=config.base_dir, clock=self.clock,
                                       url=database_url)
        self.bus = Bus(site=config.site, unit=config.unit, role="store", broker=config.broker,
                       clock=self.clock, status_interval_s=config.status_interval_s)
        attach_health(self.bus, config.data_path)
        units = None
        site = None
        hub_unit = "hub"
        if settings.site_file:
            site_config = load_unit_config(config.resolve(settings.site_file))
            site, hub_unit = site_config.hub, site_config.unit
            if site is None:
                raise ConfigError([f"{config.source}: [store] site_file "
                                   f"{settings.site_file!r} is not a hub's file"])
            units = site.units
        # the queue as the hub publishes it: the phone's ticket page, the counter screens
        self.live = QueueView(self.bus, site)
        self.live.attach()
        self.heartbeat = watch(self.bus, "store-workers", config.data_path)
        self.service = StoreService(self.bus, self.store, units=units, on_fatal=on_fatal,
                                    beat=self.heartbeat.beat, hub_unit=hub_unit)
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
        # open event streams (phones, counter screens) must not hold a stop for minutes
        cfg = uvicorn.Config(create_app(self.store, live=self.live), host=s.http_host,
                             port=s.http_port, log_level="warning", access_log=False,
                             timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(cfg)
        self._http_thread = threading.Thread(target=self._server.run, name="store-http",
                                             daemon=True)
        self._http_thread.start()
        log.info(tr("trang tiếp nhận hồ sơ ở http://%s:%d/ (tài liệu API ở /docs)",
                    "reception desk on http://%s:%d/ (API docs at /docs)"), s.http_host,
                 s.http_port)

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
                http_port: int | None = None,
                on_fatal: Callable[[str], None] | None = None) -> StoreUnit:
    config.require_role("store")
    return StoreUnit(config, clock=clock, database_url=database_url, http=http,
                     http_port=http_port, on_fatal=on_fatal)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--database", metavar="URL", help=tr(
        "địa chỉ cơ sở dữ liệu (thay cho địa chỉ trong tệp)", "database URL (overrides the file)"))
    parser.add_argument("--no-http", action="store_true", help=tr(
        "không mở API HTTP", "do not serve the HTTP API"))
    parser.add_argument("--set-user", metavar=tr("TÊN:VAI_TRÒ", "NAME:ROLE"),
                        help=tr("tạo hoặc sửa một tài khoản, VAI_TRÒ là staff, processor, "
                                "leader hoặc admin (mật khẩu đọc từ stdin), rồi thoát; tài "
                                "khoản hằng ngày được quản lý ở trang /admin/users của quầy",
                                "create or update an account, ROLE one of staff, processor, "
                                "leader, admin (password read from stdin), then exit; "
                                "day-to-day accounts are managed on the desk's /admin/users "
                                "page"))


def run(args: argparse.Namespace) -> int:
    config = load_from_args(args)
    if args.set_user:
        name, _, role = args.set_user.partition(":")
        store = open_store(config.store or StoreSection(), data_path=config.data_path,
                           base_dir=config.base_dir, url=args.database)
        password = sys.stdin.readline().rstrip("\n")
        if len(password) < 8:
            print(tr("motcua store: mật khẩu cần ít nhất 8 ký tự",
                     "motcua store: the password needs at least 8 characters"), file=sys.stderr)
            return 2
        store.users.set_user(name, role or "staff", password=password)
        store.close()
        print(tr(f"đã lưu tài khoản {name!r} ({role or 'staff'})",
                 f"account {name!r} ({role or 'staff'}) saved"))
        return 0
    fatal: list[str] = []
    stop = threading.Event()

    def on_fatal(reason: str) -> None:
        fatal.append(reason)
        stop.set()

    unit = build_store(config, database_url=args.database,
                       http=False if args.no_http else None, on_fatal=on_fatal)
    unit.start()
    try:
        wait_for_signal(stop)
    finally:
        unit.stop()
    # EX_SOFTWARE: a worker died; systemd starts the store again
    return 70 if fatal else 0
