"""The queue's data: tickets, counters and the day's state. Plain data, no I/O."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any

from sortedcontainers import SortedList

from appliance.clock import rfc3339

OPEN_STATES = frozenset({"waiting", "serving", "parked"})


@dataclass(slots=True)  # no per-ticket __dict__: a busy day holds thousands
class Ticket:
    day: date
    number: str
    service: str
    priority: bool
    issued_at: datetime
    unit: str
    origin: str = "hub"  # hub | offline (a dispenser's own band) | manual (typed at a counter)
    state: str = "waiting"
    order_at: datetime | None = None  # queue position: the original issue time, kept on transfer
    counter: str | None = None
    first_called_at: datetime | None = None
    called_at: datetime | None = None
    finished_at: datetime | None = None
    officer: str | None = None
    calls: int = 0
    rating: str | None = None
    category: str | None = None  # a priority ticket's category (ticket.issue), for reports

    def __post_init__(self) -> None:
        if self.order_at is None:
            self.order_at = self.issued_at

    def wire(self, site_names: dict[str, str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "number": self.number,
            "service": self.service,
            "priority": self.priority,
            "issued_at": rfc3339(self.issued_at),
            "state": self.state,
        }
        if site_names is not None:
            out["service_name"] = site_names.get(self.service, self.service)
        if self.origin != "hub":
            out["origin"] = self.origin
        return out


@dataclass(slots=True)
class Counter:
    id: str
    open: bool = False
    serving: str | None = None
    since: datetime | None = None
    officer: str | None = None
    priority_streak: int = 0


# A waiting ticket's place in its service's queue: longest-waiting first, number breaks ties.
QueueKey = tuple[datetime, str]


class ServiceQueue:
    """One service's waiting tickets in call order, normal and priority apart.

    Kept up to date one ticket at a time (``QueueState.track``): an issue inserts one key,
    a call removes one, a transfer moves one. A sorted list (sortedcontainers) gives the
    head in O(1), a place (``ahead``) in O(log n) and an insert or removal in O(log n)
    amortised, where a rebuilt and re-sorted list cost O(n log n) on every request.
    """

    __slots__ = ("_listed", "normal", "priority")

    def __init__(self) -> None:
        self.normal: SortedList = SortedList()
        self.priority: SortedList = SortedList()
        # limit -> (first numbers, first priority numbers), until the queue next changes:
        # the retained state lists every service, while a request changes one or two
        self._listed: dict[int, tuple[list[str], list[str]]] = {}

    def add(self, priority: bool, key: QueueKey) -> None:
        self.lane(priority).add(key)
        self._listed.clear()

    def remove(self, priority: bool, key: QueueKey) -> None:
        self.lane(priority).remove(key)
        self._listed.clear()

    def __len__(self) -> int:
        return len(self.normal) + len(self.priority)

    def lane(self, priority: bool) -> SortedList:
        return self.priority if priority else self.normal

    def ahead(self, key: QueueKey) -> int:
        """How many waiting tickets of this service come before ``key``."""
        return self.normal.bisect_left(key) + self.priority.bisect_left(key)

    def head(self, limit: int) -> list[QueueKey]:
        """The first ``limit`` keys in call order (both lanes merged)."""
        return list(islice(heapq.merge(self.normal, self.priority), limit))

    def listed(self, limit: int) -> tuple[list[str], list[str]]:
        """The first ``limit`` numbers, and the first ``limit`` priority ones (cached)."""
        got = self._listed.get(limit)
        if got is None:
            got = ([n for _, n in self.head(limit)],
                   [n for _, n in islice(self.priority, limit)])
            self._listed[limit] = got
        return got


@dataclass
class QueueState:
    day: date | None = None
    seq: int = 0
    tickets: dict[str, Ticket] = field(default_factory=dict)
    counters: dict[str, Counter] = field(default_factory=dict)
    next_number: dict[str, int] = field(default_factory=dict)
    # service -> the day's latest service times in seconds (derived from tickets; a cache
    # so an estimate does not scan the whole day on every request)
    recent_service_s: dict[str, list[float]] = field(default_factory=dict)
    # the tickets still in play (waiting, serving, parked) and each service's last number:
    # indexes over ``tickets`` so a busy afternoon does not rescan the whole day per request
    active: dict[str, Ticket] = field(default_factory=dict)
    last_issued: dict[str, Ticket] = field(default_factory=dict)
    # service -> its waiting tickets in order; counter -> the tickets parked there. Both are
    # indexes over ``tickets``, changed only in ``track``; ``_placed`` remembers where each
    # indexed ticket was put, so it can be taken out after the ticket itself has changed.
    queues: dict[str, ServiceQueue] = field(default_factory=dict)
    parked: dict[str, dict[str, Ticket]] = field(default_factory=dict)
    _placed: dict[str, tuple[str, bool, QueueKey]] = field(default_factory=dict)
    _parked_at: dict[str, str] = field(default_factory=dict)

    def track(self, t: Ticket) -> None:
        """Keep the indexes right after a ticket changed (every change passes here)."""
        if t.day != self.day:
            return
        if t.state in OPEN_STATES:
            self.active[t.number] = t
        else:
            self.active.pop(t.number, None)
        last = self.last_issued.get(t.service)
        if last is None or (t.issued_at, t.number) > (last.issued_at, last.number):
            self.last_issued[t.service] = t
        self._place(t)

    def _place(self, t: Ticket) -> None:
        was = self._placed.pop(t.number, None)
        if was is not None:
            self.queues[was[0]].remove(was[1], was[2])
        if t.state == "waiting":
            key: QueueKey = (t.order_at or t.issued_at, t.number)
            self.queues.setdefault(t.service, ServiceQueue()).add(t.priority, key)
            self._placed[t.number] = (t.service, t.priority, key)
        where = self._parked_at.pop(t.number, None)
        if where is not None:
            self.parked[where].pop(t.number, None)
        if t.state == "parked" and t.counter is not None:
            self.parked.setdefault(t.counter, {})[t.number] = t
            self._parked_at[t.number] = t.counter

    def note_service_time(self, t: Ticket, keep: int = 20) -> None:
        if t.state == "finished" and t.called_at and t.finished_at:
            times = self.recent_service_s.setdefault(t.service, [])
            times.append((t.finished_at - t.called_at).total_seconds())
            del times[:-keep]

    def clear_indexes(self) -> None:
        self.recent_service_s, self.active, self.last_issued = {}, {}, {}
        self.queues, self.parked, self._placed, self._parked_at = {}, {}, {}, {}

    def rebuild_caches(self) -> None:
        """Build every index from ``tickets`` (at start-up: O(n log n) once, not per request)."""
        self.clear_indexes()
        for t in self.tickets.values():
            self.track(t)
        done = [t for t in self.tickets.values() if t.state == "finished" and t.finished_at]
        for t in sorted(done, key=lambda t: t.finished_at):  # type: ignore[arg-type, return-value]
            self.note_service_time(t)

    def queue(self, service: str) -> ServiceQueue:
        return self.queues.get(service) or _EMPTY

    def waiting_count(self, service: str | None = None) -> int:
        if service is not None:
            return len(self.queue(service))
        return sum(len(q) for q in self.queues.values())

    def ahead(self, t: Ticket) -> int:
        """How many waiting tickets of its service come before a waiting ticket: O(log n)."""
        return self.queue(t.service).ahead((t.order_at or t.issued_at, t.number))

    def first(self, services: list[str] | tuple[str, ...], priority: bool) -> Ticket | None:
        """The longest-waiting ticket of one lane over these services (service order breaks
        ties): one look at each service's head, whatever the queue's length."""
        best: tuple[datetime, int, str] | None = None
        for rank, sid in enumerate(services):
            lane = self.queue(sid).lane(priority)
            if lane:
                at, number = lane[0]
                if best is None or (at, rank, number) < best:
                    best = (at, rank, number)
        return self.tickets[best[2]] if best is not None else None

    def waiting_head(self, service: str, limit: int) -> list[str]:
        return list(self.queue(service).listed(limit)[0])

    def priority_head(self, service: str, limit: int) -> list[str]:
        return list(self.queue(service).listed(limit)[1])

    def waiting(self, services: list[str] | tuple[str, ...]) -> list[Ticket]:
        """Waiting tickets of these services, longest-waiting first (service order breaks
        ties). O(n): for tests and reports, never on the request path."""
        lanes = [[(at, rank, n) for at, n in self.queue(sid).head(len(self.queue(sid)))]
                 for rank, sid in enumerate(services)]
        return [self.tickets[n] for _, _, n in heapq.merge(*lanes)]


_EMPTY = ServiceQueue()


@dataclass
class Outcome:
    """What one request did: the reply body, the events to publish, what to persist.

    ``tickets`` and ``counters`` are the live objects that changed (not copies): the hub
    writes their state as it stands when the batch commits, which is the newest.
    """

    reply: dict[str, Any] = field(default_factory=dict)
    error: tuple[str, str] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    counters: list[Counter] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.events or self.tickets or self.counters)

