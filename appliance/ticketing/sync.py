"""Catching up with the hub: voids, unanswered issue requests, then offline tickets in order
(the dispenser has all three; the lookup terminal, with no offline band, only the first two).

Every message carries a request id stored with the record, so a retry after a lost reply
never makes the hub act twice. A failure to reach the hub stops the round (order matters
for imports); a refusal is recorded and the round goes on, so one bad record cannot block
the rest forever.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Protocol

from appliance.clock import Clock, rfc3339
from appliance.contract import RETRYABLE
from appliance.errors import NotConnected, RequestTimeout
from appliance.i18n import tr

if TYPE_CHECKING:
    from appliance.bus import Bus
    from appliance.ticketing.outbox import Outbox

log = logging.getLogger(__name__)

# the contract says which codes a retry with the same id may cure
RETRY_CODES = RETRYABLE


class Health(Protocol):
    @property
    def fields(self) -> dict[str, Any]: ...

    def set(self, **fields: Any) -> None: ...

    def fault(self, reason: str) -> None: ...


class Station(Protocol):
    """A unit that prints tickets the hub numbers (the dispenser, the lookup terminal)."""

    unit: str
    bus: Bus
    outbox: Outbox
    clock: Clock
    wake_sync: threading.Event

    @property
    def health(self) -> Health: ...

    @property
    def hub_timeout_s(self) -> float: ...

    @property
    def hub_state(self) -> tuple[str, Any, Any] | None: ...

    def hub_failed(self) -> None: ...

    def hub_answered(self) -> None: ...

    def check_printer(self) -> None: ...


class HubAway(Exception):
    """Internal: stop this round, the hub did not answer."""


class Syncer:
    def __init__(self, station: Station, *, interval_s: float, poll_interval_s: float,
                 name: str = "dispenser-sync") -> None:
        self.d = station
        self.name = name
        self.interval_s = interval_s
        self.poll_interval_s = poll_interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_poll = -1e9
        self._round = threading.Lock()  # one round at a time, whoever starts it
        self.rounds = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.d.wake_sync.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.d.wake_sync.wait(self.interval_s)
            self.d.wake_sync.clear()
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except Exception:  # the loop must outlive one bad round; logged
                log.exception(tr("một lượt đồng bộ bị lỗi", "sync round failed"))
            if time.monotonic() - self._last_poll >= self.poll_interval_s:
                self._last_poll = time.monotonic()
                self.d.check_printer()

    def _ask(self, body: dict[str, Any], req_id: str) -> dict[str, Any]:
        timeout = max(self.d.hub_timeout_s, 2.0)
        try:
            reply = self.d.bus.request("hub", body, timeout=timeout, req_id=req_id)
        except (RequestTimeout, NotConnected) as exc:
            log.info(tr("mất hub khi đang đồng bộ: %s", "hub away during sync: %s"), exc)
            self.d.hub_failed()
            raise HubAway from None
        self.d.hub_answered()
        return reply

    def run_once(self) -> int:
        """One catch-up round; returns how many records the hub settled."""
        with self._round:
            return self._run_once()

    def _run_once(self) -> int:
        self.rounds += 1
        done = 0
        state = self.d.hub_state
        hub_says_down = state is not None and state[0] in ("lost", "stopped")
        if self.d.bus.connected and not hub_says_down and self._has_work():
            try:
                done += self._voids()
                done += self._orphans()
                done += self._imports()
            except HubAway:
                pass
        elif self.d.bus.connected and not hub_says_down \
                and self.d.health.fields.get("hub") == "offline":
            # idle, and the hub was away: ask it (after a reconnect or its restart), so the
            # hub_offline alarm clears when the hub answers, not at the next press
            try:
                self._ask({"op": "hub.ping"}, uuid.uuid4().hex)
            except HubAway:
                pass
        self._update_counts()
        return done

    def _has_work(self) -> bool:
        # with work waiting, ask even inside the back-off window: the hub may be back
        ob = self.d.outbox
        return bool(ob.backlog() or ob.pending_voids() or ob.orphans())

    def _update_counts(self) -> None:
        self.d.health.set(backlog=self.d.outbox.backlog(),
                          pending_voids=len(self.d.outbox.pending_voids()))

    def _voids(self) -> int:
        n = 0
        for v in self.d.outbox.pending_voids():
            reply = self._ask({"op": "ticket.void", "number": v.number, "reason": v.reason},
                              v.req_id)
            code = reply_code(reply)
            if code in RETRY_CODES:
                raise HubAway
            if code is not None:
                log.warning(tr("hub không huỷ số %s: %s",
                               "hub would not void %s: %s"), v.number, code)
            self.d.outbox.void_done(v.id, code)
            n += 1
        return n

    def _orphans(self) -> int:
        n = 0
        # yesterday's ghosts are gone with the day's queue: asking again would only issue
        # (and void) a fresh number today
        today = self.d.clock.now().date().isoformat()
        for req_id, service, priority in self.d.outbox.orphans(since=today):
            # Same id: the hub answers with the number it gave then, or issues one now.
            # Either way nobody holds that paper, so it is voided.
            reply = self._ask({"op": "ticket.issue", "service": service, "priority": priority},
                              req_id)
            code = reply_code(reply)
            if code in RETRY_CODES:
                raise HubAway
            ticket = reply.get("ticket") if code is None else None
            if isinstance(ticket, dict) and isinstance(ticket.get("number"), str):
                self.d.outbox.add_void(number=ticket["number"], reason="not_printed",
                                       req_id=f"{req_id}-void",
                                       created_at=rfc3339(self.d.clock.now()))
            self.d.outbox.orphan_done(req_id)
            n += 1
        if n:
            n += self._voids()
        return n

    def _imports(self) -> int:
        n = 0
        for t in self.d.outbox.pending_imports():
            body = {"op": "ticket.import", "number": t.number, "service": t.service,
                    "priority": t.priority, "issued_at": t.issued_at}
            reply = self._ask(body, f"{self.d.unit}-{t.req_id_suffix}")
            code = reply_code(reply)
            if code in RETRY_CODES:
                raise HubAway
            if code is None:
                self.d.outbox.set_offline_state(t.seq, "imported")
            else:
                log.error(tr("hub từ chối số cấp lúc mất kết nối %s: %s",
                             "hub refused offline ticket %s: %s"), t.number, code)
                self.d.outbox.set_offline_state(t.seq, "rejected", code)
                self.d.health.fault("import_rejected")
            n += 1
        return n


def reply_code(reply: dict[str, Any]) -> str | None:
    """The error code of a hub reply; None when it says ok."""
    if reply.get("ok"):
        return None
    err = reply.get("error")
    return str(err.get("code", "internal")) if isinstance(err, dict) else "internal"
