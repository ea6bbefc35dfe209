"""The queue as the store sees it: the hub's retained ``queue/state`` and ``site/info``, its
``queue/events``, and read-only questions put to the hub as the store's own unit.

Pages wait for a change with :meth:`QueueView.wait` (asyncio, woken from paho's thread), so
a phone's server-sent events go out as soon as an event arrives, with no polling loop per
page. What changed is kept per service: a phone waiting in service A is not woken, and the
hub not asked again, when a ticket of service C moves.

The hub is asked (``ticket.status``) rather than the picture read, because ``queue/state``
lists only the first 50 numbers per service; answers are kept until the next event of that
service, so many phones following one number cost one question per change.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Iterable
from typing import Any

from appliance.bus import Bus, Message
from appliance.config.site import SiteConfig
from appliance.contract import QueueEvent, QueueState, SiteInfo, parse
from appliance.errors import ContractError, MotcuaError, NotConnected, RequestTimeout
from appliance.i18n import tr

log = logging.getLogger(__name__)
ASK_TIMEOUT_S = 3.0
ALL = "*"  # the version key of changes that touch every service (counters, day turnover)
_CACHE_MAX = 5000


class HubUnavailable(MotcuaError):
    """The hub did not answer (not connected, or no reply in time): say so, do not guess."""


class QueueView:
    def __init__(self, bus: Bus, site: SiteConfig | None = None) -> None:
        self.bus = bus
        self.site = site  # the hub's site file, when the store has one (counter screens)
        self.state: QueueState | None = None
        self.info: SiteInfo | None = None
        self.seq = 0
        self.version = 0
        self._service_version: dict[str, int] = {}
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
        self._cache: dict[str, tuple[tuple[int, ...], dict[str, Any]]] = {}
        self.asked = 0  # questions put to the hub (tests and the benchmark read it)

    def attach(self) -> None:
        t = self.bus.topics
        self.bus.subscribe(t.queue_state, self._on_state)
        self.bus.subscribe(t.queue_events, self._on_event)
        self.bus.subscribe(t.site_info, self._on_info)

    # ---- from the bus (paho's thread) -------------------------------------------------
    def _on_state(self, msg: Message) -> None:
        try:
            state = parse(QueueState, msg.payload)
        except ContractError as exc:
            log.warning(tr("hàng chờ (queue/state) không đọc được: %s",
                           "unreadable queue/state: %s"), exc)
            return
        day_changed = self.state is None or self.state.day != state.day
        self.state = state
        if state.seq > self.seq or day_changed:
            self.seq = max(self.seq, state.seq) if not day_changed else state.seq
            self._changed([ALL])

    def _on_info(self, msg: Message) -> None:
        try:
            self.info = parse(SiteInfo, msg.payload)
        except ContractError as exc:
            log.warning(tr("thông tin điểm (site/info) không đọc được: %s",
                           "unreadable site/info: %s"), exc)
            return
        self._changed([ALL])

    def _on_event(self, msg: Message) -> None:
        try:
            event = parse(QueueEvent, msg.payload)
        except ContractError as exc:
            log.warning(tr("sự kiện hàng chờ không đọc được: %s",
                           "unreadable queue event: %s"), exc)
            return
        self.seq = max(self.seq, event.seq)
        ticket = event.ticket or {}
        touched = {s for s in (ticket.get("service"), event.from_service, event.to_service)
                   if isinstance(s, str)}
        self._changed(touched or [ALL])

    def _changed(self, services: Iterable[str]) -> None:
        with self._lock:
            self.version += 1
            for s in services:
                self._service_version[s] = self.version
            waiters = list(self._waiters)
        for loop, fut in waiters:
            loop.call_soon_threadsafe(_wake, fut)

    # ---- for pages ---------------------------------------------------------------------
    def version_of(self, *services: str | None) -> tuple[int, ...]:
        """What a page about ``services`` depends on: their changes and everyone's."""
        with self._lock:
            return (self._service_version.get(ALL, 0),
                    *(self._service_version.get(s or ALL, 0) for s in services))

    async def wait(self, since: int, timeout: float) -> int:
        """The view's version once it differs from ``since`` (or ``timeout`` passes)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self.version != since:
                return self.version
            self._waiters.add((loop, fut))
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard((loop, fut))
        return self.version

    def ask(self, op: str, *, req_id: str | None = None, **fields: Any) -> dict[str, Any]:
        """The hub's reply to one request sent as the store's unit (blocking; call from a
        worker thread). HubUnavailable when there is no answer."""
        self.asked += 1
        try:
            return self.bus.request("hub", {"op": op, **fields}, timeout=ASK_TIMEOUT_S,
                                    req_id=req_id or uuid.uuid4().hex)
        except (NotConnected, RequestTimeout) as exc:
            raise HubUnavailable(str(exc)) from None

    def ticket(self, number: str, service: str | None) -> dict[str, Any]:
        """``ticket.status`` of today's ``number``, asked again only after a change that can
        move it (its service's, or one touching every service)."""
        key = self.version_of(service)
        with self._lock:
            cached = self._cache.get(number)
        if cached is not None and cached[0] == key:
            return cached[1]
        reply = self.ask("ticket.status", number=number)
        if reply.get("ok") or (reply.get("error") or {}).get("code") == "not_found":
            with self._lock:
                if len(self._cache) >= _CACHE_MAX:
                    self._cache.clear()  # a day's numbers at most: start afresh
                self._cache[number] = (key, reply)
        return reply

    def counter_names(self) -> dict[str, str]:
        info = self.info
        return {c.id: c.name for c in info.counters} if info else {}

    def service_names(self) -> dict[str, str]:
        info = self.info
        return {s.id: s.name for s in info.services} if info else {}


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
