"""Store benchmark: dossier.lookup and procedure.search through MQTT, beside baselines.

    .venv/bin/python bench/bench_store.py [--dossiers 1000000] [--db sqlite|postgresql|both]

For each database: generate N dossiers (timed), start the store in its own process on a
private mosquitto, then measure in the same run
  * a bare echo responder on the same broker (the floor any MQTT request pays),
  * a bare indexed select of the same rows (sqlite3 / psycopg, no MQTT, no SQLAlchemy),
  * dossier.lookup through MQTT: p50/p99 one at a time, lookups/s with several in flight,
  * procedure.search through MQTT: p50/p99.
Prints the figures with ratios against the baselines. Not a test: it only prints.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from appliance.broker import MosquittoBroker  # noqa: E402
from appliance.bus import Bus  # noqa: E402
from appliance.config.base import BrokerConfig  # noqa: E402
from appliance.config.store import StoreSection  # noqa: E402

SETTINGS: dict[str, Any] = dict(lookup_rate_per_s=1e5, lookup_burst=1_000_000,
                                max_failed_lookups=1_000_000, workers=4,
                                seed_sample_catalogue=True)
QUERIES = ["chung thuc", "ho tich", "khai sinh", "dat dai", "ket hon", "2.000635", "tro cap",
           "giay chung nhan", "ho kinh doanh", "hoa giai", "ban sao", "khuyet tat"]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000


def _serve_store(db_url: str, broker_url: str, tmp: str, ready: Any, stop: Any) -> None:
    from appliance.store.core import open_store
    from appliance.store.service import StoreService

    store = open_store(StoreSection(**SETTINGS), data_path=Path(tmp), base_dir=Path(tmp),
                       url=db_url)
    bus = Bus(site="bench", unit="store", role="store", broker=BrokerConfig(url=broker_url),
              status_interval_s=3600)
    svc = StoreService(bus, store)
    svc.start()
    bus.start()
    bus.wait_connected(10)
    time.sleep(0.5)
    ready.set()
    stop.wait()
    svc.stop()
    bus.stop()
    store.close()


def _serve_echo(broker_url: str, ready: Any, stop: Any) -> None:
    from appliance.bus import Message
    from appliance.contract import decode, ok_reply

    bus = Bus(site="bench", unit="echo", role="echo", broker=BrokerConfig(url=broker_url),
              status_interval_s=3600)

    def on_req(msg: Message) -> None:
        req = decode(msg.payload)
        bus.reply(msg, ok_reply(req["id"], echo=req.get("op")))

    bus.subscribe(bus.topics.req_filter("echo"), on_req)
    bus.start()
    bus.wait_connected(10)
    time.sleep(0.5)
    ready.set()
    stop.wait()
    bus.stop()


def clients(broker_url: str, n: int) -> list[Bus]:
    out = []
    for i in range(n):
        b = Bus(site="bench", unit=f"client-{i}", role="lookup",
                broker=BrokerConfig(url=broker_url), status_interval_s=3600)
        b.start()
        b.wait_connected(10)
        out.append(b)
    return out


def latency(bus: Bus, target: str, bodies: list[dict[str, Any]]) -> list[float]:
    times = []
    for body in bodies:
        t0 = time.perf_counter()
        r = bus.request(target, body, timeout=10)
        times.append(time.perf_counter() - t0)
        if not r.get("ok"):
            raise SystemExit(f"bench: {target} answered {r}")
    return times


def throughput(buses: list[Bus], target: str, bodies: list[dict[str, Any]],
               seconds: float) -> float:
    count = [0] * len(buses)
    end = time.perf_counter() + seconds

    def run(i: int) -> None:
        k = i
        while time.perf_counter() < end:
            buses[i].request(target, bodies[k % len(bodies)], timeout=10)
            count[i] += 1
            k += len(buses)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(buses))]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(count) / (time.perf_counter() - t0)


def bare_select(db_url: str, codes: list[str]) -> list[float]:
    times = []
    if db_url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        q = "SELECT * FROM dossiers WHERE code = ?"
        for c in codes:
            t0 = time.perf_counter()
            conn.execute(q, (c,)).fetchone()
            times.append(time.perf_counter() - t0)
        conn.close()
    else:
        import psycopg

        dsn = db_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn) as pg:
            for c in codes:
                t0 = time.perf_counter()
                pg.execute("SELECT * FROM dossiers WHERE code = %s", (c,)).fetchone()
                times.append(time.perf_counter() - t0)
    return times


def bench_db(name: str, db_url: str, n: int, samples: int, seconds: float,
             inflight: int) -> None:
    from sqlalchemy import select

    from appliance.store.core import open_store
    from appliance.store.generate import fill
    from appliance.store.schema import dossiers

    tmp = tempfile.mkdtemp(prefix="bench-store-")
    store = open_store(StoreSection(**SETTINGS), data_path=Path(tmp), base_dir=Path(tmp),
                       url=db_url)
    t0 = time.perf_counter()
    made = fill(store.dossiers, n, seed=1)
    gen_s = time.perf_counter() - t0
    with store.engine.connect() as conn:
        rows = conn.execute(select(dossiers.c.code, dossiers.c.secret)).all()
    store.close()
    rng = random.Random(2)
    picks = [rows[rng.randrange(len(rows))] for _ in range(samples)]
    lookups = [{"op": "dossier.lookup", "code": c, "secret": s} for c, s in picks]
    searches = [{"op": "procedure.search", "q": QUERIES[i % len(QUERIES)], "limit": 20}
                for i in range(samples)]
    echoes = [{"op": "echo", "n": i} for i in range(samples)]

    broker = MosquittoBroker(workdir=Path(tmp) / "mosquitto")
    broker.start()
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    ready_s, ready_e = ctx.Event(), ctx.Event()
    procs = [ctx.Process(target=_serve_store, args=(db_url, broker.url, tmp, ready_s, stop)),
             ctx.Process(target=_serve_echo, args=(broker.url, ready_e, stop))]
    for p in procs:
        p.start()
    ready_s.wait(120)
    ready_e.wait(60)
    buses = clients(broker.url, inflight)
    try:
        latency(buses[0], "echo", echoes[:50])  # warm up both paths
        latency(buses[0], "store", lookups[:50])
        echo_lat = latency(buses[0], "echo", echoes)
        look_lat = latency(buses[0], "store", lookups)
        search_lat = latency(buses[0], "store", searches)
        bare_lat = bare_select(db_url, [c for c, _ in picks])
        echo_tp = throughput(buses, "echo", echoes, seconds)
        look_tp = throughput(buses, "store", lookups, seconds)
    finally:
        for b in buses:
            b.stop()
        stop.set()
        for p in procs:
            p.join(20)
        broker.stop()

    e50, e99 = pct(echo_lat, 50), pct(echo_lat, 99)
    l50, l99 = pct(look_lat, 50), pct(look_lat, 99)
    print(f"\n== {name}: {made:,} dossiers generated and inserted in {gen_s:.1f} s "
          f"({made / gen_s:,.0f}/s, plus one history row each)")
    print(f"  bare indexed select      p50 {pct(bare_lat, 50):7.3f} ms  p99 "
          f"{pct(bare_lat, 99):7.3f} ms")
    print(f"  echo responder (MQTT)    p50 {e50:7.3f} ms  p99 {e99:7.3f} ms  "
          f"{echo_tp:8.0f} req/s ({inflight} in flight)")
    print(f"  dossier.lookup (MQTT)    p50 {l50:7.3f} ms  p99 {l99:7.3f} ms  "
          f"{look_tp:8.0f} req/s ({inflight} in flight)")
    print(f"    p99 over echo: +{l99 - e99:.3f} ms (goal <= +3 ms: "
          f"{'met' if l99 - e99 <= 3 else 'NOT met'}); throughput {look_tp / echo_tp:.0%} of "
          f"echo (goal >= 50%: {'met' if look_tp >= echo_tp / 2 else 'NOT met'}); "
          f"p50 {l50 / max(pct(bare_lat, 50), 1e-6):.0f}x the bare select")
    s99 = pct(search_lat, 99)
    print(f"  procedure.search (MQTT)  p50 {pct(search_lat, 50):7.3f} ms  p99 {s99:7.3f} ms "
          f"(goal < 20 ms: {'met' if s99 < 20 else 'NOT met'})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dossiers", type=int, default=1_000_000)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--inflight", type=int, default=4)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-store-db-"))
    if args.db in ("sqlite", "both"):
        bench_db("SQLite (WAL, synchronous=FULL)", f"sqlite:///{tmp / 'store.sqlite3'}",
                 args.dossiers, args.samples, args.seconds, args.inflight)
    if args.db in ("postgresql", "both"):
        from tests.pg import PgServer

        pg = PgServer()
        pg.start()
        try:
            bench_db("PostgreSQL 15", pg.new_database(), args.dossiers, args.samples,
                     args.seconds, args.inflight)
        finally:
            pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
