"""Soak: kill -9 the hub again and again in the middle of bursts of requests, and count what
a power cut could do to a site: tickets lost, numbers given twice, answers that changed
when a request was retried with the same id.

Each round: four dispenser threads issue tickets (unique request ids, 1 s timeout), the
hub process is killed with SIGKILL after a random number of answers, restarted, and every
request that got no answer or ``internal`` is retried with the same id until it is
answered; some already answered ids are sent again too (recent ones: the hub remembers
the last 1,000 replies per unit, see appliance/hub/replies.py; an id beyond that bound is
a new request, which a first 1,000-kill run that re-sent any old id duly counted as
"changed on retry"). At the end the hub's database is
read back: every acknowledged number must be there, once, and nothing else.

    ./run.sh soak [--kills 1000]          (the test suite runs a short version)
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from appliance.broker import MosquittoBroker  # noqa: E402
from appliance.bus import Bus  # noqa: E402
from appliance.config.base import BrokerConfig  # noqa: E402
from appliance.errors import NotConnected, RequestTimeout  # noqa: E402

DEMO_SITE = ROOT / "firmware_config" / "examples" / "demo-site"


@dataclass
class SoakResult:
    kills: int = 0
    requests: int = 0
    acked: dict[str, str] = field(default_factory=dict)  # request id -> number
    lost: int = 0
    duplicated: int = 0
    changed_on_retry: int = 0
    phantom: int = 0  # on disk, never acknowledged to anyone
    retries: int = 0
    interrupted: int = 0  # requests unanswered when the hub was killed (then retried)
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.changed_on_retry or self.phantom)

    def line(self) -> str:
        return (f"{self.kills} kill -9s, {self.requests} requests, {len(self.acked)} tickets "
                f"acknowledged, {self.interrupted} cut off by a kill, {self.retries} retries "
                f"in {self.seconds:.0f} s: "
                f"lost {self.lost}, duplicated {self.duplicated}, changed on retry "
                f"{self.changed_on_retry}, phantom {self.phantom}")


def soak_site(into: Path) -> Path:
    """The demo site with room for many tickets a day and no clock-dependent rules."""
    shutil.copytree(DEMO_SITE, into, ignore=shutil.ignore_patterns("data"))
    hub = into / "hub.toml"
    text = hub.read_text().replace("enforce = true", "enforce = false")
    text = re.sub(r"last = 799", "last = 9999\ndigits = 4", text)
    text = re.sub(r"(?m)^offline_bands = .*$", "", text)  # bands would overlap 1-9999
    hub.write_text(text)
    return hub


class _Hub:
    """The hub as a real process, killed with SIGKILL. Processes are forked from a
    "zygote" that has already imported the hub, so a restart costs milliseconds, not the
    seconds of a Python start; each child opens the database and the broker afresh."""

    def __init__(self, config: Path, url: str) -> None:
        self.zygote = subprocess.Popen(
            [sys.executable, __file__, "--zygote", str(config), url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.pid: int | None = None

    def start(self) -> None:
        assert self.zygote.stdin is not None and self.zygote.stdout is not None
        self.zygote.stdin.write("fork\n")
        self.zygote.stdin.flush()
        self.pid = int(self.zygote.stdout.readline())

    def _signal(self, sig: int) -> None:
        if self.pid is not None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        self._wait_gone()

    def stop(self) -> None:
        self._signal(signal.SIGTERM)
        self._wait_gone()

    def _wait_gone(self, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while self.pid is not None and time.monotonic() < end:
            try:
                # a zombie (dead, not yet reaped by the zygote) has stopped running
                if Path(f"/proc/{self.pid}/stat").read_text().split()[2] == "Z":
                    self.pid = None
            except (FileNotFoundError, ProcessLookupError):
                self.pid = None
            time.sleep(0.002)
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)

    def close(self) -> None:
        self.kill()
        if self.zygote.stdin is not None:
            self.zygote.stdin.close()
        self.zygote.wait(timeout=10)


def _zygote(config: str, url: str) -> int:
    from appliance import cli

    def reap(*_: object) -> None:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass

    signal.signal(signal.SIGCHLD, reap)
    for line in sys.stdin:
        if line.strip() != "fork":
            continue
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os._exit(cli.main(["hub", "--config", config, "--broker", url]))
        print(pid, flush=True)
    return 0


class SoakClient:
    """The dispenser side: ids, answers, and the checks on every answer."""

    def __init__(self, bus: Bus, result: SoakResult, timeout: float = 0.3) -> None:
        self.bus, self.r = bus, result
        self.timeout = timeout  # a burst stops at its first request unanswered this long
        self.lock = threading.Lock()
        self.unanswered: list[str] = []

    def ask(self, rid: str, timeout: float | None = None) -> bool:
        """Send ticket.issue with ``rid``; True when answered ok."""
        timeout = self.timeout if timeout is None else timeout
        with self.lock:
            self.r.requests += 1
        try:
            reply = self.bus.request("hub", {"op": "ticket.issue", "service": "ABCD"[
                hash(rid) % 4]}, timeout=timeout, req_id=rid)
        except (RequestTimeout, NotConnected):
            return False
        if not reply.get("ok"):
            if (reply.get("error") or {}).get("code") != "internal":
                raise SystemExit(f"unexpected refusal: {reply}")
            return False
        number = reply["ticket"]["number"]
        with self.lock:
            before = self.r.acked.setdefault(rid, number)
            if before != number:
                self.r.changed_on_retry += 1
        return True

    def burst(self, stop: threading.Event, worker: int) -> None:
        while not stop.is_set():
            rid = f"w{worker}-{uuid.uuid4().hex[:12]}"
            if not self.ask(rid):
                with self.lock:
                    self.unanswered.append(rid)
                return

    def settle(self, rng: random.Random) -> None:
        """Retry what got no answer, with the same ids, then re-ask a few answered ids."""
        with self.lock:
            pending, self.unanswered = self.unanswered, []
            # re-send answered ids the hub must still remember: among the last 300 (its
            # memory keeps 1,000 per unit; an id beyond that is a new request by design)
            recent = list(self.r.acked)[-300:]
            again = rng.sample(recent, min(3, len(recent)))
            self.r.interrupted += len(pending)
        for rid in pending + again:
            while not self.ask(rid, timeout=max(5.0, self.timeout)):
                self.r.retries += 1
                time.sleep(0.1)
            self.r.retries += 1


def wait_answering(bus: Bus, timeout: float = 30.0, ping_s: float = 0.1) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if bus.request("hub", {"op": "hub.ping"}, timeout=ping_s).get("ok"):
                return
        except (RequestTimeout, NotConnected):
            pass
    raise SystemExit("the hub did not come back")


def check_disk(db_path: Path, r: SoakResult) -> None:
    db = sqlite3.connect(str(db_path))
    try:
        on_disk = [n for (n,) in db.execute("SELECT number FROM tickets")]
    finally:
        db.close()
    numbers = list(r.acked.values())
    r.duplicated = len(numbers) - len(set(numbers))
    r.lost = len(set(numbers) - set(on_disk))
    r.phantom = len(set(on_disk) - set(numbers))


def soak(kills: int, *, seed: int = 14, say: Callable[[str], None] = print) -> SoakResult:
    rng = random.Random(seed)
    r = SoakResult()
    t0 = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="motcua-soak-"))
    broker = MosquittoBroker(workdir=work / "mosquitto").start()
    hub = _Hub(soak_site(work / "site"), broker.url)
    bus = Bus(site="demo", unit="dispenser-1", role="dispenser",
              broker=BrokerConfig(url=broker.url), status_interval_s=3600)
    try:
        bus.start()
        if not bus.wait_connected(10):
            raise SystemExit("cannot reach the soak broker")
        client = SoakClient(bus, r)
        hub.start()
        wait_answering(bus)
        for k in range(kills):
            target = len(r.acked) + rng.randint(1, 12)
            stop = threading.Event()
            threads = [threading.Thread(target=client.burst, args=(stop, w)) for w in range(4)]
            for t in threads:
                t.start()
            end = time.monotonic() + 10
            while len(r.acked) < target and time.monotonic() < end:
                time.sleep(0.001)
            hub.kill()  # mid-burst, no warning
            r.kills += 1
            stop.set()
            for t in threads:
                t.join()
            hub.start()
            wait_answering(bus)
            client.settle(rng)
            if (k + 1) % 50 == 0:
                say(f"  … {k + 1} kills, {len(r.acked)} tickets")
        hub.stop()
        check_disk(work / "site" / "data" / "hub" / "hub.sqlite3", r)
    finally:
        hub.close()
        bus.stop()
        broker.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    r.seconds = time.monotonic() - t0
    return r


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--zygote":
        return _zygote(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    result = soak(args.kills, seed=args.seed)
    print(result.line())
    return 0 if result.clean else 1


if __name__ == "__main__":
    sys.exit(main())
