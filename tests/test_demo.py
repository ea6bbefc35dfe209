"""`motcua demo --headless`: a simulated morning whose figures come from the hub's records."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path


def test_headless_demo_prints_a_plausible_summary(tmp_path: Path):
    out = tmp_path / "demo"
    run = subprocess.run(
        [sys.executable, "-m", "appliance.cli", "demo", "--headless", "--minutes", "60",
         "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    total = re.search(r"Total\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", run.stdout)
    assert total, run.stdout
    issued, served, no_show, still_open = map(int, total.groups())
    assert issued >= 10 and served >= 5
    assert served + no_show + still_open <= issued
    # the figures are the hub's own: the same counts are in its database
    db = sqlite3.connect(out / "site" / "data" / "hub" / "hub.sqlite3")
    rows = db.execute("SELECT state, count(*) FROM tickets GROUP BY state").fetchall()
    by_state = dict(rows)
    assert by_state.get("finished", 0) == served
    assert sum(by_state.values()) - by_state.get("voided", 0) == issued
