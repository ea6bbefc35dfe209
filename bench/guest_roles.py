"""Runs INSIDE the emulated Pi (bench/bench_guest.py puts bench/ and firmware_config/ on the
card's boot partition and starts this with ``systemd.run=``): each role's start to READY=1
against a Mosquitto on the guest, idle CPU over 60 s and RSS, beside the guest's own
baselines (a bare ``python3 -c pass`` and a bare SQLite commit loop); then the project's
benchmarks (board: counter key → frame with hub, board and counter on the guest; hub,
counter, dispenser), each output kept in ``bench-out/`` on the boot partition. Prints one
``MOTCUA-BENCH {json}`` line on the serial console.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

MOTCUA = "/opt/motcua/venv/bin/motcua"
SITE = Path("/opt/motcua/firmware_config/examples/demo-site")
HERE = Path(__file__).resolve().parent  # bench/ on the boot partition
# what bench_guest.py reads back from the boot partition
OUT = Path("/boot/firmware/bench-out")
# the project's benchmarks, with counts an emulated Cortex-A53 gets through in minutes
BENCHES = {
    "board": ["bench_board.py", "--n", "40", "--window", "15"],
    "hub": ["bench_hub.py", "--quick", "--only", "engine,durable,latency,rss"],
    "dispenser": ["bench_dispenser.py", "--n", "40"],
    "counter": ["bench_counter.py", "--n", "60"],
}
BENCH_TIMEOUT_S = 300
READY_TIMEOUT_S = 180.0
DATA = Path("/var/lib/motcua/bench")
ROLES = {"hub": "hub.toml", "store": "store.toml", "dispenser": "dispenser-1.toml",
         "counter": "counter-1.toml", "board": "board-1.toml", "lookup": "lookup-1.toml"}
IDLE_S = 60.0
TICK = os.sysconf("SC_CLK_TCK")


def python_start_s(n: int = 5) -> float:
    times = []
    for _ in range(n):
        t = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.monotonic() - t)
    return sorted(times)[n // 2]


def sqlite_commits_per_s(seconds: float = 5.0) -> float:
    path = DATA / "baseline.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS t (i INTEGER)")
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        db.execute("BEGIN")
        db.execute("INSERT INTO t VALUES (?)", (n,))
        db.execute("COMMIT")
        n += 1
    db.close()
    return n / seconds


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_role(role: str, sock: socket.socket, path: str, url: str
               ) -> tuple[subprocess.Popen[bytes], float]:
    """``motcua ROLE`` as systemd starts it; the seconds until it sends ``READY=1``."""
    env = {**os.environ, "NOTIFY_SOCKET": path, "SDL_VIDEODRIVER": "dummy",
           "SDL_AUDIODRIVER": "dummy", "GPIOZERO_PIN_FACTORY": "mock",
           "PYTHONDONTWRITEBYTECODE": "1", "ESCPOS_CAPABILITIES_PICKLE_DIR": str(DATA)}
    t = time.monotonic()
    with open(DATA / f"{role}.log", "wb") as log:  # the child keeps its own copy
        proc = subprocess.Popen([MOTCUA, role, "--config", str(SITE / ROLES[role]),
                                 "--broker", url, "--data", str(DATA / role)],
                                env=env, stdout=subprocess.DEVNULL, stderr=log)
    sock.settimeout(1.0)
    while time.monotonic() < t + READY_TIMEOUT_S:
        try:
            msg = sock.recv(4096).decode()
        except TimeoutError:
            if proc.poll() is not None:
                break
            continue
        if "READY=1" in msg:
            return proc, time.monotonic() - t
    tail = (DATA / f"{role}.log").read_text(errors="replace")[-1500:]
    proc.kill()
    proc.wait()
    raise RoleFailed(f"{role}: no READY=1 in {time.monotonic() - t:.0f} s "
                     f"(exit {proc.returncode}): {tail}")


class RoleFailed(Exception):
    """A role that never said READY=1: its figures are missing, the reason is reported."""


def run_benches(names: list[str]) -> dict[str, object]:
    """The project's benchmarks from a copy of bench/ on the data partition: their sites,
    databases and brokers (TMPDIR) on the card's real disk, not on the FAT."""
    OUT.mkdir(exist_ok=True)
    tree = DATA / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    ignore = shutil.ignore_patterns("out", "__pycache__")
    for part in ("bench", "firmware_config"):
        shutil.copytree(HERE.parent / part, tree / part, ignore=ignore)
    (DATA / "tmp").mkdir(exist_ok=True)
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
           "PYTHONPATH": str(tree), "TMPDIR": str(DATA / "tmp"),
           # a role on the emulated Pi takes tens of seconds to start
           "MOTCUA_BENCH_START_S": "180"}
    done: dict[str, object] = {}
    for name in names:
        argv = BENCHES[name]
        t = time.monotonic()
        with open(OUT / f"{name}.txt", "wb") as out:
            try:
                rc = subprocess.run([sys.executable, str(tree / "bench" / argv[0]), *argv[1:]],
                                    env=env, stdout=out, stderr=subprocess.STDOUT, cwd=DATA,
                                    timeout=BENCH_TIMEOUT_S).returncode
            except subprocess.TimeoutExpired:
                rc = -1
            out.flush()
            os.fsync(out.fileno())
        done[name] = {"rc": rc, "s": round(time.monotonic() - t)}
    return done


def main() -> None:
    from appliance.broker import MosquittoBroker

    DATA.mkdir(parents=True, exist_ok=True)
    out: dict[str, object] = {"python_c_pass_s": python_start_s(),
                              "sqlite_commits_per_s": sqlite_commits_per_s()}
    broker = MosquittoBroker(workdir=DATA / "mosquitto").start()
    procs: dict[str, subprocess.Popen[bytes]] = {}
    ready: dict[str, float] = {}
    failed: dict[str, str] = {}
    for role in ROLES:
        path = f"/run/motcua-bench-{role}.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        try:
            procs[role], ready[role] = start_role(role, sock, path, broker.url)
        except RoleFailed as exc:
            failed[role] = str(exc)
        sock.close()
    time.sleep(5)  # let the last role settle before measuring idle
    before = {r: cpu_s(p.pid) for r, p in procs.items()}
    time.sleep(IDLE_S)
    out["roles"] = {r: {"start_to_ready_s": round(ready[r], 2),
                        "idle_cpu_pct": round(100 * (cpu_s(p.pid) - before[r]) / IDLE_S, 2),
                        "rss_mb": round(rss_mb(p.pid), 1)} for r, p in procs.items()}
    out["rss_total_mb"] = round(sum(rss_mb(p.pid) for p in procs.values()), 1)
    out["failed"] = failed
    for p in procs.values():
        p.terminate()
    for p in procs.values():
        p.wait(timeout=60)
    broker.cleanup()
    with open("/dev/console", "w") as console:
        console.write("MOTCUA-ROLES " + json.dumps(out) + "\n")
    out["benches"] = run_benches(sys.argv[1].split(",") if len(sys.argv) > 1 else
                                 list(BENCHES))
    with open("/dev/console", "w") as console:
        console.write("MOTCUA-BENCH " + json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
