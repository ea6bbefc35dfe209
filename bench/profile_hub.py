"""Where the hub's CPU goes under load: cProfile of its worker thread (which runs the
network loop, the engine and the commits), while a pipelined client keeps it busy.

    .venv/bin/python bench/profile_hub.py [--ops 4000] [--inflight 32] [--top 25]

The hub runs in a process of its own (so the load client does not share its interpreter
lock); it writes its profile when told to stop, and this script prints the functions with
the most time of their own and the time per area (paho, sqlite, json, engine, ...).
cProfile rather than py-spy: it is in the standard library (nothing to install on a Pi),
and with one busy thread its overhead shifts all areas alike.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import cProfile
import pstats
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import defaultdict

from bench.bench_hub import hub_throughput
from bench.common import MosquittoBroker, make_bus, temp_site
from bench.hub_load import seed_hub_disk

AREAS = (("paho", "paho"), ("sqlite3", "sqlite"), ("json", "json"), ("pydantic", "pydantic"),
         ("appliance/core", "engine"), ("appliance/hub", "hub service"),
         ("appliance/bus", "bus"), ("appliance/contract", "contract"), ("socket", "socket"),
         ("selectors", "socket"), ("<built-in method select", "socket"))


def serve(site: Path, url: str, out: Path) -> None:
    """The hub, in this process, with its worker thread profiled until SIGTERM."""
    from appliance.config import load_unit_config
    from appliance.hub.bootstrap import build_hub

    sys.setswitchinterval(0.0005)  # as `motcua hub` does
    hub = build_hub(load_unit_config(site / "hub.toml", broker_url=url))
    prof = cProfile.Profile()
    run = hub.service._run

    def profiled() -> None:
        prof.enable()
        try:
            run()
        finally:
            prof.disable()

    # the worker thread was made with the unprofiled method: make it again
    hub.service._thread = threading.Thread(target=profiled, name="hub-worker", daemon=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    hub.start()
    stop.wait()
    hub.stop()
    prof.dump_stats(str(out))


def area_of(filename: str, name: str) -> str:
    for needle, area in AREAS:
        if needle in filename or needle in name:
            return area
    return "other"


def report(path: Path, top: int) -> None:
    stats = pstats.Stats(str(path))
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    by_area: dict[str, float] = defaultdict(float)
    for (filename, _, name), v in stats.stats.items():  # type: ignore[attr-defined]
        by_area[area_of(filename, name)] += v[2]
    print(f"== worker thread: {total:.2f} s of own time in all functions ==")
    for area, t in sorted(by_area.items(), key=lambda kv: -kv[1]):
        print(f"{area:<14} {t:7.2f} s  {100 * t / total:5.1f} %")
    print(f"== top {top} functions by own time ==")
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=4000)
    ap.add_argument("--inflight", type=int, default=32)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--tmpfs", action="store_true", help="hub database in /dev/shm")
    ap.add_argument("--keep", metavar="FILE", help="also save the profile here")
    ap.add_argument("--waiting", type=int, default=0, help="tickets already waiting")
    ap.add_argument("--serve", nargs=3, metavar=("SITE", "URL", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), args.serve[1], Path(args.serve[2]))
        return
    site = temp_site()
    if args.tmpfs:  # the hub's database in memory: the CPU's share without fsync waits
        moved = Path(tempfile.mkdtemp(prefix="site-", dir="/dev/shm"))
        shutil.copytree(site, moved, dirs_exist_ok=True)
        shutil.rmtree(site)
        site = moved
    if args.waiting:
        seed_hub_disk(site, args.waiting)
    out = site / "hub.prof"
    try:
        with MosquittoBroker() as broker:
            proc = subprocess.Popen([sys.executable, __file__, "--serve", str(site), broker.url,
                                     str(out)])
            watcher = make_bus(broker.url, "hub-watch")
            ready = threading.Event()
            watcher.subscribe(watcher.topics.status("hub"),
                              lambda m: ready.set() if b'"ready"' in m.payload else None)
            if not ready.wait(20):
                proc.kill()
                raise SystemExit("hub did not start")
            watcher.stop()
            t0 = time.perf_counter()
            rate = hub_throughput(broker.url, args.ops, args.inflight)
            print(f"{args.ops} requests, {args.inflight} in flight: {rate:.0f} /s under cProfile"
                  f" ({time.perf_counter() - t0:.1f} s)")
            proc.send_signal(signal.SIGTERM)
            if proc.wait(30) != 0 or not out.exists():
                raise SystemExit(f"the profiled hub failed (exit {proc.returncode})")
        report(out, args.top)
        if args.keep:
            shutil.copy(out, args.keep)
    finally:
        shutil.rmtree(site, ignore_errors=True)


if __name__ == "__main__":
    main()
