"""Dispenser latency and ticket size: button press → first byte at the printer.

Runs a real mosquitto, the real hub (demo site, opening hours not enforced) and the real
dispenser (bootstrap.build_dispenser) with gpiozero mock pins and a fake ESC/POS printer
served on a pty through pyserial. Beside it, in the same run: the bare broker round trip
(a Bus request answered at once by a Bus echo responder) and the hub's own ticket.issue
round trip without dispenser.

    .venv/bin/python bench/bench_dispenser.py [--n 200]

Goals (issue 3): press → first byte p99 < 150 ms; an 80 mm ticket < 40 KB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import tomllib
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gpiozero.pins.mock import MockFactory  # noqa: E402

from appliance.clock import VN_TZ, OffsetClock  # noqa: E402
from appliance.config import parse_unit_config  # noqa: E402
from appliance.config.dispenser import TicketLayout  # noqa: E402
from appliance.dispenser.bootstrap import build_dispenser  # noqa: E402
from appliance.dispenser.service import Outcome  # noqa: E402
from appliance.ticketing.ticket import TicketView, qr_text, render_ticket  # noqa: E402
from bench.common import (  # noqa: E402
    bare_request_reply,
    hub_issue,
    ms,
    pct,
    running_hub,
    site_on_broker,
)
from drivers.printer import FakePrinter, PtyPrinter, build_job  # noqa: E402


def line(label: str, xs: list[float]) -> dict[str, float]:
    out = {"p50": pct(xs, 50), "p99": pct(xs, 99), "mean": statistics.fmean(xs)}
    print(f"  {label:<46} p50 {ms(out['p50']):>10}  p99 {ms(out['p99']):>10}  (n={len(xs)})")
    return out


def press_flow(url: str, site: Path, n: int) -> dict[str, list[float]]:
    pty = PtyPrinter(FakePrinter()).start()
    arrivals: list[tuple[float, bytes]] = []
    pty.printer.on_data = lambda data, at: arrivals.append((at, data[:8]))
    path = site / "dispenser-1.toml"
    data = tomllib.loads(path.read_text())
    data["dispenser"]["printer"]["connector"] = {"type": "serial", "device": pty.device,
                                                 "baudrate": 115200}
    config = parse_unit_config(data, source=path, broker_url=url)
    factory = MockFactory()
    clock = OffsetClock(datetime(2026, 11, 30, 8, 0, tzinfo=VN_TZ))
    app = build_dispenser(config, clock=clock, pin_factory=factory)
    done = threading.Event()
    results: list = []

    def on_outcome(o: Outcome) -> None:
        results.append(o)
        done.set()

    app.dispenser.add_listener(on_outcome)
    app.start()
    assert app.bus.wait_connected(10)
    deadline = time.monotonic() + 10
    while app.dispenser.site is None and time.monotonic() < deadline:
        time.sleep(0.01)
    pins = [b.pin for b in app.dispenser.conf.buttons if not b.priority]
    hold = app.dispenser.conf.debounce_s + 0.005
    first, raster, printed = [], [], []
    try:
        for i in range(n + 10):
            pin = factory.pin(pins[i % len(pins)])
            arrivals.clear()
            done.clear()
            t0 = time.perf_counter()
            pin.drive_low()
            if not done.wait(10):
                raise SystemExit("no ticket within 10 s of a press")
            t_done = time.perf_counter()
            time.sleep(0.02)  # let the pty reader catch the last bytes
            pin.drive_high()
            outcome = results[-1]
            assert outcome.ok and not outcome.offline, outcome
            t_first = arrivals[0][0]
            t_raster = next(at for at, head in arrivals if b"\x1dv0" in head
                            or head.startswith(b"\x1b@"))
            if i >= 10:
                first.append(t_first - t0)
                raster.append(t_raster - t0)
                printed.append(t_done - t0)
            time.sleep(hold)
    finally:
        app.stop()
        pty.stop()
    return {"first": first, "raster": raster, "printed": printed}


def sizes_and_render(n: int) -> None:
    view = TicketView(
        number="B012", service_name="Tư pháp – Hộ tịch",
        issued_at=datetime(2026, 11, 30, 8, 15, tzinfo=VN_TZ),
        office="Trung tâm Phục vụ hành chính công phường Mẫu", ahead=4, est_wait_s=1200,
        counters=("Quầy 1", "Quầy 2"), priority=True,
        qr=qr_text(site="demo", day="2026-11-30", number="B012",
                   lookup_url="https://tracuu.example.vn/ve"),
    )
    layout = TicketLayout()
    for mm, width in ((80, 576), (58, 384)):
        image = render_ticket(view, layout, width)
        job = build_job(image)
        print(f"  ticket {mm} mm: {image.width}x{image.height} dots, {len(job)} bytes "
              f"({len(job) / 1024:.1f} KB; {len(job) * 10 / 115200:.2f} s at 115200 baud)")
        renders, builds = [], []
        for _ in range(n):
            t0 = time.perf_counter()
            image = render_ticket(view, layout, width)
            t1 = time.perf_counter()
            build_job(image)
            t2 = time.perf_counter()
            renders.append(t1 - t0)
            builds.append(t2 - t1)
        line(f"render alone, {mm} mm", renders)
        line(f"ESC/POS job from image (python-escpos), {mm} mm", builds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    with site_on_broker() as (site, broker):
        print("Dispenser benchmark (real mosquitto, real hub, pty printer), this machine:")
        bare = line("bare broker request/reply (baseline)",
                    bare_request_reply(broker.url, args.n))
        with running_hub(site, broker.url):
            issue = line("hub ticket.issue round trip (no dispenser)",
                         hub_issue(broker.url, args.n, "D"))
            flow = press_flow(broker.url, site, args.n)
        first = line("press → first byte at the printer", flow["first"])
        line("press → first byte of the ticket job", flow["raster"])
        line("press → ticket printed and confirmed", flow["printed"])
        print(f"  ratio press→first byte / bare request: p50 {first['p50'] / bare['p50']:.1f}x,"
              f" p99 {first['p99'] / bare['p99']:.1f}x;"
              f" / hub issue: p50 {first['p50'] / issue['p50']:.1f}x")
        print(f"  goal p99 < 150 ms: {'met' if first['p99'] < 0.150 else 'NOT met'}")
        sizes_and_render(max(20, args.n // 4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
