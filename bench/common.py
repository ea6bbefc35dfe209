"""Shared helpers for the benchmarks: percentiles, a broker, the bare round-trip baseline."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from appliance.broker import MosquittoBroker
from appliance.bus import Bus, Message
from appliance.clock import VN_TZ, OffsetClock
from appliance.config.base import BrokerConfig
from appliance.contract import decode, ok_reply

ROOT = Path(__file__).resolve().parent.parent
DEMO_SITE = ROOT / "firmware_config" / "examples" / "demo-site"
# how long a role may take to come up: on an emulated Pi (bench/guest_roles.py) tens of s
START_S = float(os.environ.get("MOTCUA_BENCH_START_S", "20"))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def ms(v: float) -> str:
    return f"{v * 1000:.2f} ms"


def summary(label: str, samples: list[float]) -> dict[str, float]:
    out = {"p50": pct(samples, 50), "p99": pct(samples, 99), "mean": statistics.fmean(samples)}
    print(f"{label:<44} p50 {ms(out['p50']):>10}  p99 {ms(out['p99']):>10}  (n={len(samples)})")
    return out


def make_bus(url: str, unit: str, role: str = "bench") -> Bus:
    bus = Bus(site="demo", unit=unit, role=role, broker=BrokerConfig(url=url),
              status_interval_s=3600)
    bus.start()
    if not bus.wait_connected(10):
        raise SystemExit("benchmark client could not connect")
    return bus


def bare_round_trip(url: str, n: int = 500) -> list[float]:
    """publish → an echo client → back, on mosquitto alone: the floor of any request."""
    echo = make_bus(url, "echo")
    client = make_bus(url, "client")
    got = threading.Event()
    client.subscribe("bench/pong", lambda m: got.set())

    def echo_back(m: Message) -> None:
        echo.publish("bench/pong", decode(m.payload))

    echo.subscribe("bench/ping", echo_back)
    time.sleep(0.2)
    samples = []
    for i in range(n + 20):
        got.clear()
        t0 = time.perf_counter()
        client.publish("bench/ping", {"v": 1, "i": i})
        if not got.wait(5):
            raise SystemExit("echo lost a message")
        if i >= 20:
            samples.append(time.perf_counter() - t0)
    echo.stop()
    client.stop()
    return samples


def bare_request_reply(url: str, n: int = 500) -> list[float]:
    """A request through Bus.request to an echo responder that answers with Bus.reply:
    the same MQTT 5 request/response path a unit's request to the hub takes, minus the hub."""
    echo = make_bus(url, "echo", "hub")
    client = make_bus(url, "client", "bench")
    echo.subscribe(echo.topics.req_filter("echo"),
                   lambda m: echo.reply(m, ok_reply(decode(m.payload)["id"])))
    time.sleep(0.2)
    out = []
    try:
        for i in range(n + 20):
            t0 = time.perf_counter()
            client.request("echo", {"op": "ping"}, timeout=5)
            if i >= 20:  # warm-up
                out.append(time.perf_counter() - t0)
    finally:
        client.stop()
        echo.stop()
    return out


def temp_site(enforce_hours: bool = False) -> Path:
    """A copy of the demo site in a folder on the project's disk (bench/out)."""
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    dest = Path(tempfile.mkdtemp(prefix="site-", dir=out))
    shutil.copytree(DEMO_SITE, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("data"))
    hub = dest / "hub.toml"
    text = hub.read_text()
    if not enforce_hours:
        text = text.replace("enforce = true", "enforce = false")
    # room for a benchmark's thousands of tickets a day in each service
    text = text.replace("last = 799", "digits = 4\nlast = 7999")
    text = text.replace("first = 800, last = 999", "first = 8000, last = 9999")
    hub.write_text(text)
    return dest


@contextmanager
def site_on_broker(enforce_hours: bool = False) -> Iterator[tuple[Path, MosquittoBroker]]:
    """A copy of the demo site (temp_site) and a mosquitto for it; both gone afterwards."""
    site = temp_site(enforce_hours=enforce_hours)
    broker = MosquittoBroker(workdir=site / "mosquitto")
    broker.start()
    try:
        yield site, broker
    finally:
        broker.stop()
        shutil.rmtree(site, ignore_errors=True)


@contextmanager
def running_hub(site: Path, url: str) -> Iterator[OffsetClock]:
    """The real hub of ``site`` in this process, on a clock set to a Monday 08:00."""
    from appliance.config import load_unit_config
    from appliance.hub.bootstrap import build_hub

    clock = OffsetClock(datetime(2026, 11, 30, 8, 0, tzinfo=VN_TZ))
    hub = build_hub(load_unit_config(site / "hub.toml", broker_url=url), clock=clock)
    hub.start()
    if not hub.bus.wait_connected(10):
        raise SystemExit("the hub could not connect")
    try:
        yield clock
    finally:
        hub.stop()


def request_latency(url: str, unit: str, body: dict[str, object], n: int,
                    warmup: int = 20, role: str = "bench") -> list[float]:
    """Round trips of one request to the hub, asked by a bare client as ``unit``."""
    bus = make_bus(url, unit, role)
    samples = []
    try:
        for i in range(n + warmup):
            t0 = time.perf_counter()
            r = bus.request("hub", body, timeout=10)
            if not r.get("ok"):
                raise SystemExit(f"hub refused {body}: {r}")
            if i >= warmup:
                samples.append(time.perf_counter() - t0)
    finally:
        bus.stop()
    return samples


def hub_issue(url: str, n: int, service: str, warmup: int = 10) -> list[float]:
    """The hub's own ticket.issue round trip, asked by a bare client (no unit)."""
    return request_latency(url, "dispenser-1", {"op": "ticket.issue", "service": service}, n,
                           warmup, role="dispenser")


def start_hub_process(site: Path, url: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "appliance.cli", "hub", "--config",
                             str(site / "hub.toml"), "--broker", url])
    wait_ready(url, "hub", proc)
    return proc


def wait_ready(url: str, unit: str, proc: subprocess.Popen[bytes]) -> None:
    """Until ``unit``'s status says ready (start-up is not what a benchmark measures)."""
    watcher = make_bus(url, f"{unit}-watch")
    ready = threading.Event()

    def on(m: Message) -> None:
        if decode(m.payload).get("state") == "ready":
            ready.set()

    watcher.subscribe(watcher.topics.status(unit), on)
    if not ready.wait(START_S):
        proc.kill()
        raise SystemExit(f"{unit} did not start")
    watcher.stop()


__all__ = ["MosquittoBroker", "bare_request_reply", "bare_round_trip", "hub_issue", "make_bus",
           "ms", "pct", "request_latency", "running_hub", "site_on_broker", "start_hub_process",
           "summary", "temp_site", "wait_ready"]
