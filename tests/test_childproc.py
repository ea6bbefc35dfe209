"""A broker started by a test process dies with it, even when that process is killed -9
(a pytest ended by its timeout must leave no Mosquitto listening)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from appliance.broker import MosquittoBroker
from tests.care_helpers import ROOT
from tests.waiting import poll

STARTER = """
import sys, time
from pathlib import Path
from appliance.broker import MosquittoBroker
b = MosquittoBroker(workdir=Path(sys.argv[1])).start()
print(b.proc.pid, b.port, flush=True)
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    """Exited (a zombie nobody reaped yet counts: it runs no more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_a_broker_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", STARTER, str(tmp_path / "m")], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pid, port = (int(x) for x in parent.stdout.readline().split())
    try:
        assert not _gone(pid) and _listens(port)
        assert "mosquitto" in Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert poll(lambda: _gone(pid), 10), f"mosquitto {pid} outlived its parent"
        assert not _listens(port)
    finally:
        if not _gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_broker_started_by_a_worker_thread_outlives_the_thread(tmp_path: Path) -> None:
    """The kernel ties the signal to the starting thread: a broker a short-lived thread
    started is not tied, or it would die the moment that thread ends."""
    broker = MosquittoBroker(workdir=tmp_path / "m")
    starter = threading.Thread(target=broker.start)
    starter.start()
    starter.join()
    try:
        assert broker.proc is not None
        assert not poll(lambda: broker.proc is None or broker.proc.poll() is not None, 1.0)
        assert _listens(broker.port)
    finally:
        broker.cleanup()
