"""CPU used by particular threads, so a "does not spin" check is not disturbed by whatever
else the test process runs (threads left by other tests, the garbage collector)."""

from __future__ import annotations

import os
import threading


def thread_cpu_s(name: str) -> float:
    """CPU seconds used so far by the live thread called ``name`` (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = [t for t in threading.enumerate() if t.name == name and t.native_id is not None]
    assert len(found) == 1, f"expected one thread named {name!r}, found {len(found)}"
    with open(f"/proc/self/task/{found[0].native_id}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick  # utime + stime
