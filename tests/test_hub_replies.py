"""Replies match what is on disk: a failed commit, a full disk, a database locked by another
process, or an engine bug mid-batch never make a retried request act twice or a number
be given twice; and the reply memory stays in its bound."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.broker import MosquittoBroker
from appliance.bus import Bus, Message
from appliance.clock import OffsetClock
from appliance.config import load_unit_config
from appliance.contract import Reply, parse
from appliance.core.engine import QueueEngine
from appliance.errors import RequestTimeout, StorageError
from appliance.hub.bootstrap import Hub, build_hub
from appliance.hub.replies import ReplyMemory
from appliance.hub.store import HubStore

Replies = list[tuple[bytes, dict[str, Any]]]


def _hub(demo_site: Path, broker: MosquittoBroker, clock: OffsetClock,
         data: Path | None = None) -> Hub:
    config = load_unit_config(demo_site / "hub.toml", broker_url=broker.url)
    if data is not None:
        config._data_override = data
    return build_hub(config, clock=clock)


def _msg(hub: Hub, rid: str, service: str = "A", unit: str = "dispenser-1") -> Message:
    body = {"v": 1, "id": rid, "op": "ticket.issue", "service": service}
    return Message(topic=hub.bus.topics.req(unit), payload=json.dumps(body).encode(),
                   retain=False, response_topic=hub.bus.topics.res(unit),
                   correlation=rid.encode())


def _spy_replies(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Replies:
    """What the service answers, read where it hands replies to the bus (no broker here:
    these tests drive the worker's batch step directly, to control what a batch holds)."""
    seen: Replies = []
    monkeypatch.setattr(hub.bus, "reply", lambda msg, obj: seen.append((msg.correlation, obj)))
    return seen


def _numbers_on_disk(path: Path) -> list[str]:
    db = sqlite3.connect(str(path))
    try:
        return [n for (n,) in db.execute("SELECT number FROM tickets ORDER BY number")]
    finally:
        db.close()


@pytest.fixture
def offline_hub(broker: MosquittoBroker, demo_site: Path, clock: OffsetClock) -> Iterator[Hub]:
    hub = _hub(demo_site, broker, clock)  # built, not started: the test runs its batches
    yield hub
    hub.store.close()


def test_engine_exception_mid_batch_costs_one_request(offline_hub: Hub,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    hub = offline_hub
    real = QueueEngine.handle

    def handle(self: QueueEngine, unit: str, body: dict[str, Any], now: Any) -> Any:
        out = real(self, unit, body, now)  # act first: the state is half-changed
        if body.get("id") == "poison":
            raise RuntimeError("injected engine bug")
        return out

    monkeypatch.setattr(QueueEngine, "handle", handle)
    seen = _spy_replies(hub, monkeypatch)
    ids = ["a", "b", "c", "poison", "d", "e", "poison", "f"]
    hub.service._process([_msg(hub, i) for i in ids])
    first = {c: r for c, r in seen}
    assert first[b"poison"]["error"]["code"] == "internal"
    assert first[b"poison"]["error"]["retryable"] is True
    ok = {i: first[i.encode()]["ticket"]["number"] for i in "abcdef"}
    assert sorted(ok.values()) == ["A001", "A002", "A003", "A004", "A005", "A006"]
    assert _numbers_on_disk(hub.store.path) == sorted(ok.values())
    # every retry, in any batch, is answered from what was done: nothing acts twice
    for batch in (list("fedcba"), ["poison", "a", "poison", "b"], list("abcdef")):
        seen.clear()
        hub.service._process([_msg(hub, i) for i in batch])
        for c, r in seen:
            if c == b"poison":
                assert r["error"]["code"] == "internal"
            else:
                assert r["ticket"]["number"] == ok[c.decode()]
    assert _numbers_on_disk(hub.store.path) == sorted(ok.values())
    # the bug fixed (hub upgraded), the poisoned request is acted on, once
    monkeypatch.setattr(QueueEngine, "handle", real)
    seen.clear()
    hub.service._process([_msg(hub, "poison"), _msg(hub, "poison"), _msg(hub, "g")])
    numbers = [r["ticket"]["number"] for _, r in seen]
    assert numbers[0] == numbers[1] == "A007" and numbers[2] == "A008"
    assert hub.bus.status.get("state") == "alert"  # the fault is shown, with its reason
    assert any("engine error" in r for r in hub.bus.status["reasons"])


class FailingStore(HubStore):
    """The hub's real store, whose next ``fail`` commits raise as a full disk would."""

    fail = 0

    def commit(self, *args: Any, **kwargs: Any) -> None:
        if self.fail:
            self.fail -= 1
            raise StorageError("hub database write failed: database or disk is full")
        super().commit(*args, **kwargs)


def test_failed_commit_forgets_the_batch(offline_hub: Hub,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe of issue 14: X gets internal; X again must not get a number nobody
    stored, and the next new request must not get the same number."""
    hub = offline_hub
    hub.store.__class__ = FailingStore
    store: FailingStore = hub.store  # type: ignore[assignment]
    seen = _spy_replies(hub, monkeypatch)
    hub.service._process([_msg(hub, "w1"), _msg(hub, "w2")])
    assert [r["ticket"]["number"] for _, r in seen] == ["A001", "A002"]
    store.fail = 1
    seen.clear()
    hub.service._process([_msg(hub, "x"), _msg(hub, "w1"), _msg(hub, "y")])
    assert [r["error"]["code"] for _, r in seen] == ["internal"] * 3
    seen.clear()
    hub.service._process([_msg(hub, "x")])
    hub.service._process([_msg(hub, "z")])
    hub.service._process([_msg(hub, "w1"), _msg(hub, "y")])
    got = {c.decode(): r["ticket"]["number"] for c, r in seen}
    assert got == {"x": "A003", "z": "A004", "w1": "A001", "y": "A005"}
    assert _numbers_on_disk(hub.store.path) == ["A001", "A002", "A003", "A004", "A005"]
    assert hub.service._storage_error is None


def _can_mount_tmpfs(where: Path) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(where)],
                          capture_output=True)
    return done.returncode == 0


def _issue(disp: Bus, rid: str, timeout: float = 8.0) -> dict[str, Any] | None:
    try:
        return disp.request("hub", {"op": "ticket.issue", "service": "B"}, timeout=timeout,
                            req_id=rid)
    except RequestTimeout:
        return None


def _retry_until_ok(disp: Bus, ids: list[str], acked: dict[str, str], deadline_s: float) -> int:
    """Retry each id (same id) until it is answered ok; check every answer is ok or
    internal. Returns how many internal answers were seen."""
    internal = 0
    end = time.monotonic() + deadline_s
    pending = list(ids)
    while pending and time.monotonic() < end:
        rid = pending[0]
        r = _issue(disp, rid)
        if r is None:
            continue
        reply = parse(Reply, r)
        if reply.ok:
            number = r["ticket"]["number"]
            assert acked.setdefault(rid, number) == number, "a retry changed its answer"
            pending.pop(0)
        else:
            assert reply.code == "internal" and reply.error and reply.error.can_retry, r
            internal += 1
            time.sleep(0.2)
    assert not pending, f"never answered ok: {pending}"
    return internal


def _check_restart(data: Path, acked: dict[str, str]) -> None:
    """What a restarted hub finds on disk is exactly what was acknowledged."""
    numbers = list(acked.values())
    assert len(numbers) == len(set(numbers)), "a number was given twice"
    again = HubStore(data / "hub.sqlite3")
    try:
        _, memory = again.load()
        on_disk = _numbers_on_disk(again.path)
        assert sorted(numbers) == on_disk, "acknowledged and stored tickets differ"
        for rid, number in acked.items():
            remembered = memory.get(("dispenser-1", rid))
            assert remembered is not None and remembered["ticket"]["number"] == number
    finally:
        again.close()


def test_disk_full_on_tmpfs(broker: MosquittoBroker, demo_site: Path, clock: OffsetClock,
                            make_bus: Callable[..., Bus], tmp_path: Path) -> None:
    data = tmp_path / "small-disk"
    if not _can_mount_tmpfs(data):
        pytest.skip("cannot mount a tmpfs here (not root): test_failed_commit_forgets_the_"
                    "batch covers a failing commit with a fault-injecting store")
    try:
        _fill_and_heal(demo_site, broker, clock, make_bus, data)
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


def _fill_and_heal(demo_site: Path, broker: MosquittoBroker, clock: OffsetClock,
                   make_bus: Callable[..., Bus], data: Path) -> None:
    hub = _hub(demo_site, broker, clock, data)
    hub.start()
    try:
        assert hub.bus.wait_connected(10)
        disp = make_bus("dispenser-1")
        acked: dict[str, str] = {}
        _retry_until_ok(disp, [f"before-{i}" for i in range(5)], acked, 20)
        filler = data / "filler"
        with open(filler, "wb") as f:  # fill the disk to the last byte
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        full_ids = [f"full-{i}-{uuid.uuid4().hex[:6]}" for i in range(30)]
        internal = 0
        for rid in full_ids:  # answered ok while the WAL had room, then internal
            r = _issue(disp, rid)
            if r is not None and r["ok"]:
                acked[rid] = r["ticket"]["number"]
            elif r is not None:
                assert r["error"]["code"] == "internal", r
                internal += 1
                # and its retry, still full, says internal again, never a made-up number
                again = _issue(disp, rid)
                assert again is not None and again["error"]["code"] == "internal", again
        assert internal > 0, "the disk never filled up"
        filler.unlink()
        internal += _retry_until_ok(disp, full_ids, acked, 60)
        _retry_until_ok(disp, [f"after-{i}" for i in range(5)], acked, 20)
    finally:
        hub.stop()
    _check_restart(data, acked)


LOCKER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
"""


def test_database_locked_by_another_process_for_10_s(
        broker: MosquittoBroker, demo_site: Path, clock: OffsetClock,
        make_bus: Callable[..., Bus], tmp_path: Path) -> None:
    data = tmp_path / "hubdata"
    hub = _hub(demo_site, broker, clock, data)
    hub.start()
    locker: subprocess.Popen[str] | None = None
    try:
        assert hub.bus.wait_connected(10)
        disp = make_bus("dispenser-1")
        acked: dict[str, str] = {}
        _retry_until_ok(disp, ["first"], acked, 20)
        # a backup or a technician's sqlite3 shell holds the database for 10 s
        locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(data / "hub.sqlite3"),
                                   "10"], stdout=subprocess.PIPE, text=True)
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        ids = [f"locked-{i}" for i in range(4)]
        results: list[int] = []
        workers = [threading.Thread(target=lambda i=i: results.append(
            _retry_until_ok(disp, [ids[i]], acked, 60))) for i in range(len(ids))]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert locker.wait(30) == 0
        assert sum(results) > 0, "the lock never made the hub answer internal"
        _retry_until_ok(disp, [*ids, "after"], acked, 20)  # retried again: same answers
    finally:
        if locker is not None and locker.poll() is None:
            locker.kill()
        hub.stop()
    _check_restart(data, acked)


def test_reply_memory_is_bounded_per_unit(tmp_path: Path) -> None:
    memory = ReplyMemory(per_unit=50)
    forgotten = []
    for i in range(120):
        forgotten += memory.add(("dispenser-1", f"r{i}"), json.dumps({"n": i}))
        memory.add(("counter-1", f"c{i % 10}"), json.dumps({"n": i}))
    assert len(memory) == 50 + 10
    assert forgotten == [("dispenser-1", f"r{i}") for i in range(70)]
    assert memory.get(("dispenser-1", "r69")) is None
    assert memory.get(("dispenser-1", "r70")) == {"n": 70}
    assert memory.get(("counter-1", "c3")) == {"n": 113}  # a re-sent id is the newest


def test_reply_memory_bound_holds_on_disk_and_after_restart(
        offline_hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    from appliance.hub import replies

    hub = offline_hub
    _spy_replies(hub, monkeypatch)
    monkeypatch.setattr(replies, "PER_UNIT", 20)
    hub.service._replies = ReplyMemory(per_unit=20)
    for i in range(0, 60, 6):
        hub.service._process([_msg(hub, f"id-{j}-" + "x" * 90) for j in range(i, i + 6)])
    # a ghost unit (not in the site file) is answered but never remembered
    hub.service._process([_msg(hub, f"g{j}", unit="ghost-1") for j in range(30)])
    assert len(hub.service._replies) == 20
    db = sqlite3.connect(str(hub.store.path))
    on_disk = db.execute("SELECT count(*) FROM replies").fetchone()[0]
    db.close()
    assert on_disk <= 20 + 6  # the forgotten ones go with the next commit
    _, memory = hub.store.load()
    assert len(memory) == 20 and memory.get(("dispenser-1", "id-59-" + "x" * 90))
