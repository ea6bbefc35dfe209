"""Memory of the hub's reply memory at its bound (issue 14): every unit of a site with
``PER_UNIT`` remembered replies, each under a 100-character id (the longest allowed).
Baseline in the same run: the same reply texts in a bare list (the data alone).

    .venv/bin/python bench/bench_reply_memory.py [--units 8]
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from appliance.contract import encode, ok_reply  # noqa: E402
from appliance.hub.replies import PER_UNIT, ReplyMemory  # noqa: E402

TICKET = {"number": "A001", "service": "A", "service_name": "Tư pháp – Hộ tịch",
          "priority": False, "issued_at": "2026-11-30T08:01:02.123+07:00", "state": "waiting",
          "ahead": 12, "est_wait_s": 240, "counters": ["1", "2"]}


def _texts(units: int) -> list[tuple[str, str, str]]:
    out = []
    for u in range(units):
        for i in range(PER_UNIT):
            rid = f"unit-{u}-{i}-".ljust(100, "x")
            out.append((f"unit-{u}", rid, encode(ok_reply(rid, ticket=TICKET)).decode()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=8)
    units = ap.parse_args().units
    tracemalloc.start()
    bare = _texts(units)
    base = tracemalloc.get_traced_memory()[0]  # the reply texts as str, with their keys
    memory = ReplyMemory()
    memory.fill(bare)
    extra = 3 * units  # more than the bound: the oldest go
    for j in range(extra):
        memory.add(("unit-0", f"more-{j}"), bare[0][2])
    added = len(bare) + extra
    del bare  # what the memory keeps of them is its own
    used = tracemalloc.get_traced_memory()[0]
    n = len(memory)
    print(f"bound: {units} units × {PER_UNIT} = {n} replies held after {added} added")
    print(f"baseline (the same replies as str in a bare list): {base / 2**20:.1f} MB; "
          f"the reply memory, all included: {used / 2**20:.1f} MB ({used / n:.0f} B per "
          f"reply, {used / base:.2f} × baseline)")

if __name__ == "__main__":
    main()
