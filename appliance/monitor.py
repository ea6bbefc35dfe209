"""`motcua status`: every unit of a site at a glance, for the people who must notice a dead
unit from afar. Exit code 0 only when every unit is ready and recently heard from, so it
can run from cron or a monitoring system.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from appliance.bus import Bus, Message
from appliance.clock import SystemClock, parse_rfc3339
from appliance.config.base import BrokerConfig
from appliance.contract import UnitStatus, parse
from appliance.errors import ConfigError, ContractError, NotConnected
from appliance.i18n import language, tr

STALE_AFTER = timedelta(minutes=3)  # units refresh their status every 30 s by default
# what the states (wire words, kept as they are in English) read as in Vietnamese
STATE_VI = {"starting": "đang khởi động", "ready": "sẵn sàng", "alert": "cảnh báo",
            "stopped": "đã dừng", "lost": "mất kết nối", "unreadable": "không đọc được"}
# The reasons' codes stay on the wire (the care server keys its alerts on them); a person
# reading `motcua status` gets the words for them, the code kept beside for the manual.
REASON_VI = {
    "paper_out": "máy in hết giấy", "paper_low": "giấy sắp hết",
    "printer_unreachable": "không mở được máy in",
    "printer_not_answering": "máy in không trả lời",
    "printer_write_failed": "không gửi được phiếu tới máy in",
    "hub_offline": "mất kết nối với hub", "hub_unreachable": "mất kết nối với hub",
    "no_site_info": "chưa nhận được thông tin điểm từ hub",
    "clock_not_set": "đồng hồ chưa đúng", "band_exhausted": "hết dải số khi mất kết nối",
    "import_rejected": "hub từ chối số cấp lúc mất kết nối",
    "keypad_missing": "không thấy bàn phím quầy",
    "rating_keys_missing": "không thấy bàn phím đánh giá",
    "board_fault": "bảng LED báo lỗi", "board_port_error": "không mở được cổng bảng LED",
    "offline_backlog": "còn thao tác lúc mất kết nối chưa gửi",
    "ratings_pending": "còn đánh giá chưa gửi",
    "store_no_answer": "kho hồ sơ không trả lời",
    "catalogue_missing": "chưa có danh mục thủ tục",
    "catalogue_refresh_failed": "không cập nhật được danh mục thủ tục",
    "database": "cơ sở dữ liệu", "disk": "thẻ nhớ", "worker fault": "lỗi luồng xử lý",
    "restarted after": "đã khởi động lại sau",
    "hub unreachable or not synced": "mất kết nối với hub hoặc chưa đồng bộ",
    "no queue state from the hub yet": "chưa nhận được hàng chờ từ hub",
    "waiting for the hub's queue state": "đang chờ hàng chờ từ hub",
    "no speaker": "không có loa", "no audio device": "không có thiết bị âm thanh",
    "audio device failed": "thiết bị âm thanh lỗi",
}


def reason_text(reason: str) -> str:
    """``paper_out`` → ``máy in hết giấy (paper_out)``; the detail after a colon kept."""
    code, colon, detail = reason.partition(":")
    words = REASON_VI.get(code.strip())
    if words is None or language() == "en":
        return reason
    return f"{words} ({code.strip()}){colon}{detail}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", metavar="URL",
                        help=tr("địa chỉ broker MQTT (mặc định: địa chỉ trong tệp thông tin "
                                "đăng nhập, nếu không có thì mqtt://127.0.0.1:1883)",
                                "broker URL (default: the credentials file's, else "
                                "mqtt://127.0.0.1:1883)"))
    parser.add_argument("--site", required=True, metavar=tr("ĐIỂM", "SITE"),
                        help=tr("mã điểm cần xem", "the site id"))
    parser.add_argument("--username", metavar=tr("TÊN", "NAME"), help=tr(
        "tên đăng nhập broker (cấu hình broker kèm theo không nhận kết nối ẩn danh)",
        "broker login (the shipped broker config refuses anonymous clients)"))
    parser.add_argument("--password", metavar=tr("MẬT_KHẨU", "PASSWORD"), help=tr(
        "mật khẩu broker (người dùng khác trên máy này nhìn thấy được: nên dùng --credentials)",
        "broker password (visible to other users of this machine: prefer --credentials)"))
    parser.add_argument("--credentials", type=Path, metavar=tr("TỆP", "FILE"),
                        help=tr("tệp có mục [broker] do `motcua broker-setup` tạo "
                                "(credentials/monitor.toml)",
                                "a [broker] section as made by `motcua broker-setup` "
                                "(credentials/monitor.toml)"))
    parser.add_argument("--wait", type=float, default=2.0, metavar=tr("GIÂY", "WAIT"),
                        help=tr("số giây chờ nhận tình trạng các thiết bị (mặc định 2)",
                                "seconds to collect retained statuses (default 2)"))


def collect(bus: Bus, wait: float) -> dict[str, dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()

    def on(msg: Message) -> None:
        try:
            body = parse(UnitStatus, msg.payload).model_dump()
        except ContractError as exc:
            body = {"state": "unreadable", "reasons": [str(exc)]}
        unit = msg.topic.split("/")[-2]
        with lock:
            seen[unit] = body

    bus.subscribe(bus.topics.status_filter(), on)
    time.sleep(wait)
    with lock:
        return dict(seen)


def verdict(status: dict[str, Any], now: datetime) -> tuple[bool, str]:
    """(healthy, one line for a person). No answer and old answers are not healthy."""
    state = status.get("state", "?")
    reasons = "; ".join(reason_text(str(r)) for r in status.get("reasons") or [])
    at = status.get("at")
    age = ""
    fresh = False
    if isinstance(at, str):
        try:
            delta = now - parse_rfc3339(at)
            seconds = int(delta.total_seconds())
            age = tr(f"{seconds} giây trước", f"{seconds} s ago")
            fresh = delta <= STALE_AFTER
        except ValueError:
            age = tr("thời điểm sai", "bad time")
    if state == "ready" and not fresh:
        return False, tr(f"sẵn sàng nhưng lâu rồi không thấy báo ({age or 'chưa bao giờ'})",
                         f"ready but not heard from for a while ({age or 'never'})")
    healthy = state in ("ready", "stopped") and fresh
    shown = tr(STATE_VI.get(str(state), str(state)), str(state))
    return healthy, f"{shown}{' — ' + reasons if reasons else ''}{' (' + age + ')' if age else ''}"


def broker_config(args: argparse.Namespace) -> BrokerConfig:
    """The login from --credentials, then --broker/--username/--password over it."""
    fields: dict[str, Any] = {}
    if args.credentials is not None:
        try:
            fields = dict(tomllib.loads(args.credentials.read_text())["broker"])
        except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError([tr(f"{args.credentials}: không đọc được mục [broker] "
                                  f"({type(exc).__name__}: {exc})",
                                  f"{args.credentials}: no readable [broker] section "
                                  f"({type(exc).__name__}: {exc})")]) from None
    for key in ("username", "password"):
        if getattr(args, key):
            fields[key] = getattr(args, key)
    if args.broker:
        fields["url"] = args.broker
    try:
        return BrokerConfig(**fields)
    except ValidationError as exc:
        raise ConfigError([tr(f"đăng nhập broker: {exc.errors()[0]['msg']}",
                              f"broker login: {exc.errors()[0]['msg']}")]) from None


def run(args: argparse.Namespace) -> int:
    cfg = broker_config(args)
    bus = Bus(site=args.site, unit=f"monitor-{int(time.time())}", role="monitor", broker=cfg)
    bus.start()
    if not bus.wait_connected(5):
        problem = bus.connect_problem
        bus.stop()
        if problem is not None and "refused" in problem:
            print(tr(f"broker tại {cfg.url} không cho vào (không có quyền): {problem}. "
                     "Hãy dùng --credentials (tệp credentials/monitor.toml do motcua "
                     "broker-setup tạo) hoặc --username/--password.",
                     f"the broker at {cfg.url} did not let us in (not authorised): {problem}. "
                     "Give --credentials (credentials/monitor.toml from motcua broker-setup) "
                     "or --username/--password."), file=sys.stderr)
        elif problem is not None:
            print(problem, file=sys.stderr)
        else:
            print(tr(f"không kết nối được broker tại {cfg.url}",
                     f"cannot reach the broker at {cfg.url}"), file=sys.stderr)
        return 2
    try:
        statuses = collect(bus, args.wait)
    except NotConnected:
        return 2
    finally:
        bus.stop()
    if not statuses:
        print(tr(f"chưa có thiết bị nào của điểm {args.site!r} từng báo tình trạng: "
                 "sai mã điểm?",
                 f"no unit of site {args.site!r} has ever reported: wrong site id?"))
        return 2
    now = SystemClock().now()
    bad = 0
    for unit, status in sorted(statuses.items()):
        if unit.startswith("monitor-"):
            continue
        ok, line = verdict(status, now)
        bad += not ok
        mark = "OK " if ok else tr("LỖI", "BAD")
        print(f"{mark} {unit:<16} {status.get('role', '?'):<10} {line}")
    return 1 if bad else 0
