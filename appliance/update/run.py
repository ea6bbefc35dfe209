"""`motcua update`: run a unit's role from its release slot and apply the releases the
care server announces (retained ``care/release``), one at a time. A role that exits by
itself (not for a switch) ends the updater with its code, so systemd restarts both.

    motcua update --config /etc/motcua/unit.toml --key release.pub --ca care-ca.crt \\
        -- motcua counter --config /etc/motcua/unit.toml
"""

from __future__ import annotations

import argparse
import logging
import queue
import threading
from pathlib import Path
from typing import Any

from appliance.config import load_unit_config
from appliance.config.base import BrokerConfig
from appliance.errors import ConfigError
from appliance.i18n import tr
from appliance.runtime import wait_for_signal
from appliance.update.bundle import Fetcher, load_public_key
from appliance.update.slots import Slots
from appliance.update.updater import Launcher, StatusWatch, Updater
from appliance.watchdog import Notifier

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar=tr("TỆP", "FILE"), help=tr(
        "tệp cấu hình của thiết bị: mã điểm, mã thiết bị và đăng nhập broker",
        "the unit's config file: its site, unit id and broker login"))
    parser.add_argument("--site", help=tr("mã điểm (mặc định: của --config)",
                                          "the site id (default: --config's)"))
    parser.add_argument("--unit", help=tr("mã thiết bị (mặc định: của --config)",
                                          "the unit id (default: --config's)"))
    parser.add_argument("--broker", metavar="URL",
                        help=tr("địa chỉ broker MQTT (mặc định: của --config, nếu không có "
                                "thì mqtt://127.0.0.1:1883)",
                                "broker URL (default: --config's, else mqtt://127.0.0.1:1883)"))
    parser.add_argument("--username", help=tr("tên đăng nhập broker", "broker login"))
    parser.add_argument("--password", help=tr("mật khẩu broker", "broker password"))
    parser.add_argument("--key", required=True, help=tr(
        "tệp release.pub của máy chủ chăm sóc", "the care server's release.pub"))
    parser.add_argument("--ca", help=tr(
        "chứng chỉ CA của máy chủ chăm sóc (tải qua HTTPS)",
        "the care server's CA certificate (HTTPS downloads)"))
    parser.add_argument("--root", default="/var/lib/motcua/releases",
                        help=tr("thư mục chứa các khe bản phát hành",
                                "the folder of the release slots"))
    parser.add_argument("--deadline", type=float, default=120.0,
                        help=tr("số giây để bản phát hành mới đạt trạng thái sẵn sàng "
                                "(mặc định 120)",
                                "seconds a new release has to reach ready (default 120)"))
    # not "command": the top-level parser keeps the subcommand's name there
    parser.add_argument("role_command", nargs=argparse.REMAINDER, metavar="COMMAND", help=tr(
        "-- lệnh chạy vai trò", "-- the role's command"))


def who(args: argparse.Namespace) -> tuple[str, str, BrokerConfig]:
    """(site, unit, broker login): from --config, with the options over it."""
    site, unit, fields = args.site, args.unit, {}
    if args.config is not None:
        config = load_unit_config(args.config)
        site, unit = site or config.site, unit or config.unit
        fields = config.broker.model_dump(exclude_unset=True)
    for key, value in (("url", args.broker), ("username", args.username),
                       ("password", args.password)):
        if value:
            fields[key] = value
    if not site or not unit:
        raise ConfigError([tr("cần --config TỆP, hoặc --site và --unit",
                              "give --config FILE, or --site and --unit")])
    return site, unit, BrokerConfig(**fields)


def run(args: argparse.Namespace) -> int:
    command = [c for c in args.role_command if c != "--"]
    if not command:
        raise ConfigError([tr("thiếu lệnh chạy vai trò sau --", "no role command after --")])
    site, unit, broker = who(args)
    slots = Slots(Path(args.root))
    watch = StatusWatch(broker, site, unit)
    launcher = Launcher(command)
    notifier = Notifier.from_env()
    updater = Updater(slots, load_public_key(Path(args.key)),
                      Fetcher(Path(args.ca) if args.ca else None), launcher, watch,
                      deadline_s=args.deadline, beat=lambda: notifier.send(watchdog=1))
    todo: queue.Queue[dict[str, Any] | None] = queue.Queue()
    watch.on_release = todo.put  # the network thread only queues; the work is below

    def work() -> None:
        while (ann := todo.get()) is not None:
            updater.apply(ann)

    launcher.start(slots.lib_path())
    worker = threading.Thread(target=work, name="updater", daemon=True)
    worker.start()
    done = threading.Event()
    died: list[int] = []

    def supervise() -> None:
        while not done.wait(1.0):
            code = launcher.exit_code()
            if code is not None and not updater.busy:
                log.error(tr("chương trình của thiết bị tự thoát với mã %s",
                             "the role exited by itself with code %s"), code)
                died.append(code)
                done.set()

    threading.Thread(target=supervise, name="supervise", daemon=True).start()
    try:
        wait_for_signal(done)
    finally:
        done.set()
        todo.put(None)
        worker.join(timeout=5)
        launcher.stop()
        watch.close()
    return (died[0] or 1) if died else 0
