"""Citizen's phone page: update latency from a counter's ``counter.next`` to the new place
arriving on the page's event stream, beside the bare broker round trip, and the cost of the
hub's ``ticket.status`` beside ``hub.ping``.

Run: .venv/bin/python bench/bench_phone.py [--n 100] [--phones 20]
A real mosquitto, the real hub (in this process, fsync on), the store's web app on uvicorn;
``--phones`` event streams are open at once (each on its own ticket), and the latency is
taken on one of them. Prints figures; it is not a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import queue
import shutil
import tempfile
import threading
import time
from datetime import datetime
from typing import Any

from bench.common import (
    MosquittoBroker,
    bare_request_reply,
    bare_round_trip,
    make_bus,
    summary,
    temp_site,
)


def _stream(url: str, out: queue.Queue[tuple[float, dict[str, Any]]],
            stop: threading.Event) -> None:
    import httpx

    with httpx.stream("GET", url, timeout=None) as r:
        for line in r.iter_lines():
            if stop.is_set():
                return
            if line.startswith("data: "):
                out.put((time.perf_counter(), json.loads(line[6:])))


def run(n: int, phones: int) -> None:
    import uvicorn

    from appliance.broker import free_port
    from appliance.bus import Bus
    from appliance.clock import VN_TZ, OffsetClock
    from appliance.config import load_unit_config
    from appliance.config.base import BrokerConfig
    from appliance.config.store import StoreSection
    from appliance.hub.bootstrap import build_hub
    from appliance.store.api import create_app
    from appliance.store.core import open_store
    from appliance.store.live.view import QueueView

    work = Path(tempfile.mkdtemp(prefix="bench-phone-"))
    broker = MosquittoBroker(workdir=work / "mosquitto")
    broker.start()
    site = temp_site()
    clock = OffsetClock(datetime(2026, 11, 30, 8, 0, tzinfo=VN_TZ))
    hub = build_hub(load_unit_config(site / "hub.toml", broker_url=broker.url), clock=clock)
    hub.start()
    hub.bus.wait_connected(10)
    port = free_port()
    store = open_store(StoreSection(public_base_url=f"http://127.0.0.1:{port}"),
                       data_path=work / "store", base_dir=work, clock=clock,
                       url=f"sqlite:///{work / 'store.sqlite3'}")
    sbus = Bus(site="demo", unit="store", role="store", broker=BrokerConfig(url=broker.url),
               clock=clock, status_interval_s=3600)
    site_cfg = load_unit_config(site / "hub.toml").hub
    view = QueueView(sbus, site_cfg)
    view.attach()
    sbus.start()
    sbus.wait_connected(10)
    app = create_app(store, live=view)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    stop = threading.Event()
    try:
        print("baselines on this machine, this run:")
        bare = summary("bare broker round trip (publish → echo → back)",
                       bare_round_trip(broker.url, 300))
        summary("bare request/reply (Bus.request → echo)", bare_request_reply(broker.url, 300))
        dispenser = make_bus(broker.url, "dispenser-1", "dispenser")
        counter = make_bus(broker.url, "counter-1", "counter")
        numbers = [dispenser.request("hub", {"op": "ticket.issue", "service": "A"},
                                     timeout=5)["ticket"]["number"]
                   for _ in range(n + phones + 5)]
        ping, status = [], []
        for i in range(200):
            t0 = time.perf_counter()
            dispenser.request("hub", {"op": "hub.ping"}, timeout=5)
            ping.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            view.ask("ticket.status", number=numbers[-1 - i % 50])
            status.append(time.perf_counter() - t0)
        summary("hub.ping (dispenser → hub → back)", ping[20:])
        summary("ticket.status (store → hub → back)", status[20:])
        # the watched phone has the last number; others follow tickets just before it
        got: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        others: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        base = f"http://127.0.0.1:{port}/ticket/demo/2026-11-30"
        for num in numbers[-phones:-1]:
            threading.Thread(target=_stream, args=(f"{base}/{num}/events", others, stop),
                             daemon=True).start()
        threading.Thread(target=_stream, args=(f"{base}/{numbers[-1]}/events", got, stop),
                         daemon=True).start()
        _, first = got.get(timeout=10)
        ahead = first["ahead"]
        lat, acked = [], []
        for i in range(n):
            t0 = time.perf_counter()
            counter.request("hub", {"op": "counter.next", "counter": "1",
                                    **({"officer": "CB01"} if i == 0 else {})}, timeout=5)
            acked.append(time.perf_counter() - t0)
            while True:
                at, body = got.get(timeout=10)
                if body.get("ahead") == ahead - 1:
                    break
            ahead -= 1
            lat.append(at - t0)
        print(f"phone page with {phones} event streams open:")
        summary("counter.next acknowledged to the counter (fsync)", acked[5:])
        phone = summary("counter.next sent → new place on the phone's stream", lat[5:])
        print(f"  ratio to the bare broker round trip: p50 ×{phone['p50'] / bare['p50']:.1f}, "
              f"p99 ×{phone['p99'] / bare['p99']:.1f}; hub questions asked: {view.asked}")
        dispenser.stop()
        counter.stop()
    finally:
        stop.set()
        server.should_exit = True
        sbus.stop()
        hub.stop()
        store.close()
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(site, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--phones", type=int, default=20)
    args = ap.parse_args()
    run(args.n, args.phones)


if __name__ == "__main__":
    main()
