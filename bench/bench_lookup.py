"""Lookup kiosk benchmark: scan → dossier screen and touch → next screen, beside the bare broker.

Run: .venv/bin/python bench/bench_lookup.py [--n 200] [--size 1280x800]
The store runs in this process on a real mosquitto; the kiosk runs in a fresh child
process so its peak RSS is its own. Prints figures; it is not a test.
Goals (issue 7): scan → screen p99 < 150 ms, touch → screen p99 < 50 ms, RSS < 120 MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

# runnable as a script from anywhere: the project root on the path, as `python -m` would
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import multiprocessing as mp
import os
import resource
import shutil
import time
import tomllib
from pathlib import Path
from typing import Any

from bench.common import MosquittoBroker, bare_round_trip, make_bus, summary, temp_site


def _config(site: Path, name: str, url: str, data: Path, **section: Any) -> Any:
    from appliance.config import parse_unit_config

    path = site / f"{name}.toml"
    raw = tomllib.loads(path.read_text("utf-8"))
    raw[raw["role"]] = {**raw.get(raw["role"], {}), **section}
    return parse_unit_config(raw, source=path, broker_url=url, data_dir=data)


def kiosk_child(site: str, url: str, scan: str, n: int, size: tuple[int, int],
                out: Any) -> None:
    """Runs in a fresh process: the kiosk alone, measured from the inside."""
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ["SDL_AUDIODRIVER"] = "dummy"
    os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
    import pygame

    from appliance.lookup.bootstrap import build_lookup
    from appliance.lookup.state import Screen, Tap, Target
    from display.lookup import layout
    from drivers.touch import Pointer

    cfg = _config(Path(site), "lookup-1", url, Path(site) / "data" / "lookup-1",
                  width=size[0], height=size[1])
    unit = build_lookup(cfg, headless=True)
    unit.start()
    app = unit.app
    assert app.run_until(lambda s: not s.catalogue.empty, 30), "no catalogue"
    pygame.event.clear()
    # a kiosk is idle most of the time: let it measure its labels and pages off screen
    # first, as it does after start-up (LookupApp._warm_step)
    end = time.monotonic() + 3.0
    while time.monotonic() < end:
        app.step_once(wait=0.01)

    scan_s: list[float] = []
    for _ in range(n + 5):
        app.post(Tap(Target("home")))
        app.step_once()
        t0 = time.perf_counter()
        app.scan(scan)
        assert app.run_until(lambda s: s.screen is Screen.DOSSIER_RESULT, 5), app.state.error
        scan_s.append(time.perf_counter() - t0)
    scan_s = scan_s[5:]

    def centre(kind: str, value: str = "") -> tuple[float, float]:
        for b in layout(app.state, app.view):
            if b.target.kind == kind and (not value or b.target.value == value):
                return b.rect.x + b.rect.w / 2, b.rect.y + b.rect.h / 2
        raise SystemExit(f"no {kind} on {app.state.screen}")

    # home → procedures → a procedure → back → search → a key → home, over and over
    route = [("procedures", ""), ("procedure", ""), ("back", ""), ("search", ""),
             ("key", "k"), ("home", "")]
    touch_s: list[float] = []
    app.post(Tap(Target("home")))
    app.step_once()
    for i in range(n):
        kind, value = route[i % len(route)]
        if kind == "search":
            app.post(Tap(Target("home")))
            app.post(Tap(Target("procedures")))
            app.step_once()
        x, y = centre(kind, value)
        before = app.frames
        t0 = time.perf_counter()
        app.post(Pointer("down", x, y, 0.0))
        app.post(Pointer("up", x, y, 0.05))
        app.step_once()
        touch_s.append(time.perf_counter() - t0)
        assert app.frames == before + 1, f"{kind}: no new frame"
    unit.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put({"scan": scan_s, "touch": touch_s, "rss_mb": rss_mb})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--size", default="1280x800")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))

    from appliance.contract import Topics
    from appliance.store.bootstrap import build_store
    from appliance.store.models import DossierIn, StageMove

    site = temp_site()
    broker = MosquittoBroker(workdir=site / "mosquitto")
    broker.start()
    try:
        print(f"lookup kiosk benchmark, {size[0]}x{size[1]}, n={args.n}")
        summary("bare broker round trip (baseline)", bare := bare_round_trip(broker.url))
        store_cfg = _config(site, "store", broker.url, site / "data" / "store",
                            lookup_rate_per_s=100000, lookup_burst=100000,
                            max_failed_lookups=100000)
        store = build_store(store_cfg, http=False)
        store.start()
        assert store.bus.wait_connected(10)
        d = store.store.dossiers.create(
            DossierIn(procedure_code="1.001022", applicant_name="Nguyễn Văn An"), "bench")
        store.store.dossiers.move_stage(d["code"], StageMove(stage="processing"), "bench")
        scan = f"{d['code']}/{d['secret']}"

        client = make_bus(broker.url, "bench-client")
        raw: list[float] = []
        for i in range(args.n + 10):
            t0 = time.perf_counter()
            reply = client.request("store", {"op": "dossier.lookup", "code": d["code"],
                                             "secret": d["secret"]}, timeout=5)
            if i >= 10:
                raw.append(time.perf_counter() - t0)
            assert reply.get("ok"), reply
        client.stop()
        store_lookup = summary("store dossier.lookup request (no screen)", raw)
        assert Topics("demo")  # the store answers on the demo site's topics

        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        child = ctx.Process(target=kiosk_child,
                            args=(str(site), broker.url, scan, args.n, size, out))
        child.start()
        got = out.get(timeout=600)
        child.join(30)
        s = summary("scan → dossier screen rendered", got["scan"])
        t = summary("touch → next screen rendered", got["touch"])
        print(f"{'slowest scan / touch':<44} {max(got['scan']) * 1000:.1f} ms / "
              f"{max(got['touch']) * 1000:.1f} ms")
        b50 = sorted(bare)[len(bare) // 2]
        print(f"{'scan → screen p50 / bare round trip p50':<44} {s['p50'] / b50:.1f}×")
        print(f"{'scan → screen p50 / store request p50':<44} "
              f"{s['p50'] / store_lookup['p50']:.1f}×")
        print(f"{'kiosk peak RSS':<44} {got['rss_mb']:.1f} MB")
        goals = [("scan → screen p99 < 150 ms", s["p99"] < 0.150),
                 ("touch → screen p99 < 50 ms", t["p99"] < 0.050),
                 ("kiosk RSS < 120 MB", got["rss_mb"] < 120)]
        for label, ok in goals:
            print(f"  {'met ' if ok else 'MISSED'} {label}")
        store.stop()
    finally:
        broker.stop()
        shutil.rmtree(site, ignore_errors=True)


if __name__ == "__main__":
    main()
