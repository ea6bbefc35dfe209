"""systemd's notify/watchdog protocol as the roles speak it, and a frozen hub restarted.

The supervisor below does what systemd does for ``Type=notify`` + ``WatchdogSec=``: it binds
the ``NOTIFY_SOCKET`` datagram socket, waits for ``READY=1``, kills the process with SIGABRT
when no ``WATCHDOG=1`` came for the watchdog time, runs the ExecStopPost= command, restarts.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from appliance.bus import Message
from appliance.contract import decode
from appliance.exits import backoff_s, describe_exit, failures_in_a_row, last_failure, record_exit
from appliance.logs import priority
from appliance.watchdog import Heartbeat, Notifier, watchdog_seconds


class NotifySocket:
    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def receive(self, timeout: float) -> dict[str, str] | None:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096).decode()
        except TimeoutError:
            return None
        return dict(line.split("=", 1) for line in data.splitlines())

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify(tmp_path: Path):
    s = NotifySocket(tmp_path / "notify")
    yield s
    s.close()


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_first_beat_says_ready_and_later_beats_ping(notify):
    clock = FakeClock()
    hb = Heartbeat("worker", notifier=Notifier(notify.path), watchdog_s=8.0, clock=clock)
    hb._stop.set()  # no monitor thread: this test drives the clock by hand
    assert not hb.alive()
    hb.beat()
    assert notify.receive(1)["READY"] == "1"
    clock.t += 1.0
    hb.beat()  # a quarter of the watchdog time has not passed: no datagram
    assert notify.receive(0.1) is None
    clock.t += 1.5
    hb.beat()
    assert notify.receive(1) == {"WATCHDOG": "1"}
    hb.stop()
    assert notify.receive(1) == {"STOPPING": "1"}


def test_abstract_socket_address(tmp_path):
    name = f"motcua-test-{os.getpid()}"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + name)
    try:
        assert Notifier("@" + name).send(status="hello")
        s.settimeout(1)
        assert s.recv(100) == b"STATUS=hello"
    finally:
        s.close()


def test_no_notify_socket_is_quietly_nothing():
    assert Notifier.from_env({}).send(ready=1) is False
    assert watchdog_seconds({}) is None
    assert watchdog_seconds({"WATCHDOG_USEC": "30000000"}) == 30.0
    # WATCHDOG_PID names the process the watchdog is for: a child must not ping for it
    assert watchdog_seconds({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_seconds({"WATCHDOG_USEC": "soon"}) is None


def test_status_is_never_ready_while_the_loop_is_quiet():
    clock = FakeClock()
    hb = Heartbeat("frames", watchdog_s=10.0, clock=clock)
    hb._stop.set()
    ready = {"state": "ready", "waiting": 3}
    assert hb.gate(ready) == {"state": "alert", "waiting": 3,
                              "reasons": ["frames not started"]}
    hb.beat()
    assert hb.gate(ready) == ready
    clock.t += 5.1  # half the watchdog time
    gated = hb.gate(ready)
    assert gated["state"] == "alert" and gated["reasons"] == ["frames stuck for 5 s"]
    # other states pass untouched: an alert keeps its own reasons
    assert hb.gate({"state": "alert", "reasons": ["no paper"]})["reasons"] == ["no paper"]
    hb.beat()
    assert hb.gate(ready) == ready


def test_a_restart_after_a_failure_says_why_until_settled(tmp_path):
    record_exit(tmp_path, {"SERVICE_RESULT": "watchdog", "EXIT_CODE": "dumped",
                           "EXIT_STATUS": "ABRT"}, time.time())
    clock = FakeClock()
    hb = Heartbeat("worker", data_dir=tmp_path, clock=clock)
    hb._stop.set()
    hb.beat()
    gated = hb.gate({"state": "ready"})
    assert gated["state"] == "alert"
    assert gated["reasons"] == ["restarted after: watchdog: work loop stuck, killed (ABRT)"]
    clock.t += 121
    hb.beat()
    assert hb.gate({"state": "ready"}) == {"state": "ready"}


def test_exit_records_and_back_off(tmp_path):
    now = time.time()
    assert last_failure(tmp_path, now) is None
    assert failures_in_a_row(tmp_path, now) == 0
    for _ in range(4):
        record_exit(tmp_path, {"SERVICE_RESULT": "exit-code", "EXIT_CODE": "exited",
                               "EXIT_STATUS": "70"}, now)
    assert failures_in_a_row(tmp_path, now) == 4
    assert last_failure(tmp_path, now) == ("exit-code: exit status 70 "
                                           "(4 failures in the last hour)")
    assert [backoff_s(n) for n in (0, 1, 2, 3, 4, 9)] == [0, 0, 1, 2, 4, 60]
    # an old failure is not a crash loop
    assert last_failure(tmp_path, now + 7200) is None
    record_exit(tmp_path, {"SERVICE_RESULT": "success", "EXIT_CODE": "exited",
                           "EXIT_STATUS": "0"}, now)
    assert failures_in_a_row(tmp_path, now) == 0 and last_failure(tmp_path, now) is None
    for _ in range(20):
        record_exit(tmp_path, {}, now)
    assert len(json.loads((tmp_path / "exits.json").read_text())) == 10  # capped
    (tmp_path / "exits.json").write_text("[{")  # torn by a power cut: ignored, not fatal
    assert last_failure(tmp_path, now) is None
    assert describe_exit({"result": "signal", "code": "killed", "status": "KILL"}) == (
        "signal: killed by KILL")


def test_log_lines_carry_journald_priorities(tmp_path):
    env = {**os.environ, "JOURNAL_STREAM": "8:1234", "SERVICE_RESULT": "exit-code",
           "EXIT_CODE": "exited", "EXIT_STATUS": "1"}
    out = subprocess.run([sys.executable, "-m", "appliance.cli", "record-exit", "--data",
                          str(tmp_path)], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == [
        "<4>appliance.exits: run ended: exit-code: exit status 1"]
    assert [priority(n) for n in (50, 40, 30, 20, 10, 5)] == [2, 3, 4, 6, 7, 7]


# ---- a real hub frozen under a systemd-like supervisor --------------------------------------
class Supervisor:
    """systemd's Type=notify + WatchdogSec= + Restart=always, for one process."""

    def __init__(self, argv: list[str], notify: NotifySocket, watchdog_s: float,
                 data_dir: Path, freeze_file: Path) -> None:
        self.argv = argv
        self.notify = notify
        self.watchdog_s = watchdog_s
        self.data_dir = data_dir
        self.env = {**os.environ, "NOTIFY_SOCKET": notify.path,
                    "WATCHDOG_USEC": str(int(watchdog_s * 1e6)),
                    "MOTCUA_DEBUG_FREEZE_FILE": str(freeze_file)}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.notify.receive(deadline - time.monotonic())
            if msg and msg.get("READY") == "1":
                return
        raise AssertionError("no READY=1")

    def watch(self, pings_needed: int) -> int:
        """Count WATCHDOG=1 pings; on a silence of the watchdog time, kill like systemd."""
        pings = 0
        while True:
            msg = self.notify.receive(self.watchdog_s)
            if msg is None:
                self._kill_for_watchdog()
                return pings
            if msg.get("WATCHDOG") == "1":
                pings += 1
                if pings >= pings_needed:
                    return pings

    def _kill_for_watchdog(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGABRT)
        self.proc.wait(timeout=10)
        self._stop_post("watchdog", "dumped", "ABRT")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
            self._stop_post("success", "exited", "0")

    def _stop_post(self, result: str, code: str, status: str) -> None:
        env = {**self.env, "SERVICE_RESULT": result, "EXIT_CODE": code, "EXIT_STATUS": status}
        subprocess.run([sys.executable, "-m", "appliance.cli", "record-exit", "--data",
                        str(self.data_dir)], env=env, check=True, timeout=60,
                       capture_output=True)


def test_frozen_hub_is_restarted_and_never_says_ready_while_frozen(
        broker, demo_site, make_bus, notify, tmp_path):
    hub_toml = demo_site / "hub.toml"
    hub_toml.write_text(hub_toml.read_text().replace("enforce = true", "enforce = false"))
    data = tmp_path / "hub-data"
    freeze = tmp_path / "freeze"
    watchdog_s = 3.0
    sup = Supervisor([sys.executable, "-m", "appliance.cli", "hub", "--config", str(hub_toml),
                      "--broker", broker.url, "--data", str(data)],
                     notify, watchdog_s, data, freeze)
    statuses: list[tuple[float, dict]] = []
    lock = threading.Lock()

    def on_status(msg: Message) -> None:
        with lock:
            statuses.append((time.monotonic(), decode(msg.payload)))

    watcher = make_bus("board-1", role="board")
    watcher.subscribe(watcher.topics.status("hub"), on_status)
    sup.start()
    try:
        sup.wait_ready()
        assert sup.watch(pings_needed=3) == 3
        first_boot = _wait_for(statuses, lock, lambda s: s["state"] == "ready")["boot"]

        frozen_at = time.monotonic()
        freeze.touch()
        assert sup.watch(pings_needed=1000) < 3  # went quiet: killed for the watchdog
        killed_at = time.monotonic()
        freeze.unlink()
        with lock:
            during = [(t, s) for t, s in statuses
                      if s.get("boot") == first_boot and frozen_at <= t <= killed_at]
        # said so before it was killed, and never ready once quiet for half the watchdog time
        assert any(s["state"] == "alert" and "hub-worker stuck" in s["reasons"][0]
                   for _, s in during), during
        assert not [s for t, s in during
                    if s["state"] == "ready" and t > frozen_at + watchdog_s / 2 + 0.5]

        sup.start()
        sup.wait_ready()
        again = _wait_for(statuses, lock, lambda s: s.get("boot") != first_boot
                          and s["state"] in ("ready", "alert"))
        assert again["state"] == "alert"
        assert again["reasons"] == [
            "restarted after: watchdog: work loop stuck, killed (ABRT)"]
        assert sup.watch(pings_needed=2) == 2
    finally:
        if freeze.exists():
            freeze.unlink()
        sup.stop()


def _wait_for(statuses, lock, pred, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with lock:
            for _, s in statuses:
                if pred(s):
                    return s
        time.sleep(0.05)
    raise AssertionError(f"no such status in {statuses}")
