"""What the board knows, built from retained messages and events; pure, single-threaded.

The model never invents anything: it starts from the retained ``queue/state`` (the hub's
whole truth with its ``seq``), applies events strictly in ``seq`` order, and on a gap stops
trusting its own picture until a state at least as new as the gap arrives. Whether the
picture is fresh (broker connected, hub alive, state received since) is part of the view,
so the screen can say "đang mất kết nối" with the time of the last update instead of lying.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from appliance.board.parse import parse_site_info, parse_store_board, require
from appliance.board.view import BoardView, Call, CounterView, DossierBoard, ServiceView
from appliance.clock import parse_rfc3339
from appliance.contract import (
    Payload,
    QueueState,
    SiteInfo,
    StoreBoard,
    Topics,
    UnitStatus,
    decode,
    parse,
)
from appliance.errors import ContractError
from appliance.i18n import tr

log = logging.getLogger(__name__)
# retained payloads read through the contract's models (by the topic's last two levels)
_MODELS: dict[str, type[Payload]] = {"queue/state": QueueState, "site/info": SiteInfo,
                                     "store/board": StoreBoard}

MAX_CALLS = 6
# A call learnt only from a resync is still announced if it is this recent.
LATE_CALL_S = 60.0
# Events waiting behind a gap longer than this trigger another resync request.
GAP_PATIENCE_S = 3.0


@dataclass
class _Counter:
    name: str
    open: bool = False
    serving: str | None = None
    service: str | None = None
    since: str | None = None


@dataclass
class _Service:
    name: str
    name_en: str | None = None
    waiting: list[str] = field(default_factory=list)
    est_wait_s: int | None = None
    unlisted: int = 0  # waiting beyond the hub's bounded list (its waiting_count says so)


class BoardModel:
    """Feed it messages with ``handle``; read ``view``; calls to announce come back."""

    def __init__(
        self,
        site: str,
        *,
        hub_unit: str = "hub",
        store_unit: str = "store",
        notice: str = "",
        notice_from: list[str] | None = None,
        counters: list[str] | None = None,
        services: list[str] | None = None,
        hub_silence_s: float = 0.0,
    ) -> None:
        self.topics = Topics(site)
        self._hub_status = self.topics.status(hub_unit)
        self._store_status = self.topics.status(store_unit)
        self._default_notice = notice
        self._notice_from = set(notice_from or [])
        self._only_counters = counters
        self._only_services = services
        self.office_name = ""
        self.office_name_en: str | None = None
        self._names: dict[str, tuple[str, str | None]] = {}  # service id -> names
        self._counter_names: dict[str, str] = {}
        self._services: dict[str, _Service] = {}
        self._counters: dict[str, _Counter] = {}
        self._calls: list[Call] = []
        self._pushed_notice: str | None = None
        self.seq: int | None = None
        self._state_at: datetime | None = None
        self._day: str | None = None
        self._buffer: dict[int, dict[str, Any]] = {}
        self._gap_since: datetime | None = None
        self.broker_up = False
        self.hub_up: bool | None = None  # None: no status seen yet
        self._hub_silence_s = hub_silence_s
        self._hub_heard: float | None = None  # seconds on the heartbeat's clock (below)
        self._hub_silent = False
        self.store_up: bool | None = None
        self._fresh = False  # a queue/state arrived since the last (re)connect
        self.last_update: datetime | None = None
        self._dossier: DossierBoard | None = None
        self.bad_messages = 0
        self.last_error: str | None = None
        self.resyncs = 0
        self.version = 0  # rises on every change: the loop redraws only then
        self._view: BoardView | None = None

    # ---- input ---------------------------------------------------------------------
    def handle(self, topic: str, payload: bytes, now: datetime, *,
               heard: float | None = None) -> list[Call]:
        """Apply one message; malformed ones are counted and logged, never raised.

        ``heard``: when it arrived on the clock the hub's heartbeat runs on (real seconds,
        e.g. time.monotonic()); by default ``now``. A demo's simulated ``now`` runs faster
        than the heartbeat, and silence measured on it is a false alarm.
        """
        try:
            if topic == self._hub_status or topic == self.topics.queue_state:
                self._heard_hub(now.timestamp() if heard is None else heard)
            if topic == self._hub_status or topic == self._store_status:
                self._on_status(topic, payload)
                return []
            obj = decode(payload) if payload else {}
            model = _MODELS.get(topic.rsplit("/", 2)[-2] + "/" + topic.rsplit("/", 1)[-1])
            if model is not None and obj:
                parse(model, obj)  # the contract's reading first; the board's own checks next
            if topic == self.topics.queue_state:
                return self.apply_state(obj, now)
            if topic == self.topics.queue_events:
                return self.apply_event(obj, now)
            if topic == self.topics.site_info:
                self.apply_site_info(obj)
            elif topic == self.topics.notice:
                self.apply_notice(obj)
            elif topic == f"{self.topics.base}/store/board":
                self.apply_store_board(obj)
            return []
        except (ContractError, KeyError, TypeError, ValueError, AttributeError) as exc:
            self.bad_messages += 1
            self.last_error = f"{topic}: {exc}"
            log.warning(tr("bỏ qua một tin sai trên %s: %s",
                           "ignored a bad message on %s: %s"), topic, exc)
            return []

    def _heard_hub(self, at: float) -> None:
        self._hub_heard = at
        if self._hub_silent:
            self._hub_silent = False
            self._changed()

    def check_silence(self, now: datetime, *, at: float | None = None) -> None:
        """A hub that hangs while its connection stays up sends no will: its status
        heartbeat stops. Silence longer than ``hub_silence_s`` counts as unreachable.
        ``at``: the time on the clock ``handle`` was given as ``heard``."""
        if not self._hub_silence_s or self._hub_heard is None or self._hub_silent:
            return
        t = now.timestamp() if at is None else at
        if t - self._hub_heard > self._hub_silence_s:
            log.warning(tr("không nhận được tin nào từ hub trong %.0f s",
                           "no word from the hub for %.0f s"), self._hub_silence_s)
            self._hub_silent = True
            self._changed()

    def set_broker(self, up: bool) -> None:
        if up != self.broker_up:
            self.broker_up = up
            # Retained messages come again after a reconnect; until then the data is old.
            self._fresh = False
            self._changed()

    def _on_status(self, topic: str, payload: bytes) -> None:
        if not payload:
            return
        up = parse(UnitStatus, payload).serving
        if topic == self._hub_status:
            if up != self.hub_up:
                self.hub_up = up
                self._changed()
        elif up != self.store_up:
            self.store_up = up
            self._changed()

    def apply_site_info(self, obj: dict[str, Any]) -> None:
        self.office_name, self.office_name_en, self._names, self._counter_names = (
            parse_site_info(obj))
        for sid, (name, name_en) in self._names.items():
            svc = self._services.setdefault(sid, _Service(name))
            svc.name, svc.name_en = name, name_en
        for cid, name in self._counter_names.items():
            self._counters.setdefault(cid, _Counter(name)).name = name
        self._changed()

    def apply_notice(self, obj: dict[str, Any]) -> None:
        by = obj.get("by")
        if self._notice_from and by not in self._notice_from:
            raise ValueError(tr(f"thông báo từ {by!r}, thiết bị không có trong notice_from",
                                f"notice from {by!r}, which is not in notice_from"))
        if not self._notice_from:
            raise ValueError(tr("không thiết bị nào được gửi thông báo (board.notice_from trống)",
                                 "no unit may push a notice (board.notice_from is empty)"))
        text = obj.get("text")
        self._pushed_notice = str(text) if text else None
        self._changed()

    def apply_store_board(self, obj: dict[str, Any]) -> None:
        self._dossier = parse_store_board(obj)
        self._changed()

    def apply_state(self, obj: dict[str, Any], now: datetime) -> list[Call]:
        require(obj, "queue/state", seq=int, services=dict, counters=dict)
        seq = int(obj["seq"])
        at = parse_rfc3339(obj["at"]) if obj.get("at") else None
        newer = self.seq is None or seq >= self.seq
        restarted = at is not None and self._state_at is not None and at > self._state_at
        if not (newer or restarted):
            self._fresh = True  # an old retained copy still proves the link works
            self.last_update = now
            self._changed()
            return []
        resyncing = self._gap_since is not None
        before = {cid: c.serving for cid, c in self._counters.items()}
        services: dict[str, _Service] = {}
        for sid, s in obj.get("services", {}).items():
            name, name_en = self._names.get(sid, (str(s.get("name") or sid), None))
            est = s.get("est_wait_s")
            listed = [str(n) for n in s.get("waiting", [])]
            count = s.get("waiting_count")
            services[sid] = _Service(str(s.get("name") or name), name_en, listed,
                                     None if est is None else int(est),
                                     count - len(listed) if isinstance(count, int)
                                     and count > len(listed) else 0)
        counters: dict[str, _Counter] = {}
        for cid, c in obj.get("counters", {}).items():
            counters[cid] = _Counter(
                str(c.get("name") or self._counter_names.get(cid) or f"Quầy {cid}"),
                bool(c.get("open")), c.get("serving"), c.get("service"), c.get("since"))
        if self._day is not None and obj.get("day") != self._day:
            self._calls.clear()
        self._services, self._counters = services, counters
        self._day = obj.get("day")
        self.seq, self._state_at = seq, at
        self._fresh = True
        self.last_update = now
        calls: list[Call] = []
        if resyncing:
            calls = self._calls_missed(before, now)
        self._gap_since = None
        self._buffer = {k: v for k, v in self._buffer.items() if k > seq}
        if not self._calls:
            self._calls = self._calls_from_state(now)
        calls += self._drain(now)
        if self._buffer:
            # Still not contiguous after the newest state: those events are unusable (the
            # next state covers them); keeping them would hold the board in a gap.
            log.info(tr("bỏ %d sự kiện sau khi đồng bộ lại ở seq %s",
                        "dropping %d events after a resync at seq %s"), len(self._buffer), seq)
            self._buffer.clear()
            self._gap_since = None
        self._changed()
        return calls

    def apply_event(self, obj: dict[str, Any], now: datetime) -> list[Call]:
        require(obj, "queue/events", seq=int, type=str)
        seq = int(obj["seq"])
        if self.seq is not None and seq <= self.seq:
            return []  # already in the state we hold (or a duplicate delivery)
        self._buffer[seq] = obj
        calls = self._drain(now)
        if self._buffer and self._gap_since is None:
            self._gap_since = now
            self.resyncs += 1
            log.info(tr("thiếu sự kiện: đang có seq %s, nhận %s; đồng bộ lại từ queue/state",
                        "event gap: have seq %s, got %s; resyncing from queue/state"),
                     self.seq, min(self._buffer))
            self._changed()
        return calls

    def resync_due(self, now: datetime) -> bool:
        """True when a gap has waited too long: the caller should fetch the state again."""
        if self._gap_since is None:
            return False
        if now - self._gap_since >= timedelta(seconds=GAP_PATIENCE_S):
            self._gap_since = now
            self.resyncs += 1
            return True
        return False

    @property
    def resyncing(self) -> bool:
        return self._gap_since is not None

    # ---- output --------------------------------------------------------------------
    @property
    def online(self) -> bool:
        return (self.broker_up and self.hub_up is not False and self._fresh
                and not self._hub_silent)

    def view(self) -> BoardView:
        if self._view is None:
            self._view = self._build_view()
        return self._view

    def _build_view(self) -> BoardView:
        service_ids = self._only_services or sorted(self._services)
        counter_ids = self._only_counters or sorted(self._counters, key=_natural)
        services = []
        for sid in service_ids:
            s = self._services.get(sid)
            if s is None:
                continue
            name_en = s.name_en or self._names.get(sid, ("", None))[1]
            services.append(ServiceView(sid, s.name, name_en, len(s.waiting) + s.unlisted,
                                        s.est_wait_s))
        counters = []
        for cid in counter_ids:
            c = self._counters.get(cid)
            if c is None:
                continue
            svc = self._services.get(c.service or "")
            counters.append(CounterView(cid, c.name, c.open, c.serving, c.service,
                                        svc.name if svc else None))
        return BoardView(
            office_name=self.office_name,
            office_name_en=self.office_name_en,
            services=tuple(services),
            counters=tuple(counters),
            calls=tuple(self._calls),
            notice=self._pushed_notice or self._default_notice,
            online=self.online and not self.resyncing,
            ever_synced=self.seq is not None,
            last_update=self.last_update,
            dossier=self._dossier,
            dossier_online=self.broker_up and self.store_up is not False
            and self._dossier is not None,
        )

    # ---- internals -----------------------------------------------------------------
    def _changed(self) -> None:
        self._view = None
        self.version += 1

    def _drain(self, now: datetime) -> list[Call]:
        calls: list[Call] = []
        if self.seq is None:
            return calls  # nothing to apply events to until the first state
        while self.seq + 1 in self._buffer:
            self.seq += 1
            event = self._buffer.pop(self.seq)
            call = self._apply(event, now)
            if call is not None:
                calls.append(call)
            self.last_update = now
            self._changed()
        if not self._buffer:
            self._gap_since = None
        return calls

    def _apply(self, e: dict[str, Any], now: datetime) -> Call | None:
        kind = e["type"]
        ticket = e.get("ticket") or {}
        number = str(ticket.get("number") or "")
        sid = ticket.get("service")
        cid = e.get("counter")
        counter = self._counters.get(cid) if cid is not None else None
        if cid is not None and counter is None:
            counter = self._counters[cid] = _Counter(
                e.get("counter_name") or self._counter_names.get(cid) or f"Quầy {cid}")
        if kind == "ticket.issued" and sid:
            svc = self._services.setdefault(sid, _Service(ticket.get("service_name") or sid))
            if number not in svc.waiting:
                svc.waiting.append(number)
        elif kind in ("ticket.called", "ticket.recalled", "ticket.resumed") and counter:
            self._unwait(number)
            counter.serving, counter.service, counter.open = number, sid, True
            counter.since = e.get("at")
            if kind == "ticket.resumed":
                return None
            call = Call(number, str(cid), counter.name,
                        ticket.get("service_name") or self._service_name(sid),
                        now, recall=kind == "ticket.recalled", seq=int(e["seq"]))
            self._calls = [call, *[c for c in self._calls if c.number != number]][:MAX_CALLS]
            return call
        elif kind in ("ticket.finished", "ticket.no_show", "ticket.parked",
                      "ticket.transferred") and counter:
            if counter.serving == number:
                counter.serving = counter.service = None
            if kind == "ticket.transferred":
                to = e.get("to_service") or ticket.get("service")
                if to and to in self._services and number not in self._services[to].waiting:
                    self._services[to].waiting.append(number)
        elif kind == "ticket.voided":
            self._unwait(number)
        elif kind == "counter.opened" and counter:
            counter.open = True
        elif kind == "counter.closed" and counter:
            counter.open, counter.serving, counter.service = False, None, None
        elif kind == "day.reset":
            for s in self._services.values():
                s.waiting.clear()
                s.unlisted = 0
            for c in self._counters.values():
                c.serving = c.service = None
            self._calls.clear()
        return None

    def _unwait(self, number: str | None) -> None:
        for s in self._services.values():
            if number in s.waiting:
                s.waiting.remove(number)

    def _service_name(self, sid: str | None) -> str:
        if sid in self._services:
            return self._services[sid].name
        return self._names.get(sid or "", (sid or "", None))[0]

    def _calls_from_state(self, now: datetime) -> list[Call]:
        serving = [(c.since or "", cid, c) for cid, c in self._counters.items() if c.serving]
        serving.sort(reverse=True)
        # Shown as "recently called", never highlighted or announced: their time is unknown.
        old = now - timedelta(days=1)
        return [Call(c.serving or "", cid, c.name, self._service_name(c.service), old)
                for _, cid, c in serving[:MAX_CALLS]]

    def _calls_missed(self, before: dict[str, str | None], now: datetime) -> list[Call]:
        calls = []
        for cid, c in self._counters.items():
            if not c.serving or before.get(cid) == c.serving or not c.since:
                continue
            try:
                age = (now - parse_rfc3339(c.since)).total_seconds()
            except ValueError:
                continue
            if age <= LATE_CALL_S:
                call = Call(c.serving, cid, c.name, self._service_name(c.service), now)
                self._calls = [call, *[x for x in self._calls if x.number != c.serving]]
                calls.append(call)
        self._calls = self._calls[:MAX_CALLS]
        return calls


def _natural(cid: str) -> tuple[int, str]:
    return (int(cid), "") if cid.isdigit() else (10**9, cid)


def with_online(view: BoardView, online: bool) -> BoardView:
    """A copy of ``view`` with another link state (screenshots of the offline banner)."""
    return replace(view, online=online)
