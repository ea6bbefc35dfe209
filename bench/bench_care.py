"""Care benchmark: 200 simulated sites × 8 units through one care broker (Mosquitto, TLS,
a certificate and password per site) into a `motcua care` process on this machine.

Each simulated site is one MQTT connection to the care broker with its site's
credentials, publishing exactly what its bridge would carry (unit statuses with their
health block every 30 s, the site broker's heartbeat every 10 s, the hub's inventory).

Figures: unit death → webhook p50/p99; the care server's CPU and RSS at steady state;
bridge traffic per unit per day; dashboard page time with 1,600 units. Baselines from the
same run: a bare broker round trip, a bare HTTP request to the care server.

Run: .venv/bin/python bench/bench_care.py [--sites 200] [--units 8] [--deaths 60]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import http.cookiejar
import json
import os
import random
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from typing import Any

import bcrypt
import paho.mqtt.client as mqtt

from appliance.broker import MosquittoBroker, free_port
from appliance.care.bridge import care_acl
from appliance.care.broker import CareMosquitto
from appliance.care.enrol import BrokerFiles
from appliance.care.pki import Authority
from appliance.clock import SystemClock, rfc3339
from appliance.health.collector import HealthCollector
from bench.common import ROOT, bare_round_trip, summary
from tests.care_helpers import WebhookSink

ROLES = ["hub", "dispenser", "counter", "counter", "counter", "board", "lookup", "store"]
STATUS_S, HEARTBEAT_S = 30.0, 10.0


def status(unit: str, role: str, facts: dict[str, Any], state: str = "ready") -> bytes:
    body: dict[str, Any] = {"v": 1, "unit": unit, "role": role, "state": state, "reasons": [],
                            "boot": "3f9a1c2e", "session": 1, "at": rfc3339(SystemClock().now())}
    if state != "lost":
        body.update({"health": facts, "hub": "online", "backlog": 0})
    return json.dumps(body, separators=(",", ":")).encode()


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--units", type=int, default=8)
    ap.add_argument("--deaths", type=int, default=60)
    ap.add_argument("--steady", type=float, default=30.0)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="motcua-bench-care-"))
    data = tmp / "care"
    pki = data / "pki"
    auth = Authority(pki).ensure()
    auth.issue("care-broker", pki / "server.crt", pki / "server.key", server=True,
               hosts=["127.0.0.1"])
    sites = [f"s{i:03d}" for i in range(a.sites)]
    t = time.perf_counter()
    passwords = {s: f"pw-{s}-{random.random()}" for s in sites}
    for s in sites:
        auth.issue(s, tmp / "cards" / s / "site.crt", tmp / "cards" / s / "site.key",
                   server=False)
    pwfile = data / "broker" / "passwords"
    pwfile.parent.mkdir(parents=True)
    pwfile.write_text("".join(f"{u}:{p}\n" for u, p in {**passwords, "care": "care-pw"}.items()))
    subprocess.run(["mosquitto_passwd", "-U", str(pwfile)], check=True)
    (data / "broker" / "acl").write_text(care_acl())
    print(f"enrolled {a.sites} sites (certificates, passwords) in {time.perf_counter() - t:.1f} s")
    files = BrokerFiles(pki, pwfile, data / "broker" / "acl")
    broker = CareMosquitto(files, workdir=tmp / "broker")
    broker.start()
    hook = WebhookSink()
    web_port = free_port()
    pw_hash = bcrypt.hashpw(b"bench-pass", bcrypt.gensalt(rounds=4)).decode()
    conf = tmp / "care.toml"
    conf.write_text("\n".join([
        'province = "Tỉnh Bench"', f'data_dir = "{data}"', "",
        "[broker]", f'url = "mqtt://127.0.0.1:{broker.port}"', 'username = "care"',
        'password = "care-pw"', "", "[alerts]", "cooldown_s = 900", "[alerts.webhook]",
        f'url = "{hook.url}"', "", "[web]", 'host = "127.0.0.1"', f"port = {web_port}",
        f'session_secret = "{"b" * 32}"', "", "[[accounts]]", 'username = "tinh"',
        f'password_hash = "{pw_hash}"', 'role = "province_admin"', "",
        *[f"[sites.{s}]" for s in sites]]) + "\n")
    care = subprocess.Popen([sys.executable, "-m", "appliance.cli", "care", "--config",
                             str(conf)], cwd=ROOT, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{web_port}"
    try:
        _run(a, tmp, sites, passwords, broker, care, base, hook)
    finally:
        care.terminate()
        care.wait(10)
        broker.stop()
        hook.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _run(a: argparse.Namespace, tmp: Path, sites: list[str], passwords: dict[str, str],
         broker: CareMosquitto, care: subprocess.Popen[bytes], base: str,
         hook: WebhookSink) -> None:
    facts = HealthCollector(tmp, clock=SystemClock(), version="0.1.0").facts("counter", {})
    clients: dict[str, mqtt.Client] = {}
    def wire_size(site: str, topic: str, payload: bytes) -> int:
        # MQTT 5 PUBLISH: fixed header, topic, packet id, properties length, payload
        return 2 + 2 + len(f"motcua/v1/{site}/{topic}") + 2 + 1 + len(payload)

    def publish(site: str, topic: str, payload: bytes, retain: bool = False) -> None:
        clients[site].publish(f"motcua/v1/{site}/{topic}", payload, qos=1, retain=retain)

    t = time.perf_counter()
    for s in sites:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bridge-{s}",
                        protocol=mqtt.MQTTv5)
        c.username_pw_set(s, passwords[s])
        c.tls_set(ca_certs=str(tmp / "care" / "pki" / "ca.crt"),
                  certfile=str(tmp / "cards" / s / "site.crt"),
                  keyfile=str(tmp / "cards" / s / "site.key"), cert_reqs=ssl.CERT_REQUIRED)
        c.connect("127.0.0.1", broker.tls_port, 15)
        c.loop_start()
        clients[s] = c
    units = {s: {f"{r}-{i}" if r != "hub" else "hub": r for i, r in enumerate(ROLES[:a.units])}
             for s in sites}
    for s in sites:
        publish(s, "bridge/state", b"1", retain=True)
        publish(s, "site/units", json.dumps(
            {"v": 1, "units": {u: {"role": r} for u, r in units[s].items()}}).encode(), True)
        for u, r in units[s].items():
            publish(s, f"unit/{u}/status", status(u, r, facts), retain=True)
    print(f"{len(sites)} simulated bridges up over TLS in {time.perf_counter() - t:.1f} s")
    stop = threading.Event()
    dead: set[tuple[str, str]] = set()  # killed below: their bridge carries no more statuses

    def beat() -> None:
        n = 0
        while not stop.wait(HEARTBEAT_S):
            n += 1
            for s in sites:
                publish(s, "broker/uptime", f"{n * 10} seconds".encode())
            if n % 3 == 0:
                for s in sites:
                    for u, r in units[s].items():
                        if (s, u) not in dead:
                            publish(s, f"unit/{u}/status", status(u, r, facts), retain=True)
    threading.Thread(target=beat, daemon=True).start()

    def ready_count() -> int:
        try:
            body = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
        except OSError:
            return -1
        return sum(1 for line in body.splitlines()
                   if line.startswith("motcua_unit_state{") and 'state="ready"' in line
                   and line.endswith(" 1.0"))
    total = len(sites) * a.units
    t = time.perf_counter()
    while ready_count() < total:
        if time.perf_counter() - t > 300:  # a shared, loaded machine can be this slow
            raise SystemExit(f"only {ready_count()} of {total} units ready after 300 s")
        time.sleep(1)
    print(f"care sees all {total} units ready after {time.perf_counter() - t:.1f} s")

    # steady state: CPU and memory of the care server, bytes over the bridges
    c0, t0 = cpu_s(care.pid), time.perf_counter()
    time.sleep(a.steady)
    c1, t1 = cpu_s(care.pid), time.perf_counter()
    cpu = (c1 - c0) / (t1 - t0)
    print(f"care server CPU at steady state            {cpu * 100:.1f} % of one core "
          f"({total} units)")
    print(f"care server RSS                            {rss_mb(care.pid):.0f} MB")
    # per unit per day, from the sizes of what a bridge really sends (measured above): its
    # status every STATUS_S, plus its share of the site's heartbeat; + PUBACK (4 B) and
    # ~29 B of TLS record framing per message
    st = wire_size(sites[0], "unit/counter-2/status", status("counter-2", "counter", facts))
    hb = wire_size(sites[0], "broker/uptime", b"86400 seconds")
    msgs = 86400 / STATUS_S + 86400 / HEARTBEAT_S / a.units
    day = 86400 / STATUS_S * st + 86400 / HEARTBEAT_S * hb / a.units + msgs * (4 + 29)
    print(f"bridge traffic per unit per day            {day / 1024:.0f} KiB ({st} B status "
          f"every {STATUS_S:.0f} s, {hb} B heartbeat every {HEARTBEAT_S:.0f} s per site; "
          f"{msgs:.0f} messages)")

    # dashboard page time with every unit on it
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/login", data=urllib.parse.urlencode(
        {"username": "tinh", "password": "bench-pass", "next": "/"}).encode(), timeout=10)

    def timed(path: str, n: int = 20) -> list[float]:
        out = []
        for _ in range(n):
            t = time.perf_counter()
            body = opener.open(f"{base}{path}", timeout=30).read()
            out.append(time.perf_counter() - t)
            assert body
        return out
    healthz = summary("GET /healthz (baseline)", timed("/healthz"))
    fleet = summary(f"GET / (fleet page, {len(sites)} sites)", timed("/"))
    site = summary(f"GET /site/s000 ({a.units} units, 7 days)", timed("/site/s000"))
    metr = summary(f"GET /metrics ({total} units)", timed("/metrics", 10))
    h = healthz["p50"]
    print(f"  fleet page / baseline {fleet['p50'] / h:.0f}x, site page {site['p50'] / h:.0f}x, "
          f"metrics {metr['p50'] / h:.0f}x")

    # unit deaths: the will the bridge would carry, to the webhook call
    victims = random.Random(7).sample([(s, u) for s in sites for u in units[s]
                                       if u != "hub"], a.deaths)
    started: dict[tuple[str, str], float] = {}
    for i, (s, u) in enumerate(victims):
        dead.add((s, u))
        started[(s, u)] = time.perf_counter()
        publish(s, f"unit/{u}/status", status(u, units[s][u], facts, "lost"), retain=True)
        if i % 6 == 5:
            time.sleep(1.0)
    arrivals: dict[tuple[str, str], float] = {}

    def told() -> int:
        for body, at in zip(list(hook.calls), list(hook.times), strict=False):
            if body.get("kind") == "alert" and body.get("state") == "lost":
                arrivals.setdefault((body["site"], body["unit"]), at)
        return len([v for v in victims if v in arrivals])
    deadline = time.perf_counter() + 120
    while told() < len(victims):
        if time.perf_counter() > deadline:
            break
        time.sleep(0.1)
    lat = [arrivals[v] - started[v] for v in victims if v in arrivals]
    stop.set()
    print(f"deaths told: {len(lat)} of {len(victims)}")
    death = summary("unit death (will) → webhook", lat)
    bare_b = MosquittoBroker(workdir=tmp / "bare").start()
    try:
        bare = summary("bare broker round trip (baseline)", bare_round_trip(bare_b.url, 200))
    finally:
        bare_b.stop()
    print(f"  death → webhook p50 / bare round trip p50: {death['p50'] / bare['p50']:.0f}x; "
          f"p99 {death['p99']:.2f} s (goal ≤ 60 s, moonshot ≤ 10 s). A unit that loses power "
          "adds its broker keepalive × 1.5 (15 s × 1.5 = 22.5 s) before its will.")
    for c in clients.values():
        c.loop_stop()
        c.disconnect()


if __name__ == "__main__":
    main()
