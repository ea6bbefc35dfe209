"""The hub: requests in from the bus, through the engine, onto disk, then out to the bus.

One worker thread owns the engine and the database. It takes requests in batches so one
fsync can cover several of them (group commit); every reply and event of a batch is
published only after that batch has committed, and a reply is remembered (for retries
with the same id) only then: a failed commit forgets the whole batch and reloads the disk.

Nothing a unit sends can stop the worker: input is decoded with limits
(appliance.contract.decode), replies go only to the sender's own response topic, an
exception costs the one message that caused it (logged, and shown in the status as
``alert``), and a worker that dies anyway ends the process (``on_fatal``) so that systemd
starts it again from the disk.
"""

from __future__ import annotations

import functools
import logging
import queue
import shutil
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from appliance.bus import Bus, Message
from appliance.clock import Clock
from appliance.config.site import SiteConfig
from appliance.contract import Topics, decode, encode, error_reply, ok_reply, request_id
from appliance.core.engine import QueueEngine
from appliance.core.model import Outcome
from appliance.core.queries import QUERIES
from appliance.core.snapshot import site_info, site_units
from appliance.errors import ContractError, StorageError
from appliance.hub.publisher import RetainedPublisher
from appliance.hub.replies import Key
from appliance.hub.store import HubStore
from appliance.i18n import tr
from appliance.logbudget import LogBudget

log = logging.getLogger(__name__)
_budget = LogBudget(log)
MAX_BATCH = 64
MAX_INBOX = 10_000  # beyond this a flood is dropped unanswered; units retry
TICK_S = 5.0
LOW_DISK_MB = 50
FAULT_SHOWN_S = 600.0  # a worker fault stays in the status this long
PING_OP = "hub.ping"  # any unit of the site file: "are requests being answered?"
# read-only ops: answered from memory by the worker, never stored nor remembered
QUERY_OPS = frozenset(QUERIES)


@dataclass
class _Republish:
    """A marker in the work queue: (re)publish every retained message."""


@dataclass
class _Request:
    msg: Message
    unit: str
    id: str
    body: dict[str, Any]


class _EngineFault(Exception):
    """The engine raised on one request (a bug): that request is answered ``internal``."""

    def __init__(self, req: _Request) -> None:
        super().__init__(req.id)
        self.req = req


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
        self._inbox: queue.Queue[Message | _Republish] = queue.Queue(MAX_INBOX)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-worker", daemon=True)
        self._storage_error: str | None = None
        self._fatal: str | None = None
        self._on_fatal = on_fatal
        self._faults: deque[tuple[float, str]] = deque(maxlen=5)
        self._forget: list[Key] = []  # replies let go of by the memory, deleted at next commit
        self.refused = 0  # requests dropped unanswered (foreign ResponseTopic, retained, flood)
        self.retained = RetainedPublisher(bus, lambda: self.engine, clock)
        # more of the hub's own facts for its status: (alert reasons, fields)
        self.extra_status: Callable[[], tuple[list[str], dict[str, Any]]] | None = None
        bus.subscribe(self.topics.req_filter("hub"), self._enqueue,
                                     retain_as_published=True)
        bus.on_connection(lambda up: self._enqueue(_Republish()) if up else None)

    def start(self) -> None:
        """Start the worker, which also runs the bus's network loop (see Bus.loop_step)."""
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _enqueue(self, item: Message | _Republish) -> None:
        try:
            self._inbox.put_nowait(item)
        except queue.Full:
            self.refused += 1
            _budget.log(logging.WARNING, "inbox", tr(
                "hộp thư của hub đầy (%d): bỏ một yêu cầu; thiết bị gửi sẽ gửi lại",
                "hub inbox full (%d): a request was dropped; its unit retries"), MAX_INBOX)

    # ---- worker ----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # the worker is the hub: without it, end the process
            reason = f"hub worker died: {type(exc).__name__}: {exc}"
            log.critical(reason, exc_info=True)
            self._fatal = reason
            if self._on_fatal is not None:
                self._on_fatal(reason)
            raise

    def _loop(self) -> None:
        next_tick = 0.0
        while not self._stopping.is_set():
            self._beat()
            if time.monotonic() >= next_tick:
                self._guarded(self._tick)
                next_tick = time.monotonic() + TICK_S
            # What a turn sends (the requests' PUBACKs, then the batch's events, retained
            # state and replies) leaves at its end in a few segments, waking the broker
            # once: on a busy machine the woken broker takes the CPU at every send
            # (sequential issue p50 -20 % with the batch corked, -25 % more with the
            # PUBACKs in it, bench_hub.py on tmpfs; throughput unchanged). A PUBACK so goes
            # out after its request is on disk; the status thread's few messages wait for
            # the turn's end, 0.2 s at most.
            with self.bus.corked():
                self._turn(next_tick)
        if not self._fatal:  # a clean stop leaves no stale retained state
            self._guarded(functools.partial(self.retained.flush, idle=True))

    def _turn(self, next_tick: float) -> None:
        # handlers run inside loop_step and only queue; wait for the network only
        # when there is nothing left to do
        # (nor while a coalesced retained state waits: it goes out once nothing comes in)
        idle = self._inbox.empty() and not self.retained.pending
        self.bus.loop_step(min(0.2, max(0.0, next_tick - time.monotonic())) if idle else 0.0)
        # paho reads only a few packets a turn: read on while requests keep coming, so
        # that one batch (one fsync) covers all that has arrived (group commit)
        for _ in range(MAX_BATCH):
            queued = self._inbox.qsize()
            if queued >= MAX_BATCH:
                break
            self.bus.loop_step(0.0)
            if self._inbox.qsize() == queued:
                break
        batch: list[Message | _Republish] = []
        while len(batch) < MAX_BATCH:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        if batch:
            self._guarded(functools.partial(self._process, batch))
        if not self._fatal:
            self._guarded(functools.partial(self.retained.flush, idle=not batch))

    def _guarded(self, work: Callable[[], object]) -> None:
        try:
            work()
        except Exception as exc:  # a bug must cost the work at hand, never the hub
            log.exception(tr("lỗi trong luồng xử lý của hub", "hub worker fault"))
            self._fault(f"{type(exc).__name__}: {exc}")
            self._reload()

    def _fault(self, reason: str) -> None:
        self._faults.append((time.monotonic(), reason[:200]))
        self._status(self.clock.now())

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

    def _admit_one(self, msg: Message) -> _Request | None:
        try:
            return self._admit(msg)
        except Exception as exc:  # a bug in reading one message costs that message only
            log.exception(tr("hub không đọc được một tin trên %r",
                             "hub could not read a message on %r"), msg.topic[:200])
            self._fault(f"{type(exc).__name__} reading a message: {exc}")
            return None

    def _admit(self, msg: Message) -> _Request | None:
        """A request fit to act on, or None once it has been answered or dropped."""
        where = self.topics.unit_of(msg.topic)
        if where is None:
            _budget.log(logging.WARNING, "topic", tr(
                "bỏ qua một tin trên %r: không phải chủ đề yêu cầu",
                "ignored a message on %r: not a request topic"), msg.topic[:200])
            return None
        unit = where[0]
        if msg.retain and not msg.payload:
            return None  # a retained message being cleared (our own clearing, say)
        if msg.retain:
            # a retained request would be acted on again by every restarted hub
            _budget.log(logging.ERROR, unit, tr("bỏ qua và xoá yêu cầu giữ lại trên %s",
                                             "retained request on %s ignored and cleared"),
                        msg.topic)
            self.refused += 1
            self.bus.clear_retained(msg.topic)
            return None
        try:
            self.topics.reply_topic_for(unit, msg.response_topic)
        except ContractError as exc:
            if msg.response_topic is not None:
                _budget.log(logging.ERROR, unit, tr("từ chối yêu cầu của %s: %s",
                                                    "request from %s refused: %s"), unit,
                            exc.message)
                self.refused += 1
            return None  # no (acceptable) place to answer: drop, logged
        try:
            body = decode(msg.payload)
            rid = request_id(body)
        except ContractError as exc:
            _budget.log(logging.WARNING, unit, tr("yêu cầu sai từ %s: %s",
                                                  "bad request from %s: %s"), unit, exc)
            self.bus.reply(msg, error_reply(None, exc.code, exc.message))
            return None
        return _Request(msg, unit, rid, body)

    def _process(self, batch: list[Message | _Republish]) -> None:
        now = self.clock.now()
        republish = any(isinstance(m, _Republish) for m in batch)
        pending = [r for m in batch if isinstance(m, Message) and (r := self._admit_one(m))]
        if self._fatal:
            for req in pending:
                self.bus.reply(req.msg, error_reply(req.id, "internal", "hub storage failed"))
            return
        while True:
            try:
                self._act(pending, now, republish)
                return
            except _EngineFault as fault:
                # The engine may have half-changed the state: back to the disk, answer the
                # culprit 'internal' (not remembered), and act on the rest of the batch anew
                # (none of it was committed or answered yet), so each is acted on once.
                log.error(tr("bộ máy hàng đợi lỗi khi làm %s của %s",
                             "engine failed on %s from %s"),
                          fault.req.body.get("op"), fault.req.unit, exc_info=fault.__cause__)
                self._fault(f"engine error on {str(fault.req.body.get('op'))[:40]} "
                            f"from {fault.req.unit}")
                self._reload()
                self.bus.reply(fault.req.msg, error_reply(fault.req.id, "internal",
                                                          "engine error"))
                pending = [r for r in pending if r is not fault.req]

    def _act(self, pending: list[_Request], now: datetime, republish: bool) -> None:
        outcomes: list[Outcome] = []
        replies: list[tuple[_Request, dict[str, Any]]] = []
        to_store: list[tuple[str, str, str]] = []
        in_batch: dict[Key, dict[str, Any]] = {}
        for req in pending:
            if req.body.get("op") == PING_OP:
                # answered by this worker, so an answer proves requests are being handled;
                # it changes nothing, so it is neither stored nor remembered
                replies.append((req, self._ping(req)))
                continue
            if req.body.get("op") in QUERY_OPS:
                replies.append((req, self._query(req)))
                continue
            key = (req.unit, req.id)
            again = in_batch.get(key) or self._replies.get(key)
            if again is not None:
                # QoS 1 may deliver twice, and units retry with the same id: answer, act once.
                replies.append((req, again))
                continue
            try:
                out = self.engine.handle(req.unit, req.body, now)
            except Exception as exc:  # any bug in the engine: handled by the caller
                raise _EngineFault(req) from exc
            if out.error:
                reply = error_reply(req.id, out.error[0], out.error[1])
            else:
                reply = ok_reply(req.id, **out.reply)
            outcomes.append(out)
            replies.append((req, reply))
            if req.unit in self.site.units:  # unknown units are not remembered (bound)
                in_batch[key] = reply
                to_store.append((req.unit, req.id, encode(reply).decode("utf-8")))
        try:
            if any(o.changed for o in outcomes) or to_store:
                self._commit_and_publish(outcomes, to_store, now, force_state=republish)
            elif republish:
                self._publish_retained(now)
        except StorageError as exc:
            # Nothing of the batch is on disk: forget it all (the reload does) and say so;
            # a retry with the same id is then acted on afresh, never answered from memory.
            self._storage_failed(exc)
            for req, _ in replies:
                self.bus.reply(req.msg, error_reply(req.id, "internal", "storage"))
            return
        for unit, rid, text in to_store:  # on disk now: remember
            self._forget.extend(self._replies.add((unit, rid), text))
        for req, reply in replies:
            self.bus.reply(req.msg, reply)

    def _ping(self, req: _Request) -> dict[str, Any]:
        if req.unit not in self.site.units:
            return error_reply(req.id, "unknown_unit", f"unit {req.unit!r} is not in the site "
                                                       "file")
        return ok_reply(req.id, seq=self.engine.state.seq)

    def _query(self, req: _Request) -> dict[str, Any]:
        try:
            return ok_reply(req.id, **self.engine.query(req.unit, req.body))
        except ContractError as exc:
            return error_reply(req.id, exc.code, exc.message)

    def _reload(self) -> None:
        """Go back to what is on disk (state and replies)."""
        try:
            state, self._replies = self.store.load()
            self.engine = QueueEngine(self.site, state)
            self._forget = []
        except sqlite3.Error as load_exc:
            # The memory may hold changes the disk does not: acting on them would lie.
            # Stop answering with data; a restart (systemd) starts again from the disk.
            self._fatal = f"cannot reload the hub database: {load_exc}"
            log.critical(self._fatal)
            if self._on_fatal is not None:
                self._on_fatal(self._fatal)

    def _storage_failed(self, exc: StorageError) -> None:
        log.error(tr("%s: trả lời 'internal' và nạp lại trạng thái đã ghi gần nhất",
                     "%s: answering 'internal' and reloading the last committed state"), exc)
        self._storage_error = str(exc)
        self._reload()
        self._status(self.clock.now())

    def _commit_and_publish(self, outcomes: list[Outcome],
                            to_store: list[tuple[str, str, str]], now: datetime,
                            force_state: bool = False) -> None:
        events = [encode(ev) for out in outcomes for ev in out.events]  # once, for both
        self.store.commit(self.engine.state, outcomes, to_store, self._forget, events)
        self._forget = []
        self._storage_error = None
        for payload in events:
            self.bus.publish(self.topics.queue_events, payload)
        if force_state:
            self._publish_retained(now)
            return
        if any(o.changed for o in outcomes):  # coalesced: at most one picture per batch
            self.retained.changed(c.id for o in outcomes for c in o.counters)
            # Requests already waiting mean load: then the picture waits for a token (or
            # for the hub to go idle). Otherwise it goes out now, before the replies.
            if self.bus.connected:  # (a worker driven without a network: tests)
                self.bus.loop_step(0.0)
            self.retained.flush(idle=self._inbox.empty())

    def _publish_retained(self, now: datetime) -> None:
        self.bus.publish(self.topics.site_info, site_info(self.site), retain=True)
        self.bus.publish(self.topics.site_units, site_units(self.site, self.bus.unit), retain=True)
        self.retained.publish_all()
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
            reasons.append(tr(f"disk: không đọc được dung lượng còn trống: {exc}",
                              f"disk: cannot read free space: {exc}"))
        if free_mb is not None and free_mb < LOW_DISK_MB:
            reasons.append(tr(f"disk: chỉ còn trống {free_mb} MB", f"disk: only {free_mb} MB free"))
        recent = time.monotonic() - FAULT_SHOWN_S
        reasons.extend(f"worker fault: {r}" for at, r in self._faults if at >= recent)
        extra_reasons, extra = self.extra_status() if self.extra_status else ([], {})
        reasons.extend(extra_reasons)
        waiting = st.waiting_count()
        self.bus.set_status("alert" if reasons else "ready", reasons=reasons, **extra,
                            day=st.day.isoformat() if st.day else None, seq=st.seq,
                            waiting=waiting, disk_free_mb=free_mb,
                            open_counters=sum(1 for c in st.counters.values() if c.open),
                            refused=self.refused, replies_remembered=len(self._replies))
