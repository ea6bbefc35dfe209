"""`motcua update`: run a unit's role from its release slot and apply the releases the
care server announces (retained ``care/release``), one at a time.

    motcua update --site S --unit U --broker URL --key release.pub --ca care-ca.crt \\
        -- motcua counter --config /etc/motcua/unit.toml
"""

from __future__ import annotations

import argparse
import queue
import threading
from pathlib import Path
from typing import Any

from appliance.config.base import BrokerConfig
from appliance.i18n import tr
from appliance.runtime import wait_for_signal
from appliance.update.bundle import Fetcher, load_public_key
from appliance.update.slots import Slots
from appliance.update.updater import Launcher, StatusWatch, Updater


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", required=True, help=tr("mã điểm", "the site id"))
    parser.add_argument("--unit", required=True, help=tr("mã thiết bị", "the unit id"))
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883", metavar="URL",
                        help=tr("địa chỉ broker MQTT", "broker URL"))
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
    parser.add_argument("command", nargs=argparse.REMAINDER, help=tr(
        "-- lệnh chạy vai trò", "-- the role's command"))


def run(args: argparse.Namespace) -> int:
    command = [c for c in args.command if c != "--"] or ["motcua", "--help"]
    slots = Slots(Path(args.root))
    broker = BrokerConfig(url=args.broker, username=args.username, password=args.password)
    watch = StatusWatch(broker, args.site, args.unit)
    launcher = Launcher(command)
    updater = Updater(slots, load_public_key(Path(args.key)),
                      Fetcher(Path(args.ca) if args.ca else None), launcher, watch,
                      deadline_s=args.deadline)
    todo: queue.Queue[dict[str, Any] | None] = queue.Queue()
    watch.on_release = todo.put  # the network thread only queues; the work is below

    def work() -> None:
        while (ann := todo.get()) is not None:
            updater.apply(ann)

    launcher.start(slots.lib_path())
    worker = threading.Thread(target=work, name="updater", daemon=True)
    worker.start()
    try:
        wait_for_signal()
    finally:
        todo.put(None)
        worker.join(timeout=5)
        launcher.stop()
        watch.close()
    return 0
