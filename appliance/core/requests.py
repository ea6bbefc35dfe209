"""Request bodies of the hub's ops, validated strictly; a bad field names itself."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from appliance.errors import ContractError

Number = Annotated[str, Field(pattern=r"^[A-Z]{1,2}[0-9]{2,4}$")]
CounterId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]
Officer = Annotated[str, Field(min_length=1, max_length=40)]


class _Req(BaseModel):
    # "v", "id" and "op" are checked before; other unknown keys are refused to catch typos.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    v: int
    id: str
    op: str


class TicketIssue(_Req):
    service: CounterId
    priority: bool = False
    category: str | None = Field(default=None, max_length=80)


class TicketVoid(_Req):
    number: Number
    reason: str = Field(default="", max_length=200)


class TicketImport(_Req):
    number: Number
    service: CounterId
    priority: bool = False
    issued_at: str


class TicketStatus(_Req):
    number: Number


class CounterOp(_Req):
    counter: CounterId
    officer: Officer | None = None


class CounterTransfer(CounterOp):
    to_service: CounterId


class CounterNumber(CounterOp):
    number: Number


class CounterResume(CounterOp):
    number: Number | None = None


class SyncEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    action: Literal["call", "finish", "no_show"]
    number: Number
    at: str


class CounterSync(CounterOp):
    events: list[SyncEvent] = Field(max_length=500)


class CounterStatus(CounterOp):
    pass


class RatingSubmit(CounterOp):
    number: Number
    rating: Literal["very_satisfied", "satisfied", "unsatisfied"]


MODELS: dict[str, type[_Req]] = {
    "ticket.issue": TicketIssue,
    "ticket.void": TicketVoid,
    "ticket.import": TicketImport,
    "ticket.status": TicketStatus,
    "counter.next": CounterOp,
    "counter.recall": CounterOp,
    "counter.no_show": CounterOp,
    "counter.finish": CounterOp,
    "counter.transfer": CounterTransfer,
    "counter.park": CounterOp,
    "counter.resume": CounterResume,
    "counter.call": CounterNumber,
    "counter.open": CounterOp,
    "counter.close": CounterOp,
    "counter.sync": CounterSync,
    "rating.submit": RatingSubmit,
    "counter.status": CounterStatus,
}


Req = _Req  # the base of every request model, for type hints outside this module


def parse_request(body: dict[str, Any]) -> _Req:
    """The typed request, or ContractError(bad_request|unknown_op) naming the field."""
    req_id = body.get("id")
    if not isinstance(req_id, str) or not 1 <= len(req_id) <= 100:
        raise ContractError("bad_request", "id: a string of 1 to 100 characters is required")
    op = body.get("op")
    model = MODELS.get(op) if isinstance(op, str) else None
    if model is None:
        raise ContractError("unknown_op", f"op: unknown operation {op!r}")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(body)"
        msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        raise ContractError("bad_request", f"{where}: {msg}") from None
