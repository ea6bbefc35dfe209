"""Counter unit latency: key press → hub acknowledged → LED frame written.

Runs a real mosquitto, the real hub (demo site) and the counter unit on its test twin
(the keypad is a pipe-backed evdev device read by evdev's own reader; the LED board is
an ASCII board on a pty, decoded on the far end). Beside it, in the same run, the bare
broker round trip: a Bus request answered at once by a Bus echo responder.

    .venv/bin/python bench/bench_counter.py [--n 300]

Goal (issue 4): press → frame p99 ≤ 3 × bare p99 + 10 ms.
"""

from __future__ import annotations

import argparse
import queue
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from appliance.broker import MosquittoBroker  # noqa: E402
from appliance.bus import Bus  # noqa: E402
from appliance.clock import VN_TZ, OffsetClock  # noqa: E402
from appliance.config import load_unit_config  # noqa: E402
from appliance.config.base import BrokerConfig  # noqa: E402
from appliance.counter.model import Result  # noqa: E402
from appliance.counter.twin import CounterTwin  # noqa: E402
from appliance.hub.bootstrap import build_hub  # noqa: E402
from bench.common import bare_request_reply, pct  # noqa: E402


def counter_flow(url: str, site: Path,
                 n: int) -> tuple[list[float], list[float], list[float]]:
    clock = OffsetClock(datetime(2026, 11, 30, 8, 0, tzinfo=VN_TZ))
    hub = build_hub(load_unit_config(site / "hub.toml", broker_url=url), clock=clock)
    hub.start()
    assert hub.bus.wait_connected(10)
    dispenser = Bus(site="demo", unit="dispenser-1", role="dispenser",
                    broker=BrokerConfig(url=url), status_interval_s=3600)
    dispenser.start()
    assert dispenser.wait_connected(10)
    numbers = []
    for _ in range(n + 10):
        r = dispenser.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)
        numbers.append(r["ticket"]["number"])
    hub_only = []
    for _ in range(n // 3 + 5):  # reference: the hub's own next/finish, no keypad, no board
        t0 = time.monotonic()
        dispenser.request("hub", {"op": "ticket.issue", "service": "D"}, timeout=5)
        hub_only.append(time.monotonic() - t0)
    twin = CounterTwin(load_unit_config(site / "counter-1.toml", broker_url=url), clock=clock)
    results: queue.Queue[tuple[float, Result]] = queue.Queue()
    twin.unit.service.add_listener(lambda r: results.put((time.monotonic(), r)))
    twin.start()
    acks, frames = [], []
    try:
        for i, number in enumerate(numbers):
            mark = twin.tap.mark()
            t0 = time.monotonic()
            twin.press("KEY_KPPLUS")
            t_ack, result = results.get(timeout=10)
            t_frame = twin.tap.wait_for(number, since=mark, timeout=5)
            assert result.ok and result.shown == number, result
            assert t_frame is not None, f"board never showed {number}"
            if i >= 10:  # warm-up
                acks.append(t_ack - t0)
                frames.append(t_frame - t0)
    finally:
        twin.stop()
        dispenser.stop()
        hub.stop()
    return hub_only[5:], acks, frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-counter-"))
    site = work / "site"
    shutil.copytree(ROOT / "firmware_config" / "examples" / "demo-site", site,
                    ignore=shutil.ignore_patterns("data"))
    broker = MosquittoBroker(workdir=work / "mosquitto")
    broker.start()
    try:
        bare = bare_request_reply(broker.url, args.n)
        hub_only, acks, frames = counter_flow(broker.url, site, args.n)
    finally:
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)

    def row(name: str, xs: list[float]) -> None:
        print(f"{name:<40} p50 {pct(xs, 50) * 1000:7.2f} ms   p99 {pct(xs, 99) * 1000:7.2f} ms"
              f"   mean {statistics.fmean(xs) * 1000:7.2f} ms   (n={len(xs)})")

    print("counter unit latency over loopback (real mosquitto, real hub with fsync)")
    row("bare broker round trip (baseline)", bare)
    row("hub request alone (ticket.issue, fsync)", hub_only)
    row("key press -> hub acknowledged", acks)
    row("key press -> LED frame written", frames)
    bare99 = pct(bare, 99)
    goal = 3 * bare99 + 0.010
    f99 = pct(frames, 99)
    print(f"ratio p50 frame/bare: {pct(frames, 50) / pct(bare, 50):.1f}x   "
          f"ratio p99 frame/bare: {f99 / bare99:.1f}x")
    print(f"goal p99 <= 3 x bare p99 + 10 ms = {goal * 1000:.2f} ms: "
          f"{'MET' if f99 <= goal else 'NOT MET'} ({f99 * 1000:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
