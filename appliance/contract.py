"""The MQTT wire contract (docs/protocol.md): topic names, payload decoding, error codes,
and typed models of every payload the hub and store publish.

Decoding is where input meets the code, so it is bounded in every dimension a message can
grow in: bytes (``MAX_PAYLOAD``), nesting (``MAX_DEPTH``), request id length
(``MAX_ID``), and text that cannot be written back out (lone UTF-16 surrogates from
``"\\udfff"`` escapes, which Python's JSON reader lets through and its UTF-8 writer then
refuses — the exception that used to kill the hub's worker).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from appliance.errors import ContractError

VERSION = 1
ROOT = "motcua/v1"
MAX_PAYLOAD = 64 * 1024
MAX_DEPTH = 16  # the deepest real request (counter.sync) nests 3 levels
MAX_ID = 100
_IDENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")  # unit ids, as in the config files
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
M = TypeVar("M", bound="BaseModel")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class ErrorCode(BaseModel):
    """One wire error code: the sentence a person may be shown, and whether sending the
    same request again (same id) may succeed later. Units retry only retryable codes."""

    model_config = ConfigDict(frozen=True)
    code: str
    message: str
    retryable: bool


_CODES: list[tuple[str, str, bool]] = [
    ("malformed", "Yêu cầu không đọc được (không phải JSON hợp lệ).", False),
    ("too_large", "Yêu cầu quá lớn.", False),
    # a newer unit talking to an older hub: the hub's upgrade makes a retry succeed
    ("unsupported_version", "Phiên bản giao thức không được hỗ trợ.", True),
    ("bad_request", "Yêu cầu thiếu hoặc sai thông tin.", False),
    ("unknown_op", "Thao tác không được hỗ trợ.", True),
    ("unknown_unit", "Thiết bị chưa được khai báo tại điểm này.", False),
    ("forbidden", "Thiết bị không được phép thực hiện thao tác này.", False),
    ("unknown_service", "Không có dịch vụ này.", False),
    ("unknown_counter", "Không có quầy này.", False),
    ("service_full", "Đã hết số thứ tự của dịch vụ trong ngày.", False),
    ("office_closed", "Ngoài giờ làm việc.", False),
    ("nothing_serving", "Quầy chưa gọi số nào.", False),
    ("busy", "Quầy đang phục vụ một số khác.", False),
    ("not_found", "Không tìm thấy số thứ tự này.", False),
    ("wrong_service", "Quầy không phục vụ dịch vụ của số này.", False),
    ("conflict", "Trạng thái đã thay đổi, không thể thực hiện.", False),
    ("already_rated", "Lượt phục vụ này đã được đánh giá.", False),
    ("rate_limited", "Thao tác quá nhanh, vui lòng thử lại sau.", True),
    # nothing was done (the change did not reach the disk): the same id may be sent again
    ("internal", "Lỗi hệ thống, vui lòng thử lại.", True),
]
ERRORS: dict[str, ErrorCode] = {c: ErrorCode(code=c, message=m, retryable=r)
                                for c, m, r in _CODES}
# Wire error codes and the sentence a citizen or officer may be shown for each.
ERROR_MESSAGES: dict[str, str] = {c: e.message for c, e in ERRORS.items()}
RETRYABLE: frozenset[str] = frozenset(c for c, e in ERRORS.items() if e.retryable)


def retryable(code: str | None) -> bool:
    """Whether a reply with this error code may be retried with the same id (an unknown
    code from a newer peer is not: nothing says acting again is safe)."""
    return code in RETRYABLE


class Topics:
    """Every topic of one site, in one place."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.base = f"{ROOT}/{site}"

    def req(self, unit: str, target: str = "hub") -> str:
        return f"{self.base}/unit/{unit}/req/{target}"

    def req_filter(self, target: str = "hub") -> str:
        return f"{self.base}/unit/+/req/{target}"

    def res(self, unit: str) -> str:
        return f"{self.base}/unit/{unit}/res"

    def status(self, unit: str) -> str:
        return f"{self.base}/unit/{unit}/status"

    def status_filter(self) -> str:
        return f"{self.base}/unit/+/status"

    @property
    def queue_state(self) -> str:
        return f"{self.base}/queue/state"

    @property
    def queue_events(self) -> str:
        return f"{self.base}/queue/events"

    def counter_state(self, counter: str) -> str:
        return f"{self.base}/counter/{counter}/state"

    def counter_state_filter(self) -> str:
        return f"{self.base}/counter/+/state"

    @property
    def site_info(self) -> str:
        return f"{self.base}/site/info"

    @property
    def notice(self) -> str:
        return f"{self.base}/board/notice"

    @property
    def site_units(self) -> str:
        """The hub's inventory of the units it expects (retained; for the care server)."""
        return f"{self.base}/site/units"

    def unit_of(self, topic: str) -> tuple[str, str] | None:
        """(unit, target) of a request topic, or None if the topic is not one (including a
        unit id no config file could have declared)."""
        parts = topic.split("/")
        prefix = self.base.split("/")
        if len(parts) != len(prefix) + 4 or parts[: len(prefix)] != prefix:
            return None
        if parts[len(prefix)] != "unit" or parts[len(prefix) + 2] != "req":
            return None
        unit = parts[len(prefix) + 1]
        if not _IDENT.fullmatch(unit):
            return None
        return unit, parts[len(prefix) + 3]

    def reply_topic_for(self, unit: str, response_topic: str | None) -> str:
        """The topic to answer ``unit`` on: its own ``…/unit/<unit>/res``, and only that.

        A requester names its ResponseTopic and the broker never checks it, so trusting it
        would let any unit make the hub publish on ``queue/state`` or on another unit's
        replies. Raises ContractError (``forbidden``) for any other topic.
        """
        own = self.res(unit)
        if response_topic != own:
            raise ContractError("forbidden", f"ResponseTopic {response_topic!r:.120} is not "
                                             f"{own}")
        return own


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _depth(payload: bytes) -> int:
    """Deepest nesting of ``payload``'s arrays and objects (brackets inside strings do not
    count), computed without recursion."""
    brackets = _STRINGS.sub(b"", payload).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for b in brackets:
        if b in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _has_surrogate(obj: Any) -> bool:
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def decode(payload: bytes, *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Parse a payload strictly; raise ContractError with the wire code on any fault.

    What comes out can be stored, compared and written back out: no nesting deeper than
    ``max_depth``, no lone surrogate anywhere (keys included).
    """
    if len(payload) > MAX_PAYLOAD:
        raise ContractError("too_large", f"payload of {len(payload)} bytes > {MAX_PAYLOAD}")
    # a payload with fewer brackets than the limit cannot nest deeper: skip the scan
    if payload.count(b"[") + payload.count(b"{") > max_depth and _depth(payload) > max_depth:
        raise ContractError("malformed", f"nested deeper than {max_depth} levels")
    try:
        obj = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ContractError("malformed", f"not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ContractError("malformed", f"not JSON: {exc.msg} at {exc.pos}") from None
    except RecursionError:  # cannot happen after the depth check; kept as a last guard
        raise ContractError("malformed", "nested too deep") from None
    if not isinstance(obj, dict):
        raise ContractError("malformed", "payload must be a JSON object")
    # UTF-8 bytes cannot hold a surrogate; only a \\uXXXX escape can make one
    if (b"\\ud" in payload or b"\\uD" in payload) and _has_surrogate(obj):
        raise ContractError("malformed", "text holds a lone UTF-16 surrogate (\\ud800-\\udfff)")
    if obj.get("v") != VERSION:
        raise ContractError("unsupported_version", f"expected \"v\": {VERSION}")
    return obj


def request_id(body: dict[str, Any]) -> str:
    """The request's id, checked before anything is stored or remembered under it."""
    rid = body.get("id")
    if not isinstance(rid, str) or not 1 <= len(rid) <= MAX_ID:
        raise ContractError("bad_request", f"id: a string of 1 to {MAX_ID} characters")
    return rid


def ok_reply(req_id: str, **fields: Any) -> dict[str, Any]:
    return {"v": VERSION, "id": req_id, "ok": True, **fields}


def error_reply(req_id: str | None, code: str, detail: str | None = None) -> dict[str, Any]:
    known = ERRORS.get(code, ERRORS["internal"])
    err: dict[str, Any] = {"code": code, "message": known.message,
                           "retryable": known.retryable}
    if detail:
        err["detail"] = detail
    return {"v": VERSION, "id": req_id, "ok": False, "error": err}


# ---- typed payloads: what the hub and the store publish, read the same way by all ----------
class Payload(BaseModel):
    """Base of the published payloads. Later versions may add fields (kept, not refused);
    a missing or mistyped field the model names is a ContractError for the reader."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
    v: Literal[1] = 1


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
    code: str
    message: str = ""
    detail: str | None = None
    retryable: bool | None = None  # absent from hubs older than this field

    @property
    def can_retry(self) -> bool:
        """The flag when present, else the contract's table for the code."""
        return self.retryable if self.retryable is not None else retryable(self.code)


class Reply(Payload):
    id: str | None
    ok: bool
    error: ErrorBody | None = None

    @property
    def code(self) -> str | None:
        return self.error.code if self.error else None


UnitState = Literal["starting", "ready", "alert", "stopped", "lost"]


class UnitStatus(Payload):
    """``unit/<unit>/status``. ``starting``: connected, not yet able to serve (not down,
    not healthy); ``alert``: serving with a fault named in ``reasons``; ``lost``: the
    broker published the will; ``stopped``: shut down on purpose."""

    unit: str | None = None
    role: str | None = None
    state: UnitState
    reasons: list[str] = Field(default_factory=list)
    boot: str | None = None
    session: int | None = None
    at: str | None = None

    @property
    def down(self) -> bool:
        """Nobody is there to answer: do not wait for it."""
        return self.state in ("lost", "stopped")

    @property
    def serving(self) -> bool:
        """Up and answering (perhaps with a fault named in ``reasons``)."""
        return self.state in ("ready", "alert")


class ServiceQueue(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
    name: str = ""
    name_en: str | None = None
    waiting: list[str] = Field(default_factory=list)
    priority_waiting: list[str] = Field(default_factory=list)
    last_issued: str | None = None
    est_wait_s: int | None = None


class CounterView(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
    id: str | None = None
    name: str = ""
    open: bool = False
    serving: str | None = None
    service: str | None = None
    since: str | None = None
    officer: str | None = None


class QueueState(Payload):
    """``queue/state`` (retained)."""

    seq: int
    day: str | None = None
    at: str | None = None
    services: dict[str, ServiceQueue]
    counters: dict[str, CounterView]


class QueueEvent(Payload):
    """One ``queue/events`` message (the ticket is kept as sent: its fields vary by type)."""

    seq: int
    type: str
    at: str | None = None
    ticket: dict[str, Any] | None = None
    counter: str | None = None
    counter_name: str | None = None
    from_service: str | None = None
    to_service: str | None = None


class CounterState(CounterView, Payload):
    """``counter/<c>/state`` (retained)."""

    counter: str
    seq: int


class SiteService(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
    id: str
    name: str
    name_en: str | None = None
    letter: str | None = None  # the hub always sends it; a board does not need it
    digits: int = 3


class SiteCounter(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
    id: str
    name: str
    services: list[str] = Field(default_factory=list)


class SiteInfo(Payload):
    """``site/info`` (retained)."""

    office_name: str
    office_name_en: str | None = None
    timezone: str | None = None
    lookup_url: str | None = None
    services: list[SiteService]
    counters: list[SiteCounter]
    priority: dict[str, Any] = Field(default_factory=dict)
    hours: dict[str, Any] = Field(default_factory=dict)
    offline_bands: dict[str, dict[str, list[int]]] = Field(default_factory=dict)


class StoreCatalogue(Payload):
    """``store/catalogue`` (retained)."""

    version: str
    count: int
    at: str | None = None


class StoreBoard(Payload):
    """``store/board`` (retained)."""

    at: str | None = None
    ready: list[dict[str, Any]] = Field(default_factory=list)
    today: dict[str, int] = Field(default_factory=dict)
    month: dict[str, int] = Field(default_factory=dict)


class TicketRecord(BaseModel):
    """One ticket of an office day as the hub last stored it (``records.put``)."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
    rev: int  # the hub's outbox position: a higher rev is a later version of the ticket
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    number: str = Field(min_length=1, max_length=16)
    service: str = Field(min_length=1, max_length=40)
    priority: bool = False
    state: str = Field(min_length=1, max_length=16)
    origin: str = Field(default="", max_length=16)
    unit: str = Field(default="", max_length=40)
    issued_at: str
    first_called_at: str | None = None
    called_at: str | None = None
    finished_at: str | None = None
    counter: str | None = Field(default=None, max_length=16)
    officer: str | None = Field(default=None, max_length=40)
    calls: int = 0
    rating: str | None = Field(default=None, max_length=20)
    # added: a priority ticket's category as ticket.issue gave it (absent: none recorded)
    category: str | None = Field(default=None, max_length=80)


class CounterRecord(BaseModel):
    """A counter opening or closing, or the day's turnover (``records.put``): the spans a
    counter was open, for its idle time."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
    seq: int
    type: Literal["counter.opened", "counter.closed", "day.reset"]
    at: str
    day: str = Field(default="", max_length=10)
    counter: str | None = Field(default=None, max_length=16)
    officer: str | None = Field(default=None, max_length=40)


class RecordsPut(Payload):
    """``records.put``, hub → store (``unit/<hub>/req/store``): day records from the hub's
    outbox; the store answers ``stored`` once they are committed, and only then does the
    hub forget them. Sending the same records again changes nothing."""

    id: str
    op: Literal["records.put"]
    tickets: list[TicketRecord] = Field(default_factory=list, max_length=500)
    counter_events: list[CounterRecord] = Field(default_factory=list, max_length=500)


def parse(model: type[M], payload: bytes | dict[str, Any]) -> M:
    """A payload (bytes off the wire, or an already decoded object) as ``model``;
    ContractError (``bad_request``, naming the field) when it does not fit."""
    obj = decode(payload) if isinstance(payload, bytes) else payload
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise ContractError("bad_request", f"{model.__name__}.{where}: {first['msg']}") from None
