"""The counter unit: key actions → hub → the counter's LED board, offline by hand, ratings.

One worker thread does everything in order (keys, ratings, hub replies, the outbox), so
a press is never doubled or reordered. Inputs come from any thread through a queue.

* Online: each action is one hub request with a request id that stays the same on
  retry (the hub acts once). The reply decides what the board shows; a new call blinks.
* Offline (the hub does not answer): the board says ``OFF``; a number typed by hand is
  shown and stored (SQLite, synchronous=FULL) with finish/no-show of it; when the hub
  answers again the stored events go first, once, in order, as ``counter.sync``.
* Ratings: a rating key rates the ticket finished here within the rating window; one per
  ticket (stored), late or repeated presses ignored; sent through the same outbox.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from appliance.bus import Bus, Message
from appliance.clock import Clock, rfc3339
from appliance.contract import (
    CounterState,
    Payload,
    QueueState,
    SiteInfo,
    UnitStatus,
    decode,
    parse,
)
from appliance.counter.logic import LocalError, full_number, notice_for, rating_target, status_state
from appliance.counter.model import Beeper, Board, Result
from appliance.counter.outbox import Offline, OutboxSender
from appliance.counter.store import CounterStore
from appliance.errors import ContractError, NotConnected, RequestTimeout
from appliance.i18n import tr

log = logging.getLogger(__name__)
BEAT_S = 2.0  # an idle worker still tells the watchdog it is alive this often

HUB_ACTIONS = ("next", "recall", "no_show", "finish", "transfer", "park", "resume", "call",
               "open", "close")
OFFLINE_EVENTS = ("call", "finish", "no_show")


class CounterService:
    def __init__(self, *, unit: str, counter: str, bus: Bus, store: CounterStore, clock: Clock,
                 board: Board, beeper: Beeper | None = None, request_timeout_s: float = 3.0,
                 retries: int = 1, rating_window_s: float = 120.0,
                 sync_interval_s: float = 5.0, hub_unit: str = "hub",
                 beat: Callable[[], None] = lambda: None) -> None:
        self.unit = unit
        self._beat = beat  # the watchdog's: this worker is the counter's real work
        self.counter = counter
        self.bus = bus
        self.store = store
        self.clock = clock
        self.board = board
        self.beeper = beeper
        self.rating_window_s = rating_window_s
        self.sync_interval_s = sync_interval_s
        self.outbox = OutboxSender(unit=unit, counter=counter, bus=bus, store=store,
                                   timeout_s=request_timeout_s, retries=retries)
        self._timeout = request_timeout_s
        self._retries = retries
        self._inbox: queue.Queue[tuple[str, Any, Future[Result] | None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[Result], None]] = []
        self.serving: str | None = store.get("serving")
        self.officer: str | None = store.get("officer")
        self.site_info: dict[str, Any] | None = store.get("site_info")
        self.queue_state: dict[str, Any] | None = None
        self.hub_unit = hub_unit
        self.hub_reachable: bool | None = None  # unknown until the hub's status or a reply
        self.keypad_present: bool | None = None
        self.rating_keys_present: bool | None = None
        self.board_ok: bool | None = None
        self.board_answers = False

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        t = self.bus.topics
        self.bus.subscribe(t.counter_state(self.counter), lambda m: self._post("state", m))
        self.bus.subscribe(t.site_info, lambda m: self._post("site_info", m))
        self.bus.subscribe(t.queue_state, lambda m: self._post("queue_state", m))
        self.bus.subscribe(t.status(self.hub_unit), lambda m: self._post("hub_status", m))
        self.bus.on_connection(lambda up: self._post("flush", None) if up else None)
        self.board.show(self.serving or "")
        self._thread = threading.Thread(target=self._run, name=f"counter-{self.counter}",
                                        daemon=True)
        self._thread.start()
        self._status()

    def stop(self) -> None:
        if self._thread is not None:
            self._inbox.put(None)
            self._thread.join(timeout=self._timeout * (self._retries + 1) + 5)
            self._thread = None

    def add_listener(self, listener: Callable[[Result], None]) -> None:
        """Called on the worker thread with every action's Result."""
        self._listeners.append(listener)

    # ---- inputs (any thread) ------------------------------------------------------------------
    def act(self, action: str, **extra: Any) -> Future[Result]:
        """Queue an action (as its key would); the future holds its Result."""
        fut: Future[Result] = Future()
        self._inbox.put(("action", (action, extra), fut))
        return fut

    def rate(self, rating: str) -> Future[Result]:
        fut: Future[Result] = Future()
        self._inbox.put(("rate", rating, fut))
        return fut

    def entry(self, text: str) -> None:
        """Echo what the officer is typing."""
        self._post("entry", text)

    def set_keypad_present(self, present: bool) -> None:
        self.keypad_present = present
        self._post("status", None)

    def set_rating_keys_present(self, present: bool) -> None:
        self.rating_keys_present = present
        self._post("status", None)

    def set_board_health(self, ok: bool, problem: str | None) -> None:
        self.board_ok = ok
        self._post("status", None)

    def _post(self, kind: str, payload: Any) -> None:
        self._inbox.put((kind, payload, None))

    # ---- worker ------------------------------------------------------------------------------
    def _run(self) -> None:
        quiet_s = 0.0  # the outbox is flushed after sync_interval_s with nothing to do
        while True:
            self._beat()
            wait = min(self.sync_interval_s - quiet_s, BEAT_S)
            try:
                item = self._inbox.get(timeout=wait)
            except queue.Empty:
                quiet_s += wait
                if quiet_s >= self.sync_interval_s:
                    quiet_s = 0.0
                    if self._flush_quietly():
                        self._probe_hub()
                continue
            quiet_s = 0.0
            if item is None:
                return
            kind, payload, fut = item
            try:
                result = self._handle(kind, payload)
            except Exception as exc:  # logged: one bad item must not stop the counter
                log.exception(tr("quầy %s: thao tác %s lỗi",
                                 "counter %s: %s failed"), self.counter, kind)
                if fut is not None:
                    fut.set_exception(exc)
                continue
            if result is not None:
                for listener in self._listeners:
                    listener(result)
            if fut is not None:
                fut.set_result(result or Result(kind, False, code="ignored"))

    def _handle(self, kind: str, payload: Any) -> Result | None:
        if kind == "action":
            action, extra = payload
            return self._action(action, dict(extra))
        if kind == "rate":
            return self._rate(str(payload))
        if kind == "entry":
            self.board.echo(str(payload))
            return None
        if kind == "state":
            self._on_counter_state(payload)
        elif kind == "site_info":
            self.site_info = self._decode(payload, SiteInfo)
            if self.site_info:
                self.store.put("site_info", self.site_info)
        elif kind == "queue_state":
            self.queue_state = self._decode(payload, QueueState)
        elif kind == "hub_status":
            hub = self._decode(payload, UnitStatus)
            # The hub's retained status (its last will says "lost") tells us before any
            # key press whether calls will be answered.
            up = hub is not None and not UnitStatus.model_validate(hub).down
            self._reachable(up)
            if up:
                self._flush_quietly()
        elif kind == "flush":
            if self._flush_quietly():
                self._probe_hub()
        self._status()
        return None

    @staticmethod
    def _decode(msg: Message, model: type[Payload]) -> dict[str, Any] | None:
        """The payload as a dict, once it reads as the contract's ``model``."""
        try:
            body = decode(msg.payload)
            parse(model, body)
            return body
        except ContractError as exc:
            log.warning("unreadable %s: %s", msg.topic, exc)
            return None

    def _on_counter_state(self, msg: Message) -> None:
        state = self._decode(msg, CounterState)
        if state is None or self.store.events_backlog():
            return  # our own offline record is newer than the hub's until it is synced
        serving = state.get("serving")
        if serving != self.serving:
            self._set_serving(serving)
            self.board.show(serving or "")

    # ---- actions -----------------------------------------------------------------------------
    def _action(self, action: str, extra: dict[str, Any]) -> Result:
        if action == "error":
            return self._fail(action, str(extra.get("reason") or "error"))
        if action == "login":
            return self._login(extra.get("officer"))
        if action not in HUB_ACTIONS:
            return self._fail(action, "bad_request")
        try:
            if action in ("call", "resume") and extra.get("number"):
                extra["number"] = full_number(str(extra["number"]), counter=self.counter,
                                              site_info=self.site_info,
                                              queue_state=self.queue_state)
            if self.store.events_backlog() and not self.outbox.flush():
                raise Offline(tr("các thao tác lúc mất kết nối chưa gửi xong",
                                 "the offline backlog is not synced yet"))
            reply = self._request(f"counter.{action}", extra)
        except LocalError as exc:
            return self._fail(action, exc.code)
        except Offline:
            return self._offline(action, extra)
        self._reachable(True)
        if not reply.get("ok"):
            code = str((reply.get("error") or {}).get("code") or "error")
            return self._fail(action, code, reply=reply)
        return self._applied(action, reply)

    def _request(self, op: str, extra: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"op": op, "counter": self.counter, **extra}
        if self.officer:
            body["officer"] = self.officer
        req_id = f"{self.unit}-{uuid.uuid4().hex[:16]}"
        for _ in range(self._retries + 1):
            try:
                return self.bus.request("hub", body, timeout=self._timeout, req_id=req_id)
            except NotConnected as exc:
                raise Offline(str(exc)) from exc
            except RequestTimeout:
                log.warning(tr("hub không trả lời %s (yêu cầu %s); thử lại",
                               "hub did not answer %s (request %s); retrying"), op, req_id)
        raise Offline(tr(f"hub không trả lời {op}", f"the hub did not answer {op}"))

    def _applied(self, action: str, reply: dict[str, Any]) -> Result:
        counter = reply.get("counter") or {}
        ticket = reply.get("ticket") or None
        serving = counter.get("serving")
        previous = self.serving
        finished = None
        if action == "finish" and ticket:
            finished = ticket.get("number")
        elif action in ("next", "call", "close") and previous and previous != serving:
            finished = previous
        # The board first (the officer is waiting for it), then one commit for both facts.
        if serving:
            self.board.show(serving, blink=action in ("next", "call", "resume", "recall"))
        else:
            self.board.show("")
        facts: dict[str, Any] = {}
        if finished:
            facts["last_finished"] = self._finished_fact(str(finished))
        if serving != self.serving:
            self.serving = serving
            facts["serving"] = serving
        if facts:
            self.store.put_many(facts)
        if action == "next" and ticket is None:
            self.board.notice(notice_for("empty"))
            self._beep(False)
            return Result(action, False, shown="", code="empty", reply=reply)
        self._beep(True)
        number = ticket.get("number") if ticket else None
        return Result(action, True, shown=serving or "", reply=reply, number=number)

    def _offline(self, action: str, extra: dict[str, Any]) -> Result:
        """The hub did not answer: do what can be done by hand, and say so."""
        self._reachable(False)
        now = rfc3339(self.clock.now())
        if action == "call" and extra.get("number"):
            number = str(extra["number"])
            if self.serving and self.serving != number:
                self._finished(self.serving)
            self.store.add("event", {"action": "call", "number": number, "at": now}, now)
            self._set_serving(number)
            self.board.show(number, blink=True)
            self._beep(True)
            self._status()
            return Result(action, True, shown=number, offline=True, number=number)
        if action in ("finish", "no_show") and self.serving:
            number = self.serving
            self.store.add("event", {"action": action, "number": number, "at": now}, now)
            if action == "finish":
                self._finished(number)
            self._set_serving(None)
            self.board.show("")
            self._beep(True)
            self._status()
            return Result(action, True, shown="", offline=True, number=number)
        if action == "recall" and self.serving:
            self.board.show(self.serving, blink=True)
            return Result(action, True, shown=self.serving, offline=True, number=self.serving)
        return self._fail(action, "hub_offline", offline=True)

    def _login(self, officer: Any) -> Result:
        self.officer = str(officer) if officer else None
        self.store.put("officer", self.officer)
        self._status()
        if self.officer is None:
            self.board.notice("L---")
            return Result("login", True, shown=self.serving or "")
        try:
            if self.store.events_backlog() and not self.outbox.flush():
                raise Offline("backlog")
            reply = self._request("counter.open", {})
        except Offline:
            self._reachable(False)
            self.board.notice("L" + self.officer[-3:])
            return Result("login", True, offline=True, shown=self.serving or "")
        self._reachable(True)
        if not reply.get("ok"):
            code = str((reply.get("error") or {}).get("code") or "error")
            return self._fail("login", code, reply=reply)
        self.board.notice("L" + self.officer[-3:])
        self._beep(True)
        return Result("login", True, reply=reply, shown=self.serving or "")

    def _fail(self, action: str, code: str, *, offline: bool = False,
              reply: dict[str, Any] | None = None) -> Result:
        self.board.notice(notice_for(code))
        self._beep(False)
        self._status()
        return Result(action, False, shown=self.serving or "", code=code, offline=offline,
                      reply=reply)

    # ---- ratings -------------------------------------------------------------------------------
    def _finished_fact(self, number: str) -> dict[str, Any]:
        return {"number": number, "at": self.clock.now().isoformat(), "officer": self.officer}

    def _finished(self, number: str) -> None:
        self.store.put("last_finished", self._finished_fact(number))

    def _rate(self, rating: str) -> Result:
        last = self.store.get("last_finished")
        now = self.clock.now()
        number = rating_target(last, now, self.rating_window_s)
        if number is None:
            return Result("rate", False, code="nothing_to_rate", shown=self.serving or "")
        day = now.date().isoformat()
        body = {"number": number, "rating": rating, "officer": (last or {}).get("officer")}
        if not self.store.rate_once(day, number, body, rfc3339(now)):
            return Result("rate", False, code="already_rated", number=number,
                          shown=self.serving or "")
        self._beep(True)
        sent = self._flush_quietly()
        self._status()
        return Result("rate", True, number=number, offline=not sent, shown=self.serving or "")

    # ---- outbox, state, status -----------------------------------------------------------------
    def _flush_quietly(self) -> bool:
        if not self.store.backlog():
            return True
        if not self.bus.connected:
            return False
        ok = self.outbox.flush()
        self._reachable(ok)
        if ok and self.outbox.last_counter is not None:
            serving = self.outbox.last_counter.get("serving")
            if serving != self.serving:
                self._set_serving(serving)
                self.board.show(serving or "")
        self._status()
        return ok

    def _probe_hub(self) -> None:
        """Idle and the hub was unreachable (a broker or hub restart): ask it, so that
        hub_unreachable clears when it answers, not at the next key press."""
        if self.hub_reachable is not False or not self.bus.connected:
            return
        try:
            self.bus.request("hub", {"op": "hub.ping"}, timeout=self._timeout)
        except (NotConnected, RequestTimeout):
            return
        self._reachable(True)

    def _set_serving(self, serving: str | None) -> None:
        if serving != self.serving:
            self.serving = serving
            self.store.put("serving", serving)

    def _reachable(self, ok: bool) -> None:
        if ok != self.hub_reachable:
            was, self.hub_reachable = self.hub_reachable, ok
            if not ok and was is not None:
                self.board.notice(notice_for("hub_offline"))
            self._status()

    def _beep(self, ok: bool) -> None:
        if self.beeper is not None:
            self.beeper.ok() if ok else self.beeper.error()

    def _status(self) -> None:
        events, backlog = self.store.events_backlog(), self.store.backlog()
        state, reasons = status_state(
            keypad=self.keypad_present, rating_keys=self.rating_keys_present,
            board_ok=self.board_ok,
            board_answers=self.board_answers, hub_reachable=self.hub_reachable,
            events_backlog=events, backlog=backlog)
        self.bus.set_status(
            state, reasons=reasons, counter=self.counter, keypad_present=self.keypad_present,
            board_answering=self.board_ok if self.board_answers else None,
            board_written=self.board_ok, offline_backlog=events, ratings_pending=backlog - events,
            officer=self.officer, serving=self.serving, hub_reachable=self.hub_reachable,
            rating_keys_present=self.rating_keys_present)
