"""The store on MQTT: requests routed through a table, the retained catalogue and board.

paho's thread only queues a request; worker threads run the database work and reply.
Like the hub, the store trusts no unit's topics: it answers only on the requester's own
response topic, only units of the site file (with the ops their role allows), drops and
clears retained requests, and a worker survives any message (a fault is logged and shown
in the status; a worker that dies anyway ends the process through ``on_fatal``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from appliance.bus import Bus, Message
from appliance.clock import rfc3339
from appliance.config.site import UnitEntry
from appliance.contract import (
    VERSION,
    RecordsPut,
    Topics,
    decode,
    encode,
    error_reply,
    ok_reply,
    parse,
    request_id,
)
from appliance.core.dossier_code import parse_scan
from appliance.errors import ContractError
from appliance.i18n import tr
from appliance.logbudget import LogBudget
from appliance.store.core import Store
from appliance.store.errors import StoreError
from appliance.store.ratelimit import RateLimiter

log = logging.getLogger(__name__)
_budget = LogBudget(log)
BEAT_S = 2.0  # an idle worker still tells the watchdog it is alive this often
MAX_REPLY = 60 * 1024
# The shared not_found sentence speaks of tickets; the store's speak of dossiers.
STORE_MESSAGES = {
    "dossier.lookup": "Không tìm thấy hồ sơ với mã số và mã tra cứu này.",
    "procedure.get": "Không tìm thấy thủ tục này.",
}
_STOP = object()
FAULT_SHOWN_S = 600.0
_READ_OPS = frozenset({"dossier.lookup", "dossier.board", "procedure.search", "procedure.get",
                       "procedure.catalogue"})
# What each kind of unit may ask the store; a unit entry's allow / deny adjust it, as for
# the hub. Only the lookup kiosk and an office PC look dossiers up.
STORE_ROLE_OPS: dict[str, frozenset[str]] = {
    "lookup": _READ_OPS,
    "admin": _READ_OPS,
    "board": frozenset({"dossier.board"}),
    "counter": frozenset({"procedure.search", "procedure.get", "procedure.catalogue"}),
    "dispenser": frozenset(),
    "store": frozenset(),
    "hub": frozenset({"records.put"}),  # the site's hub ships its day records
}


def _str(req: dict[str, Any], key: str, max_len: int, *, required: bool = True) -> str | None:
    value = req.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise ContractError("bad_request", f"{key}: a string of at most {max_len} characters")
    return value


def _int(req: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = req.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ContractError("bad_request", f"{key}: a whole number from {lo} to {hi}")
    return value


class StoreService:
    def __init__(self, bus: Bus, store: Store, limiter: RateLimiter | None = None, *,
                 units: Mapping[str, UnitEntry] | None = None,
                 on_fatal: Callable[[str], None] | None = None,
                 beat: Callable[[], None] = lambda: None, hub_unit: str = "hub") -> None:
        """``units``: the site file's units (who may ask what); None answers any unit
        (tests, a store installed without a site file — logged at start). ``hub_unit``:
        the site's hub (the site file's own unit), which alone may ship day records."""
        self.bus = bus
        self._beat = beat  # the watchdog's: the workers answer every request
        self.store = store
        self.units = units
        self.hub_unit = hub_unit
        self._on_fatal = on_fatal
        self._faults: deque[tuple[float, str]] = deque(maxlen=5)
        self.refused = 0
        s = store.settings
        self.limiter = limiter or RateLimiter(s.lookup_rate_per_s, s.lookup_burst,
                                              s.max_failed_lookups)
        self.topic_catalogue = f"{bus.topics.base}/store/catalogue"
        self.topic_board = f"{bus.topics.base}/store/board"
        self.ops: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
            "dossier.lookup": self._lookup,
            "dossier.board": self._board,
            "procedure.search": self._search,
            "procedure.get": self._get,
            "procedure.catalogue": self._catalogue,
            "records.put": self._records,
        }
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=10000)
        self._workers: list[threading.Thread] = []
        self._board_dirty = threading.Event()
        self._catalogue_dirty = threading.Event()
        self._stopping = threading.Event()
        self._board_thread: threading.Thread | None = None
        self._board_sites: set[str] = set()

    # ---- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        self.store.dossiers.listeners.append(self._board_dirty.set)
        self.store.catalogue.listeners.append(self._catalogue_changed)
        self.bus.subscribe(self.bus.topics.req_filter("store"), self._enqueue,
                           retain_as_published=True)
        self.bus.on_connection(self._on_connection)
        for i in range(self.store.settings.workers):
            t = threading.Thread(target=self._work, name=f"store-worker-{i}", daemon=True)
            t.start()
            self._workers.append(t)
        self._board_thread = threading.Thread(target=self._board_loop, name="store-board",
                                              daemon=True)
        self._board_thread.start()
        if self.units is None:
            log.warning(tr("kho hồ sơ không có tệp điểm ([store] site_file): không kiểm tra "
                           "được thiết bị nào được phép hỏi",
                           "the store has no site file ([store] site_file): it cannot check "
                           "which units may ask it"))
        self._set_status()

    @property
    def workers_alive(self) -> int:
        return sum(t.is_alive() for t in self._workers)

    def stop(self) -> None:
        self._stopping.set()
        self._board_dirty.set()
        for _ in self._workers:
            self._queue.put(_STOP)
        for t in self._workers:
            t.join(timeout=5)
        if self._board_thread:
            self._board_thread.join(timeout=5)

    def _on_connection(self, up: bool) -> None:
        # runs on paho's thread: leave the database work to the board thread
        if up:
            self._catalogue_dirty.set()
            self._board_dirty.set()

    def _catalogue_changed(self) -> None:
        self._catalogue_dirty.set()
        self._board_dirty.set()

    # ---- retained topics -------------------------------------------------------------
    def publish_catalogue(self) -> None:
        cat = self.store.catalogue
        self.bus.publish(self.topic_catalogue, {
            "v": VERSION, "version": cat.version, "count": cat.count,
            "at": rfc3339(self.store.dossiers.clock.now())}, retain=True)

    @property
    def office(self) -> str | None:
        """The office whose figures and procedures this site's units see."""
        return self.store.offices.for_site(self.bus.topics.site, self.bus.topics.site)

    def publish_board(self) -> None:
        """Each site's retained board with its own office's figures only: the store's own
        site, and every other site an office was given (a province store on a shared
        broker). A site no office shows any more gets its board cleared."""
        sites = self.store.offices.site_offices(self.bus.topics.site)
        limit = self.store.settings.board_ready_limit
        for site, office in sorted(sites.items()):
            self.bus.publish(self._board_topic(site),
                             self.store.dossiers.board(limit, office), retain=True)
        for gone in self._board_sites - set(sites):
            self.bus.clear_retained(self._board_topic(gone))
        self._board_sites = set(sites)

    def _board_topic(self, site: str) -> str:
        return self.topic_board if site == self.bus.topics.site \
            else f"{Topics(site).base}/store/board"

    def _board_loop(self) -> None:
        # at most one board a second, and one a minute regardless (the day turns, dossiers
        # become overdue without any write)
        while not self._stopping.is_set():
            self._board_dirty.wait(60.0)
            if self._stopping.is_set():
                return
            self._board_dirty.clear()
            if self.bus.connected:
                try:
                    if self._catalogue_dirty.is_set():
                        self._catalogue_dirty.clear()
                        self.publish_catalogue()
                    self.publish_board()
                except SQLAlchemyError as exc:
                    log.error(tr("không đọc được số liệu cho màn hình: %s",
                                 "could not read the board figures: %s"), exc)
                    self._unhealthy(f"database: {type(exc).__name__}")
                except Exception:  # a bug here must not end the loop; it is logged
                    log.exception(tr("không gửi được số liệu cho màn hình",
                                     "could not publish the board"))
            self._stopping.wait(1.0)

    # ---- requests ----------------------------------------------------------------------
    def _enqueue(self, msg: Message) -> None:
        # paho's thread: only the checks that need no database, then queue
        where = self.bus.topics.unit_of(msg.topic)
        if where is None:
            _budget.log(logging.WARNING, "topic", tr(
                "bỏ qua một tin trên %r: không phải chủ đề yêu cầu",
                "ignored a message on %r: not a request topic"), msg.topic[:200])
            return
        if msg.retain and not msg.payload:
            return  # a retained message being cleared (our own clearing, say)
        if msg.retain:
            _budget.log(logging.ERROR, where[0], tr(
                "bỏ qua và xoá yêu cầu giữ lại trên %s",
                "retained request on %s ignored and cleared"), msg.topic)
            self.refused += 1
            self.bus.clear_retained(msg.topic)
            return
        try:
            self.bus.topics.reply_topic_for(where[0], msg.response_topic)
        except ContractError as exc:
            if msg.response_topic is not None:
                _budget.log(logging.ERROR, where[0], tr("từ chối yêu cầu của %s: %s",
                                                        "request from %s refused: %s"), where[0],
                            exc.message)
                self.refused += 1
            return
        try:
            self._queue.put_nowait(msg)
        except queue.Full:
            self.bus.reply(msg, error_reply(None, "rate_limited", tr("kho hồ sơ đang quá tải",
                                                                "the store is overloaded")))

    def _work(self) -> None:
        try:
            while True:
                self._beat()
                try:
                    msg = self._queue.get(timeout=BEAT_S)
                except queue.Empty:
                    continue
                if msg is _STOP:
                    return
                try:
                    self.bus.reply(msg, self.handle(msg.topic, msg.payload))
                except Exception as exc:  # one message must never cost the worker
                    log.exception(tr("lỗi trong luồng xử lý của kho hồ sơ", "store worker fault"))
                    self._fault(f"{type(exc).__name__}: {exc}")
        except BaseException as exc:  # a worker that dies anyway takes the process down
            reason = f"store worker died: {type(exc).__name__}: {exc}"
            log.critical(reason, exc_info=True)
            if self._on_fatal is not None:
                self._on_fatal(reason)
            raise

    def _allowed(self, unit: str, op: str) -> None:
        if self.units is None:
            return
        entry = self.units.get(unit)
        if entry is None and unit == self.hub_unit:  # the hub is the site file's own unit
            ops = STORE_ROLE_OPS["hub"]
        elif entry is None:
            raise ContractError("unknown_unit", f"unit {unit!r} is not in the site file")
        else:
            ops = (STORE_ROLE_OPS.get(entry.role, frozenset()) | frozenset(entry.allow)) \
                - frozenset(entry.deny)
        if op not in ops:
            raise ContractError("forbidden", f"{unit} may not {op}")

    def handle(self, topic: str, payload: bytes) -> dict[str, Any]:
        """The reply to one request (also used by tests and the benchmark)."""
        req_id: str | None = None
        op: object = None
        try:
            req = decode(payload)
            req_id = request_id(req)
            where = self.bus.topics.unit_of(topic)
            if where is None:
                raise ContractError("bad_request", "not a request topic")
            unit = where[0]
            op = req.get("op")
            handler = self.ops.get(op) if isinstance(op, str) else None
            if handler is None:
                raise ContractError("unknown_op",
                                    f"op {str(op)[:40]!r} is not one of {sorted(self.ops)}")
            assert isinstance(op, str)
            self._allowed(unit, op)
            reply = ok_reply(req_id, **handler(unit, req))
            self._healthy()
            return reply
        except (ContractError, StoreError) as exc:
            reply = error_reply(req_id, exc.code, exc.message)
            if exc.code == "not_found" and isinstance(op, str) and op in STORE_MESSAGES:
                reply["error"]["message"] = STORE_MESSAGES[op]
            return reply
        except SQLAlchemyError as exc:
            log.error(tr("lỗi cơ sở dữ liệu khi trả lời %s: %s",
                         "database error answering %s: %s"), op, exc)
            self._unhealthy(f"database: {type(exc).__name__}")
            return error_reply(req_id, "internal", tr("cơ sở dữ liệu của kho hồ sơ không trả lời",
                                                         "the store's database is not answering"))
        except Exception:  # one bad request must not kill a worker
            log.exception(tr("yêu cầu gửi kho hồ sơ bị lỗi", "store request failed"))
            return error_reply(req_id, "internal")

    # ---- health: a database that stops answering makes the unit say so ------------------
    def _unhealthy(self, reason: str) -> None:
        if self.bus.status.get("state") != "alert":
            self._set_status(reason)

    def _healthy(self) -> None:
        if self.bus.status.get("state") == "alert" and not self._recent_faults():
            self._set_status()

    def _fault(self, reason: str) -> None:
        self._faults.append((time.monotonic(), reason[:200]))
        self._set_status()

    def _recent_faults(self) -> list[str]:
        recent = time.monotonic() - FAULT_SHOWN_S
        return [f"worker fault: {r}" for at, r in self._faults if at >= recent]

    def _set_status(self, *problems: str) -> None:
        reasons = [*problems, *self._recent_faults()]
        self.bus.set_status("alert" if reasons else "ready", reasons=reasons,
                            procedures=self.store.catalogue.count,
                            catalogue=self.store.catalogue.version,
                            workers_alive=self.workers_alive, refused=self.refused)

    def _lookup(self, unit: str, req: dict[str, Any]) -> dict[str, Any]:
        scan = _str(req, "scan", 200, required=False)
        if scan is not None:
            parsed = parse_scan(scan)
            code, secret = (parsed.code, parsed.secret) if parsed else ("", "")
        else:
            code = _str(req, "code", 80) or ""
            secret = _str(req, "secret", 20) or ""
        if not self.limiter.allow(unit):
            raise ContractError("rate_limited", "too many lookups from this unit")
        found = self.store.dossiers.lookup(code, secret)
        if found is None:
            self.limiter.failed(unit)
            # one answer for an unknown code and a wrong secret
            raise ContractError("not_found", "no dossier with this code and secret")
        return {"dossier": found}

    def _board(self, unit: str, req: dict[str, Any]) -> dict[str, Any]:
        office = self.office
        if office is None:  # an office took this site over: it has no board of its own
            raise StoreError("not_found", tr("không cơ quan nào hiển thị số liệu ở điểm này",
                                             "no office shows its figures on this site"))
        body = self.store.dossiers.board(self.store.settings.board_ready_limit, office)
        body.pop("v", None)
        return body

    def _search(self, unit: str, req: dict[str, Any]) -> dict[str, Any]:
        q = _str(req, "q", 200) or ""
        sector = _str(req, "sector", 200, required=False)
        limit = _int(req, "limit", 20, 1, 500)
        offset = _int(req, "offset", 0, 0, 1_000_000)
        office = self.office
        only = self.store.offices.procedures(office) if office else None
        found, total = self.store.catalogue.search(q, sector, limit, offset, only=only)
        while len(found) > 1 and len(encode({"procedures": found})) > MAX_REPLY:
            found = found[: len(found) // 2]
        return {"procedures": found, "total": total}

    def _get(self, unit: str, req: dict[str, Any]) -> dict[str, Any]:
        code = _str(req, "code", 40) or ""
        proc = self.store.catalogue.get(code.strip())
        if proc is None:
            raise StoreError("not_found", tr(f"không có thủ tục {code!r}",
                                             f"no procedure {code!r}"))
        return {"procedure": proc}

    def _records(self, unit: str, req: dict[str, Any]) -> dict[str, Any]:
        # the records belong to the office whose site this is (an office given this MQTT
        # site, else the store's own first office: Offices.site_offices)
        batch = parse(RecordsPut, req)
        office = self.store.offices.for_site(self.bus.site, self.bus.site) \
            or self.store.offices.default.code
        n = self.store.records.put(self.bus.site, office, batch)
        return {"stored": n}

    def _catalogue(self, unit: str, req: dict[str, Any]) -> dict[str, Any]:
        offset = _int(req, "offset", 0, 0, 1_000_000)
        limit = _int(req, "limit", 50, 1, 500)
        page = self.store.catalogue.page(offset, limit)
        # keep each reply under the contract's payload limit
        while len(page) > 1 and len(encode({"procedures": page})) > MAX_REPLY:
            page = page[: len(page) // 2]
        cat = self.store.catalogue
        nxt = offset + len(page)
        return {"version": cat.version, "total": cat.count, "offset": offset,
                "next_offset": nxt if nxt < cat.count else None, "procedures": page}
