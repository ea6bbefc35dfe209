"""Hub benchmark: durable throughput vs bare SQLite commits; request latency vs bare MQTT.

Run: .venv/bin/python bench/bench_hub.py [--ops N] [--inflight K]
Prints figures; it is not a test (machines here are shared and noisy).
"""

from __future__ import annotations

import sys
from pathlib import Path

# runnable as a script from anywhere: the project root on the path, as `python -m` would
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid

from appliance.contract import Topics, encode
from bench.common import (
    MosquittoBroker,
    bare_round_trip,
    make_bus,
    start_hub_process,
    summary,
    temp_site,
)


def bare_sqlite_commits(n: int, where: str) -> float:
    folder = tempfile.mkdtemp(dir=where)
    db = sqlite3.connect(f"{folder}/bare.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    t0 = time.perf_counter()
    for i in range(n):
        db.execute("BEGIN")
        db.execute("INSERT INTO t VALUES (?, ?)", (i, "x" * 200))
        db.execute("COMMIT")
    rate = n / (time.perf_counter() - t0)
    db.close()
    shutil.rmtree(folder)
    return rate


def hub_throughput(url: str, ops: int, inflight: int) -> float:
    """ticket.issue and counter.next alternating, ``inflight`` requests outstanding at once,
    from one light pipelined client (so the client does not starve the hub of CPU)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    topics = Topics("demo")
    reply_topic = "motcua/v1/demo/bench/replies"
    sent = [0]
    acked = [0]
    done = threading.Event()
    failures: list[bytes] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

    def send_one() -> None:
        i = sent[0]
        sent[0] += 1
        if i % 2 == 0:
            unit, body = "dispenser-1", {"op": "ticket.issue", "service": "ABCD"[i // 2 % 4]}
        else:
            c = str(1 + i // 2 % 3)
            unit, body = f"counter-{c}", {"op": "counter.next", "counter": c}
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = reply_topic
        props.CorrelationData = str(i).encode()
        client.publish(topics.req(unit), encode({"v": 1, "id": uuid.uuid4().hex, **body}),
                       qos=1, properties=props)

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        if b'"ok":true' not in m.payload:
            failures.append(bytes(m.payload))
        acked[0] += 1
        if sent[0] < ops:
            send_one()
        elif acked[0] >= ops:
            done.set()

    connected = threading.Event()

    def on_connect(*_: object) -> None:
        client.subscribe(reply_topic, qos=1)
        connected.set()

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect("127.0.0.1", int(url.rsplit(":", 1)[1]))
    client.loop_start()
    connected.wait(5)
    time.sleep(0.2)
    t0 = time.perf_counter()
    for _ in range(inflight):
        send_one()
    if not done.wait(120):
        raise SystemExit(f"only {acked[0]} of {ops} requests answered")
    rate = ops / (time.perf_counter() - t0)
    client.loop_stop()
    client.disconnect()
    if failures:
        raise SystemExit(f"hub refused {len(failures)} requests, e.g. {failures[0]!r}")
    return rate


def hub_latency(url: str, n: int) -> list[float]:
    bus = make_bus(url, "dispenser-1")
    samples = []
    for i in range(n + 20):
        t0 = time.perf_counter()
        r = bus.request("hub", {"op": "ticket.issue", "service": "D"}, timeout=5)
        if not r.get("ok"):
            raise SystemExit(f"hub refused: {r}")
        if i >= 20:
            samples.append(time.perf_counter() - t0)
    bus.stop()
    return samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=2000)
    ap.add_argument("--inflight", type=int, default=32)
    ap.add_argument("--latency-n", type=int, default=500)
    args = ap.parse_args()
    site = temp_site()
    try:
        with MosquittoBroker() as broker:
            hub = start_hub_process(site, broker.url)
            try:
                print("== durable throughput (same disk, same run) ==")
                bare = bare_sqlite_commits(args.ops, str(site))
                print(f"bare SQLite WAL synchronous=FULL commits   {bare:10.0f} /s")
                rate = hub_throughput(broker.url, args.ops, args.inflight)
                print(f"hub ticket.issue+counter.next acknowledged {rate:10.0f} /s "
                      f"({args.inflight} in flight)")
                print(f"ratio hub / bare commit                    {rate / bare:10.2f}"
                      f"   (goal >= 0.50)")
                print("== request -> reply latency over loopback ==")
                bare_rt = summary("bare broker round trip (echo client)",
                                  bare_round_trip(broker.url, args.latency_n))
                hub_rt = summary("hub ticket.issue request -> reply",
                                 hub_latency(broker.url, args.latency_n))
                limit = 3 * bare_rt["p99"] + 0.005
                ratio = hub_rt["p99"] / bare_rt["p99"]
                print(f"p99 ratio hub / bare                       {ratio:10.2f}"
                      f"   (goal p99 <= 3x bare + 5 ms = {limit * 1000:.2f} ms: "
                      f"{'met' if hub_rt['p99'] <= limit else 'NOT met'})")
            finally:
                hub.terminate()
                hub.wait(10)
    finally:
        shutil.rmtree(site, ignore_errors=True)


if __name__ == "__main__":
    main()
