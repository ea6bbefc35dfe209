"""`motcua status`: a dead unit is reported as such, from afar."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from appliance.clock import VN_TZ
from appliance.monitor import verdict

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=VN_TZ)


@pytest.mark.parametrize(
    ("status", "healthy", "words"),
    [
        ({"state": "ready", "at": NOW.isoformat()}, True, "ready"),
        ({"state": "ready", "at": (NOW - timedelta(minutes=10)).isoformat()}, False,
         "not heard from"),
        ({"state": "ready"}, False, "never"),
        ({"state": "alert", "reasons": ["paper: out"], "at": NOW.isoformat()}, False,
         "paper: out"),
        ({"state": "lost"}, False, "lost"),
    ],
)
def test_verdict(status, healthy, words):
    ok, line = verdict(status, NOW)
    assert ok is healthy and words in line


def test_status_command_sees_a_lost_unit(broker, make_bus):
    live = make_bus("counter-1", role="counter")
    live.set_status("ready")
    doomed = make_bus("dispenser-1")
    doomed.set_status("ready")
    # the unit dies (no more network loop, socket gone): the broker publishes its last will
    doomed._client.loop_stop()
    doomed._client.socket().close()
    deadline = time.monotonic() + 30
    while True:
        run = subprocess.run([sys.executable, "-m", "appliance.cli", "status", "--broker",
                              broker.url, "--site", "demo", "--wait", "1"],
                             capture_output=True, text=True)
        if "lost" in run.stdout or time.monotonic() > deadline:
            break
    assert run.returncode == 1
    assert "BAD dispenser-1" in run.stdout and "lost" in run.stdout
    assert "OK  counter-1" in run.stdout
