"""A simulated unit for the care tests, run as its own process (so it can be killed -9):
the real Bus and the real health hook, with facts from a FakeHealth control file.

    python -m tests.care_unit --site S --unit U --role R --broker URL --facts FILE
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from appliance.bus import Bus
from appliance.config.base import BrokerConfig
from appliance.health import attach_health
from appliance.health.fake import FakeHealth


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--site", required=True)
    p.add_argument("--unit", required=True)
    p.add_argument("--role", required=True)
    p.add_argument("--broker", required=True)
    p.add_argument("--facts", required=True)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--keepalive", type=int, default=15)
    a = p.parse_args(argv)
    bus = Bus(site=a.site, unit=a.unit, role=a.role,
              broker=BrokerConfig(url=a.broker, keepalive=a.keepalive),
              status_interval_s=a.interval)
    attach_health(bus, Path(a.facts).parent, fake=FakeHealth(Path(a.facts)))
    bus.set_status("ready", reasons=[])
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    bus.start()
    done.wait()
    bus.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
