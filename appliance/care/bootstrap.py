"""`motcua care`: the province care server's composition root, and its subcommands
(`enrol SITE`, `keygen`, `release BUNDLE`, `broker`, `reload`)."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from appliance.care.alerts import Dispatcher
from appliance.care.config import CareConfig, load_care_config
from appliance.care.fleet import Fleet
from appliance.care.history import History
from appliance.care.link import CareLink
from appliance.clock import Clock, SystemClock
from appliance.i18n import tr
from appliance.runtime import wait_for_signal

log = logging.getLogger(__name__)
KEEP_DAYS = 35  # the dashboard shows 7 days, the digest one


class CareServer:
    def __init__(self, config: CareConfig, *, clock: Clock | None = None,
                 web: bool = True) -> None:
        self.config = config
        self.clock = clock or SystemClock(ZoneInfo(config.timezone))
        self.history = History(config.data_path / "care.sqlite3")
        self.fleet = Fleet({sid: s.name or sid for sid, s in config.sites.items()},
                           config.thresholds.model(), self.history, started=self.clock.now())
        self.alerts = Dispatcher(config.alerts, self.history,
                                 digest_file=config.data_path / "digest-day")
        self.link = CareLink(config.broker, self.fleet, self.clock)
        self.web_enabled = web
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="care-tick", daemon=True)
        self._server: Any = None
        self._http: threading.Thread | None = None
        self.ticks = 0

    def start(self) -> None:
        now = self.clock.now()
        self.fleet.restore(self.history.told(), now)
        self.alerts.start(now)
        self.link.start()
        self._ticker.start()
        if self.web_enabled:
            self._start_web()

    def tick(self) -> None:
        now = self.clock.now()
        events = self.fleet.evaluate(now)
        told = self.fleet.take_told()
        if events or told:
            self.alerts.submit(events, now, told)
        if self.alerts.maybe_digest(self.fleet.sites(), now):
            self.history.prune(now - timedelta(days=KEEP_DAYS))
        self.ticks += 1

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.config.tick_s):
            try:
                self.tick()
            except Exception:  # a bug in one tick must not end the province's watch
                log.exception(tr("một lượt theo dõi bị lỗi",
                                 "care tick failed"))

    def _start_web(self) -> None:
        import uvicorn

        from appliance.care.web import create_app

        w = self.config.web
        cfg = uvicorn.Config(create_app(self), host=w.host, port=w.port, log_level="warning",
                             access_log=False, ssl_certfile=self._path(w.tls_cert),
                             ssl_keyfile=self._path(w.tls_key))
        self._server = uvicorn.Server(cfg)
        self._http = threading.Thread(target=self._server.run, name="care-web", daemon=True)
        self._http.start()

    def _path(self, p: str | None) -> str | None:
        return str(self.config.resolve(p)) if p else None

    @property
    def web_started(self) -> bool:
        return bool(self._server is not None and self._server.started)

    def stop(self) -> None:
        self._stop.set()
        self._ticker.join(timeout=5)
        if self._server is not None:
            self._server.should_exit = True
        if self._http is not None:
            self._http.join(timeout=5)
        self.link.stop()
        self.alerts.stop()
        self.history.close()


def build_care(config: CareConfig, *, clock: Clock | None = None,
               web: bool = True) -> CareServer:
    return CareServer(config, clock=clock, web=web)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar=tr("TỆP", "FILE"),
                        help=tr("tệp cấu hình care.toml", "care.toml"))
    sub = parser.add_subparsers(dest="care_command", metavar=tr("VIỆC", "ACTION"))
    e = sub.add_parser("enrol", help=tr(
        "chứng chỉ, mật khẩu và cấu hình cầu nối cho một điểm",
        "certificates, password and bridge config for a site"))
    e.add_argument("site", help=tr("mã điểm", "the site id"))
    e.add_argument("--out", metavar=tr("THƯ_MỤC", "DIR"), help=tr(
        "nơi ghi các tệp cho thẻ nhớ của điểm (mặc định: DATA/sites/SITE)",
        "where to write the site's card files (default: DATA/sites/SITE)"))
    e.add_argument("--site-file", metavar="HUB_TOML", help=tr(
        "tệp cấu hình điểm của máy chủ tại chỗ (được kiểm tra)", "the hub's site file (checked)"))
    e.add_argument("--card-dir", metavar=tr("THƯ_MỤC", "DIR"), help=tr(
        "nơi đặt các tệp trên thẻ nhớ của điểm (mặc định /etc/motcua/care)",
        "where the files go on the site's card (default /etc/motcua/care)"))
    sub.add_parser("broker", help=tr(
        "chạy broker chăm sóc (Mosquitto của Debian) với cấu hình do enrol chuẩn bị",
        "run the care broker (Debian's Mosquitto) with the config enrol prepares"))
    sub.add_parser("reload", help=tr(
        "bảo broker chăm sóc đang chạy đọc lại mật khẩu và ACL (SIGHUP)",
        "make the running care broker re-read its passwords and ACL (SIGHUP)"))
    sub.add_parser("keygen", help=tr(
        "tạo khoá Ed25519 để ký bản phát hành (DATA/release.key)",
        "make the Ed25519 release signing key (DATA/release.key)"))
    r = sub.add_parser("release", help=tr(
        "ký một gói wheel và thông báo cho các điểm",
        "sign a bundle of wheels and announce it to sites"))
    r.add_argument("bundle", help=tr("thư mục chứa các wheel của dự án",
                                     "a folder with the project's wheels"))
    r.add_argument("--version", required=True,
                   help=tr("số phiên bản của bản phát hành", "the release's version"))
    r.add_argument("--site", action="append", default=[],
                   help=tr("chỉ thông báo cho điểm này (lặp lại được; mặc định: mọi điểm)",
                           "announce to this site only (repeat; default: every site)"))


def run(args: argparse.Namespace) -> int:
    config = load_care_config(args.config)
    if args.care_command == "enrol":
        from appliance.care.enrol import enrol

        out = Path(args.out) if args.out else config.data_path / "sites" / args.site
        done = enrol(config, args.site, out,
                     card_dir=Path(args.card_dir) if args.card_dir else None,
                     site_file=Path(args.site_file) if args.site_file else None)
        print(tr(f"điểm {done.site}: đã ghi các tệp cho thẻ nhớ vào {done.out}",
                 f"site {done.site}: card files written to {done.out}"))
        print((done.out / "credentials.txt").read_text(), end="")
        if done.reloaded:
            print(tr("broker chăm sóc đang chạy đã đọc lại mật khẩu: điểm kết nối được ngay",
                     "the running care broker re-read its passwords: the site can bridge now"))
        else:
            print(tr("không thấy broker chăm sóc đang chạy từ các tệp này: nó sẽ đọc mật khẩu "
                     "mới khi khởi động (hoặc: systemctl reload motcua-care-broker)",
                     "no care broker runs from these files: it reads the new password when "
                     "it starts (or: systemctl reload motcua-care-broker)"))
        return 0
    if args.care_command == "broker":
        from appliance.care.broker import exec_broker

        exec_broker(config)  # does not return
        return 0
    if args.care_command == "reload":
        from appliance.care.enrol import broker_files, reload_broker

        if reload_broker(broker_files(config)):
            return 0
        print(tr("không thấy broker chăm sóc đang chạy", "no care broker is running"),
              file=sys.stderr)
        return 1
    if args.care_command in ("keygen", "release"):
        return _release(config, args)
    server = build_care(config)
    server.start()
    try:
        wait_for_signal()
    finally:
        server.stop()
    return 0


def _release(config: CareConfig, args: argparse.Namespace) -> int:
    from appliance.care.release import announcement, keygen, make_release, release_topic
    from appliance.contract import encode

    key = config.data_path / "release.key"
    if args.care_command == "keygen":
        keygen(key, config.data_path / "release.pub")
        pub = config.data_path / "release.pub"
        print(tr(f"đã ghi khoá ký bản phát hành; hãy chép {pub} cho mọi thiết bị",
                 f"release key written; give every unit {pub}"))
        return 0
    out = make_release(Path(args.bundle), args.version, key, config.data_path / "releases")
    print(tr(f"đã ký bản phát hành {args.version} trong {out}",
             f"release {args.version} signed in {out}"))
    base = config.web.public_url
    if not base:
        print(tr("chưa đặt web.public_url trong care.toml: chưa thông báo cho điểm nào",
                 "web.public_url is not set: not announced"), file=sys.stderr)
        return 1
    sites = args.site or sorted(config.sites)
    link = CareLink(config.broker, Fleet({}, config.thresholds.model()), SystemClock(),
                    client_id="motcua-care-release")
    link.start()
    for site in sites:
        link.publish(release_topic(site), encode(announcement(args.version, base)), retain=True)
        print(tr(f"đã thông báo cho {site}", f"announced to {site}"))
    time.sleep(1.0)  # let the QoS 1 publishes go out before disconnecting
    link.stop()
    return 0
