"""The queue's data: tickets, counters and the day's state. Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from appliance.clock import rfc3339

OPEN_STATES = frozenset({"waiting", "serving", "parked"})


@dataclass
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


@dataclass
class Counter:
    id: str
    open: bool = False
    serving: str | None = None
    since: datetime | None = None
    officer: str | None = None
    priority_streak: int = 0


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

    def note_service_time(self, t: Ticket, keep: int = 20) -> None:
        if t.state == "finished" and t.called_at and t.finished_at:
            times = self.recent_service_s.setdefault(t.service, [])
            times.append((t.finished_at - t.called_at).total_seconds())
            del times[:-keep]

    def rebuild_caches(self) -> None:
        self.recent_service_s, self.active, self.last_issued = {}, {}, {}
        for t in self.tickets.values():
            self.track(t)
        done = [t for t in self.tickets.values() if t.state == "finished" and t.finished_at]
        for t in sorted(done, key=lambda t: t.finished_at):  # type: ignore[arg-type, return-value]
            self.note_service_time(t)

    def waiting(self, services: list[str] | tuple[str, ...]) -> list[Ticket]:
        """Waiting tickets of these services, longest-waiting first (service order breaks ties)."""
        rank = {s: i for i, s in enumerate(services)}
        found = [t for t in self.active.values() if t.state == "waiting" and t.service in rank]
        found.sort(key=lambda t: (t.order_at, rank[t.service], t.number))
        return found


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

