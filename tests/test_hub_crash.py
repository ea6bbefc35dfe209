"""kill -9 of the hub in the middle of a burst: nothing acknowledged is lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from appliance.bus import Message
from appliance.childproc import tied_to_parent
from appliance.contract import decode
from appliance.errors import NotConnected, RequestTimeout


def _start_hub(site: Path, broker_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(tied_to_parent(
        [sys.executable, "-m", "appliance.cli", "hub", "--config", str(site / "hub.toml"),
         "--broker", broker_url]),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _wait_ready(bus, hub_boot_before: str | None, timeout: float = 20.0) -> dict:
    seen: dict = {}
    ev = threading.Event()

    def on(msg: Message) -> None:
        body = decode(msg.payload)
        if body.get("state") == "ready" and body.get("boot") != hub_boot_before:
            seen.update(body)
            ev.set()

    bus.subscribe(bus.topics.status("hub"), on)
    assert ev.wait(timeout), "hub never said ready"
    return seen


def test_kill_9_mid_burst_then_restart(broker, demo_site, make_bus):
    hub_toml = demo_site / "hub.toml"
    # the subprocess runs on the real clock: do not let the hour of the CI run matter
    hub_toml.write_text(hub_toml.read_text().replace("enforce = true", "enforce = false"))
    proc = _start_hub(demo_site, broker.url)
    try:
        watcher = make_bus("board-1", role="board")
        first = _wait_ready(watcher, None)
        disp = make_bus("dispenser-1")
        seqs_before: list[int] = []
        watcher.subscribe(watcher.topics.queue_events,
                          lambda m: seqs_before.append(decode(m.payload)["seq"]))

        acked: dict[str, str] = {}  # req id -> number
        unanswered: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def burst(worker: int) -> None:
            for i in range(400):
                if stop.is_set():
                    return
                rid = f"w{worker}-{i}-{uuid.uuid4().hex[:6]}"
                try:
                    r = disp.request("hub", {"op": "ticket.issue", "service": "ABCD"[i % 4]},
                                     timeout=1.0, req_id=rid)
                except (RequestTimeout, NotConnected):
                    with lock:
                        unanswered.append(rid)
                    return
                assert r["ok"], r
                with lock:
                    acked[rid] = r["ticket"]["number"]

        threads = [threading.Thread(target=burst, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        while len(acked) < 150:
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)  # mid-burst, no warning
        proc.wait()
        for t in threads:
            t.join(timeout=10)
        stop.set()
        acked_before = dict(acked)
        assert len(acked_before) >= 150 and unanswered, "the kill must land mid-burst"

        proc = _start_hub(demo_site, broker.url)
        _wait_ready(make_bus("board-2", role="board"), first["boot"])

        # units retry what got no answer, with the same id: the hub acts at most once
        for rid in unanswered:
            r = disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5,
                             req_id=rid)
            assert r["ok"], r
            acked[rid] = r["ticket"]["number"]
        for i in range(5):
            r = disp.request("hub", {"op": "ticket.issue", "service": "B"}, timeout=5)
            acked[f"after-{i}"] = r["ticket"]["number"]

        numbers = list(acked.values())
        assert len(numbers) == len(set(numbers)), "a number was given twice"
        # every acknowledged ticket is in the hub's retained state, still waiting
        states: list[dict] = []
        got = threading.Event()
        late = make_bus("board-3", role="board")

        def on_state(m: Message) -> None:
            states.append(decode(m.payload))
            got.set()

        late.subscribe(late.topics.queue_state, on_state)
        assert got.wait(5)
        state = states[-1]
        waiting = {n for s in state["services"].values() for n in s["waiting"]}
        assert set(numbers) <= waiting
        assert len(waiting) == len(numbers), "a ticket exists that nobody was told about"
        # seq carries on from where it was: nothing published before the kill is reused
        assert state["seq"] >= max(seqs_before)
        assert state["seq"] == len(waiting)  # one ticket.issued event per ticket, no gaps
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
