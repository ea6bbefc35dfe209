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

STALE_AFTER = timedelta(minutes=3)  # units refresh their status every 30 s by default


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", metavar="URL",
                        help="broker URL (default: the credentials file's, else "
                             "mqtt://127.0.0.1:1883)")
    parser.add_argument("--site", required=True)
    parser.add_argument("--username", help="broker login (the shipped broker config "
                                           "refuses anonymous clients)")
    parser.add_argument("--password", help="broker password (visible to other users of "
                                           "this machine: prefer --credentials)")
    parser.add_argument("--credentials", type=Path, metavar="FILE",
                        help="a [broker] section as made by `motcua broker-setup` "
                             "(credentials/monitor.toml)")
    parser.add_argument("--wait", type=float, default=2.0,
                        help="seconds to collect retained statuses (default 2)")


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
    reasons = "; ".join(str(r) for r in status.get("reasons") or [])
    at = status.get("at")
    age = ""
    fresh = False
    if isinstance(at, str):
        try:
            delta = now - parse_rfc3339(at)
            age = f"{int(delta.total_seconds())} s ago"
            fresh = delta <= STALE_AFTER
        except ValueError:
            age = "bad time"
    if state == "ready" and not fresh:
        return False, f"ready but not heard from for a while ({age or 'never'})"
    healthy = state in ("ready", "stopped") and fresh
    return healthy, f"{state}{' — ' + reasons if reasons else ''}{' (' + age + ')' if age else ''}"


def broker_config(args: argparse.Namespace) -> BrokerConfig:
    """The login from --credentials, then --broker/--username/--password over it."""
    fields: dict[str, Any] = {}
    if args.credentials is not None:
        try:
            fields = dict(tomllib.loads(args.credentials.read_text())["broker"])
        except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError([f"{args.credentials}: no readable [broker] section "
                               f"({type(exc).__name__}: {exc})"]) from None
    for key in ("username", "password"):
        if getattr(args, key):
            fields[key] = getattr(args, key)
    if args.broker:
        fields["url"] = args.broker
    try:
        return BrokerConfig(**fields)
    except ValidationError as exc:
        raise ConfigError([f"broker login: {exc.errors()[0]['msg']}"]) from None


def run(args: argparse.Namespace) -> int:
    cfg = broker_config(args)
    bus = Bus(site=args.site, unit=f"monitor-{int(time.time())}", role="monitor", broker=cfg)
    bus.start()
    if not bus.wait_connected(5):
        problem = bus.connect_problem
        bus.stop()
        if problem is not None and "refused" in problem:
            print(f"the broker at {cfg.url} did not let us in (not authorised): {problem}. "
                  "Give --credentials (credentials/monitor.toml from motcua broker-setup) "
                  "or --username/--password.", file=sys.stderr)
        elif problem is not None:
            print(problem, file=sys.stderr)
        else:
            print(f"cannot reach the broker at {cfg.url}", file=sys.stderr)
        return 2
    try:
        statuses = collect(bus, args.wait)
    except NotConnected:
        return 2
    finally:
        bus.stop()
    if not statuses:
        print(f"no unit of site {args.site!r} has ever reported: wrong site id?")
        return 2
    now = SystemClock().now()
    bad = 0
    for unit, status in sorted(statuses.items()):
        if unit.startswith("monitor-"):
            continue
        ok, line = verdict(status, now)
        bad += not ok
        print(f"{'OK ' if ok else 'BAD'} {unit:<16} {status.get('role', '?'):<10} {line}")
    return 1 if bad else 0
