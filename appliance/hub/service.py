"""The hub: requests in from the bus, through the engine, onto disk, then out to the bus.

One worker thread owns the engine and the database. It takes requests in batches so one
fsync can cover several of them (group commit); every reply and event of a batch is
published only after that batch has committed.
"""

from __future__ import annotations

import logging
import queue
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from appliance.bus import Bus, Message
from appliance.clock import Clock
from appliance.config.site import SiteConfig
from appliance.contract import Topics, decode, error_reply, ok_reply
from appliance.core.engine import QueueEngine
from appliance.core.model import Outcome
from appliance.core.snapshot import counter_state, queue_state, site_info
from appliance.errors import ContractError, StorageError
from appliance.hub.store import HubStore

log = logging.getLogger(__name__)
MAX_BATCH = 64
TICK_S = 5.0
LOW_DISK_MB = 50


@dataclass
class _Republish:
    """A marker in the work queue: (re)publish every retained message."""


class HubService:
    def __init__(self, site: SiteConfig, store: HubStore, bus: Bus, clock: Clock,
                 on_fatal: Callable[[str], None] | None = None,
                 beat: Callable[[], None] = lambda: None) -> None:
        self.site = site
        self._beat = beat  # the watchdog's: this loop is the hub's real work
        self.store = store
        self.bus = bus
        self.clock = clock
        self.topics: Topics = bus.topics
        state, self._replies = store.load()
        self.engine = QueueEngine(site, state)
        self._inbox: queue.Queue[Message | _Republish] = queue.Queue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-worker", daemon=True)
        self._storage_error: str | None = None
        self._fatal: str | None = None
        self._on_fatal = on_fatal
        bus.subscribe(self.topics.req_filter("hub"), self._inbox.put)
        bus.on_connection(lambda up: self._inbox.put(_Republish()) if up else None)

    def start(self) -> None:
        """Start the worker, which also runs the bus's network loop (see Bus.loop_step)."""
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)

    # ---- worker ----------------------------------------------------------------------
    def _run(self) -> None:
        next_tick = 0.0
        while not self._stopping.is_set():
            self._beat()
            if time.monotonic() >= next_tick:
                self._tick()
                next_tick = time.monotonic() + TICK_S
            # handlers run inside loop_step and only queue; wait for the network only
            # when there is nothing left to do
            idle = self._inbox.empty()
            self.bus.loop_step(min(0.2, max(0.0, next_tick - time.monotonic())) if idle else 0.0)
            batch: list[Message | _Republish] = []
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            if batch:
                self._process(batch)

    def _tick(self) -> None:
        now = self.clock.now()
        out = self.engine.tick(now)
        if out.changed:
            try:
                self._commit_and_publish([out], [], now)
            except StorageError as exc:
                self._storage_failed(exc)
                return
            if self.engine.state.day is not None:
                # a new day: forget replies older than yesterday, on disk and in memory
                self.store.prune(self.engine.state.day - timedelta(days=1))
                _, self._replies = self.store.load()
        # status is refreshed here, not per request: it is for people, a few seconds is fresh
        self._status(now)

    def _process(self, batch: list[Message | _Republish]) -> None:
        now = self.clock.now()
        if self._fatal:
            for msg in batch:
                if isinstance(msg, Message):
                    self.bus.reply(msg, error_reply(None, "internal", "hub storage failed"))
            return
        outcomes: list[Outcome] = []
        replies: list[tuple[Message, dict[str, Any]]] = []
        to_store: list[tuple[str, str, dict[str, Any]]] = []
        in_batch: dict[tuple[str, str], dict[str, Any]] = {}
        republish = False
        broken = False
        for msg in batch:
            if isinstance(msg, _Republish):
                republish = True
                continue
            where = self.topics.unit_of(msg.topic)
            if where is None:
                continue
            unit = where[0]
            try:
                body = decode(msg.payload)
            except ContractError as exc:
                log.warning("bad request from %s: %s", unit, exc)
                replies.append((msg, error_reply(None, exc.code, exc.message)))
                continue
            req_id = body.get("id")
            key = (unit, req_id) if isinstance(req_id, str) else None
            if key is not None and (key in self._replies or key in in_batch):
                # QoS 1 may deliver twice, and units retry with the same id: answer, act once.
                replies.append((msg, self._replies.get(key) or in_batch[key]))
                continue
            try:
                out = self.engine.handle(unit, body, now)
            except Exception:  # a bug must cost one request, never the hub
                log.exception("engine failed on %s from %s", body.get("op"), unit)
                out, broken = Outcome(error=("internal", "engine error")), True
            rid = req_id if isinstance(req_id, str) else None
            if out.error:
                reply = error_reply(rid, out.error[0], out.error[1])
            else:
                reply = ok_reply(rid or "", **out.reply)
            outcomes.append(out)
            replies.append((msg, reply))
            if key is not None and not broken:
                in_batch[key] = reply
                to_store.append((unit, key[1], reply))
        try:
            if any(o.changed for o in outcomes) or to_store:
                self._commit_and_publish(outcomes, to_store, now, force_state=republish)
            elif republish:
                self._publish_retained(now)
        except StorageError as exc:
            self._storage_failed(exc)
            replies = [(m, error_reply(r.get("id"), "internal", "storage")) for m, r in replies]
            broken = True
        if broken and self._storage_error is None:
            # an engine bug may have half-changed the state: go back to what is on disk
            state, self._replies = self.store.load()
            self.engine = QueueEngine(self.site, state)
        else:
            self._replies.update(in_batch)
        for msg, reply in replies:
            self.bus.reply(msg, reply)

    def _storage_failed(self, exc: StorageError) -> None:
        log.error("%s: answering 'internal' and reloading the last committed state", exc)
        self._storage_error = str(exc)
        try:
            state, self._replies = self.store.load()
            self.engine = QueueEngine(self.site, state)
        except sqlite3.Error as load_exc:
            # The memory may hold changes the disk does not: acting on them would lie.
            # Stop answering with data; a restart (systemd) starts again from the disk.
            self._fatal = f"cannot reload the hub database: {load_exc}"
            log.critical(self._fatal)
            if self._on_fatal is not None:
                self._on_fatal(self._fatal)
        self._status(self.clock.now())

    def _commit_and_publish(self, outcomes: list[Outcome],
                            to_store: list[tuple[str, str, dict[str, Any]]], now: datetime,
                            force_state: bool = False) -> None:
        self.store.commit(self.engine.state, outcomes, to_store)
        self._storage_error = None
        for out in outcomes:
            for ev in out.events:
                self.bus.publish(self.topics.queue_events, ev)
        changed_counters = {c.id for o in outcomes for c in o.counters}
        if force_state:
            self._publish_retained(now)
            return
        # Retained state goes at QoS 0: each message replaces the last, and every retained
        # message is published again whenever the hub reconnects, so none stays lost.
        if any(o.changed for o in outcomes):
            self.bus.publish(self.topics.queue_state, queue_state(self.engine, now), retain=True,
                             qos=0)
        for cid in sorted(changed_counters):
            self.bus.publish(self.topics.counter_state(cid), counter_state(self.engine, cid),
                             retain=True, qos=0)

    def _publish_retained(self, now: datetime) -> None:
        self.bus.publish(self.topics.site_info, site_info(self.site), retain=True)
        self.bus.publish(self.topics.queue_state, queue_state(self.engine, now), retain=True)
        for cid in self.engine.state.counters:
            self.bus.publish(self.topics.counter_state(cid), counter_state(self.engine, cid),
                             retain=True)
        self._status(now)

    def _status(self, now: datetime) -> None:
        st = self.engine.state
        reasons = []
        if self._fatal:
            reasons.append(self._fatal)
        if self._storage_error:
            reasons.append(f"database: {self._storage_error}")
        try:
            free_mb = shutil.disk_usage(self.store.path.parent).free // 2**20
        except OSError as exc:
            free_mb = None
            reasons.append(f"disk: cannot read free space: {exc}")
        if free_mb is not None and free_mb < LOW_DISK_MB:
            reasons.append(f"disk: only {free_mb} MB free")
        waiting = sum(1 for t in st.active.values() if t.state == "waiting")
        self.bus.set_status("alert" if reasons else "ready", reasons=reasons,
                            day=st.day.isoformat() if st.day else None, seq=st.seq,
                            waiting=waiting, disk_free_mb=free_mb,
                            open_counters=sum(1 for c in st.counters.values() if c.open))
