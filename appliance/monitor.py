"""`motcua status`: every unit of a site at a glance, for the people who must notice a dead
unit from afar. Exit code 0 only when every expected unit is ready and heard from within
the last minute, so it can run from cron or a monitoring system.

The units a site should have come from its site file (``--config``, the hub's file) and
from the hub's retained inventory (``site/units``): a unit that never started is listed as
``never seen`` instead of being silently missing. A stopped unit (the hub included) is not
OK: nobody is there to serve.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from appliance.bus import Bus, Message
from appliance.clock import SystemClock, parse_rfc3339
from appliance.config import load_unit_config
from appliance.config.base import BrokerConfig
from appliance.contract import UnitStatus, decode, parse
from appliance.errors import ConfigError, ContractError, NotConnected
from appliance.i18n import language, tr

# units refresh their status every 30 s by default: two missed refreshes is silence
STALE_AFTER = timedelta(seconds=60)
# what the states (wire words, kept as they are in English) read as in Vietnamese
STATE_VI = {"starting": "đang khởi động", "ready": "sẵn sàng", "alert": "cảnh báo",
            "stopped": "đã dừng", "lost": "mất kết nối", "unreadable": "không đọc được",
            "never seen": "chưa từng thấy"}
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
    parser.add_argument("--config", type=Path, metavar=tr("TỆP", "FILE"),
                        help=tr("tệp cấu hình của máy chủ tại chỗ (/etc/motcua/unit.toml trên "
                                "thẻ nhớ của hub): mã điểm, đăng nhập broker và danh sách "
                                "thiết bị phải có",
                                "the hub's config file (/etc/motcua/unit.toml on the hub's "
                                "card): the site id, the broker login and the units expected"))
    parser.add_argument("--broker", metavar="URL",
                        help=tr("địa chỉ broker MQTT (mặc định: địa chỉ trong tệp thông tin "
                                "đăng nhập hoặc tệp cấu hình, nếu không có thì "
                                "mqtt://127.0.0.1:1883)",
                                "broker URL (default: the credentials' or config file's, "
                                "else mqtt://127.0.0.1:1883)"))
    parser.add_argument("--site", metavar=tr("ĐIỂM", "SITE"),
                        help=tr("mã điểm cần xem (mặc định: mã trong --config)",
                                "the site id (default: --config's)"))
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


@dataclass
class Seen:
    """What the broker holds for the site: each unit's status, and the hub's inventory."""

    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    inventory: dict[str, str] = field(default_factory=dict)  # unit -> role


def _inventory(payload: bytes) -> dict[str, str]:
    try:
        units = decode(payload).get("units")
    except ContractError:
        return {}
    if not isinstance(units, dict):
        return {}
    return {str(u): str(v.get("role", "?")) if isinstance(v, dict) else "?"
            for u, v in units.items()}


def collect(bus: Bus, wait: float) -> Seen:
    seen = Seen()
    lock = threading.Lock()

    def on_status(msg: Message) -> None:
        try:
            body = parse(UnitStatus, msg.payload).model_dump()
        except ContractError as exc:
            body = {"state": "unreadable", "reasons": [str(exc)]}
        unit = msg.topic.split("/")[-2]
        with lock:
            seen.statuses[unit] = body

    def on_inventory(msg: Message) -> None:
        units = _inventory(msg.payload)
        with lock:
            seen.inventory = units

    bus.subscribe(bus.topics.status_filter(), on_status)
    bus.subscribe(bus.topics.site_units, on_inventory)
    time.sleep(wait)
    with lock:
        return Seen(dict(seen.statuses), dict(seen.inventory))


def verdict(status: dict[str, Any] | None, now: datetime) -> tuple[bool, str]:
    """(healthy, one line for a person). Only ``ready`` and heard from within
    ``STALE_AFTER`` is healthy: no answer, an old answer or a stop is not."""
    if status is None:
        return False, tr(STATE_VI["never seen"], "never seen")
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
    healthy = state == "ready" and fresh
    shown = tr(STATE_VI.get(str(state), str(state)), str(state))
    return healthy, f"{shown}{' — ' + reasons if reasons else ''}{' (' + age + ')' if age else ''}"


def _read_broker_section(path: Path) -> dict[str, Any]:
    try:
        return dict(tomllib.loads(path.read_text())["broker"])
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([tr(f"{path}: không đọc được mục [broker] "
                              f"({type(exc).__name__}: {exc})",
                              f"{path}: no readable [broker] section "
                              f"({type(exc).__name__}: {exc})")]) from None


def broker_config(args: argparse.Namespace,
                  base: BrokerConfig | None = None) -> BrokerConfig:
    """The config file's login (``base``), then --credentials over it, then
    --broker/--username/--password over both."""
    fields: dict[str, Any] = base.model_dump(exclude_unset=True) if base else {}
    if args.credentials is not None:
        fields = _read_broker_section(args.credentials)
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


@dataclass(frozen=True)
class Target:
    site: str
    expected: dict[str, str]  # unit -> role, from the site file
    broker: BrokerConfig | None


def target(args: argparse.Namespace) -> Target:
    """The site, the units its site file expects and the file's broker login."""
    if args.config is None:
        if not args.site:
            raise ConfigError([tr("cần --site ĐIỂM hoặc --config TỆP (tệp của hub)",
                                  "give --site SITE or --config FILE (the hub's file)")])
        return Target(args.site, {}, None)
    config = load_unit_config(args.config)
    if args.site and args.site != config.site:
        raise ConfigError([tr(f"{args.config} là tệp của điểm {config.site!r}, "
                              f"không phải {args.site!r}",
                              f"{args.config} is site {config.site!r}'s file, "
                              f"not {args.site!r}'s")])
    expected: dict[str, str] = {}
    if config.hub is not None:
        expected = {uid: u.role for uid, u in config.hub.units.items()}
        expected[config.unit] = "hub"
    return Target(config.site, expected, config.broker)


def _connect_problem(bus: Bus, cfg: BrokerConfig) -> str:
    problem = bus.connect_problem
    if problem is not None and "refused" in problem:
        return tr(f"broker tại {cfg.url} không cho vào (không có quyền): {problem}. "
                  "Hãy dùng --credentials (tệp credentials/monitor.toml do motcua "
                  "broker-setup tạo) hoặc --username/--password.",
                  f"the broker at {cfg.url} did not let us in (not authorised): {problem}. "
                  "Give --credentials (credentials/monitor.toml from motcua broker-setup) "
                  "or --username/--password.")
    if problem is not None:
        return problem
    return tr(f"không kết nối được broker tại {cfg.url}", f"cannot reach the broker at {cfg.url}")


def report(seen: Seen, expected: dict[str, str], now: datetime) -> tuple[list[str], int]:
    """The lines to print (one per unit) and how many units are not OK."""
    roles = {**seen.inventory, **expected}
    units = set(roles) | {u for u in seen.statuses if not u.startswith("monitor-")}
    lines, bad = [], 0
    for unit in sorted(units):
        status = seen.statuses.get(unit)
        ok, line = verdict(status, now)
        if roles and unit not in roles:
            line += tr(" (không có trong tệp cấu hình điểm)", " (not in the site file)")
        bad += not ok
        mark = "OK " if ok else tr("LỖI", "BAD")
        role = (status or {}).get("role") or roles.get(unit, "?")
        lines.append(f"{mark} {unit:<16} {role:<10} {line}")
    return lines, bad


def run(args: argparse.Namespace) -> int:
    where = target(args)
    cfg = broker_config(args, where.broker)
    bus = Bus(site=where.site, unit=f"monitor-{int(time.time())}", role="monitor", broker=cfg)
    bus.start()
    if not bus.wait_connected(5):
        print(_connect_problem(bus, cfg), file=sys.stderr)
        bus.stop()
        return 2
    try:
        seen = collect(bus, args.wait)
    except NotConnected:
        return 2
    finally:
        bus.stop()
    if not seen.statuses and not seen.inventory and not where.expected:
        print(tr(f"chưa có thiết bị nào của điểm {where.site!r} từng báo tình trạng: "
                 "sai mã điểm?",
                 f"no unit of site {where.site!r} has ever reported: wrong site id?"))
        return 2
    lines, bad = report(seen, where.expected, SystemClock().now())
    for line in lines:
        print(line)
    return 1 if bad else 0
