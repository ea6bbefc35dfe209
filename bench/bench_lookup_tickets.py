"""Ticket terminal latency: "In phiếu" touched → ticket printed and the number on screen.

Runs a real mosquitto, the real hub (demo site, hours not enforced) and the real terminal
(appliance.lookup.bootstrap.build_lookup with a dummy printer, off-screen surface); the
touch is a Tap on the confirm screen, timed until the TICKET_DONE screen is drawn. Beside
it, in the same run: the bare broker request/reply (a Bus echo responder) and the hub's
own ticket.issue round trip.

    .venv/bin/python bench/bench_lookup_tickets.py [--n 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from appliance.clock import OffsetClock  # noqa: E402
from appliance.config import parse_unit_config  # noqa: E402
from appliance.lookup.state import Screen, Tap, Target  # noqa: E402
from bench.common import (  # noqa: E402
    bare_request_reply,
    hub_issue,
    running_hub,
    site_on_broker,
    summary,
)


def terminal_flow(url: str, site: Path, n: int, clock: OffsetClock
                  ) -> tuple[list[float], list[float], list[float]]:
    """(touch → number drawn, desk.issue alone, of which render + job build)."""
    import pygame

    from appliance.lookup.bootstrap import build_lookup

    raw = tomllib.loads((site / "lookup-1.toml").read_text("utf-8"))
    raw["lookup"]["printer"] = {"connector": {"type": "dummy"}}
    config = parse_unit_config(raw, source=site / "lookup-1.toml", broker_url=url,
                               data_dir=site / "lookup-data")
    pygame.init()
    unit = build_lookup(config, clock=clock, surface=pygame.Surface((1280, 800)))
    unit.start()
    app = unit.app
    out: list[float] = []
    alone: list[float] = []
    render: list[float] = []
    try:
        if not app.run_until(lambda s: bool(s.desk.services), 20):
            raise SystemExit("the terminal never heard the hub's site info")
        for _ in range(n):
            for target in (Target("home"), Target("take"), Target("take_service", "A")):
                app.post(Tap(target))
            if not app.run_until(lambda s: s.screen is Screen.TICKET_CONFIRM, 10):
                raise SystemExit(f"no confirm screen: {app.state.screen}")
            t0 = time.perf_counter()
            app.post(Tap(Target("print")))
            if not app.run_until(lambda s: s.screen is Screen.TICKET_DONE, 10):
                raise SystemExit(f"no ticket: {app.state.error}")
            out.append(time.perf_counter() - t0)
        assert unit.tickets is not None
        desk = unit.tickets.desk
        for _ in range(n):
            t0 = time.perf_counter()
            if not desk.issue("A", False, None).ok:
                raise SystemExit("desk.issue failed")
            alone.append(time.perf_counter() - t0)
            render.append(float(desk.health.fields.get("last_render_ms") or 0) / 1000)
    finally:
        unit.stop()
    return out, alone, render


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    with site_on_broker() as (site, broker):
        print("Ticket terminal benchmark (real mosquitto, real hub, dummy printer), this machine:")
        bare = summary("bare broker request/reply (baseline)", bare_request_reply(broker.url,
                                                                                  args.n))
        with running_hub(site, broker.url) as clock:
            issue = summary("hub ticket.issue round trip (no terminal)",
                            hub_issue(broker.url, args.n, "B"))
            touched, alone, _ = terminal_flow(broker.url, site, args.n, clock)
            flow = summary("touch 'In phiếu' → printed, number drawn", touched)
            summary("desk.issue alone (hub + render + print)", alone)
        print(f"  ratio touch→printed / bare request: p50 {flow['p50'] / bare['p50']:.1f}x, "
              f"p99 {flow['p99'] / bare['p99']:.1f}x; / hub issue: "
              f"p50 {flow['p50'] / issue['p50']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
