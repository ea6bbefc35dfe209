"""The dossier stage machine: which moves are allowed and what each does to the clock.

received → processing → (awaiting_supplement: the clock stops → processing) → ready →
returned; refused, stopped and withdrawn end a dossier early. Moving processing →
processing is a hand-over between officers (a row of the processing control sheet, Mẫu 06);
liaison is liên thông: passed to another agency or level, and received back (→ processing).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from appliance.store.calendar import WorkCalendar
from appliance.store.errors import StoreError

Stage = Literal["received", "processing", "awaiting_supplement", "liaison", "ready",
                "returned", "refused", "stopped", "withdrawn"]
STAGES: tuple[Stage, ...] = ("received", "processing", "awaiting_supplement", "liaison",
                             "ready", "returned", "refused", "stopped", "withdrawn")

LABELS: dict[str, str] = {
    "received": "Đã tiếp nhận",
    "processing": "Đang giải quyết",
    "awaiting_supplement": "Chờ bổ sung hồ sơ",
    "liaison": "Liên thông",
    "ready": "Đã có kết quả, chờ trả",
    "returned": "Đã trả kết quả",
    "refused": "Từ chối giải quyết",
    "stopped": "Dừng giải quyết",
    "withdrawn": "Đã rút hồ sơ",
}
LABELS_EN: dict[str, str] = {
    "received": "Received",
    "processing": "Being processed",
    "awaiting_supplement": "Awaiting additional documents",
    "liaison": "Passed to another agency",
    "ready": "Result ready for pickup",
    "returned": "Result returned",
    "refused": "Refused",
    "stopped": "Processing stopped",
    "withdrawn": "Withdrawn",
}

_ENDS = frozenset({"refused", "stopped", "withdrawn"})
ALLOWED: dict[str, frozenset[str]] = {
    "received": frozenset({"processing", "awaiting_supplement", "liaison"}) | _ENDS,
    "processing": frozenset({"processing", "awaiting_supplement", "liaison", "ready"}) | _ENDS,
    "awaiting_supplement": frozenset({"processing"}) | _ENDS,
    "liaison": frozenset({"processing", "ready"}) | _ENDS,
    "ready": frozenset({"returned"}),
    "returned": frozenset(),
    "refused": frozenset(),
    "stopped": frozenset(),
    "withdrawn": frozenset(),
}
TERMINAL = frozenset(s for s, nxt in ALLOWED.items() if not nxt)
OPEN = frozenset({"received", "processing", "awaiting_supplement", "liaison"})


class StageError(StoreError):
    """A move the stage machine refuses."""


@dataclass(frozen=True)
class Progress:
    """The clock-relevant part of a dossier."""

    stage: str
    due_at: datetime
    paused_since: datetime | None = None
    ready_at: datetime | None = None
    finished_at: datetime | None = None


def move(p: Progress, target: str, at: datetime, cal: WorkCalendar) -> Progress:
    """The dossier after moving to ``target`` at ``at``; StageError if not allowed."""
    if target not in ALLOWED:
        raise StageError("bad_request", f"unknown stage {target!r}; one of {', '.join(STAGES)}")
    if target not in ALLOWED[p.stage]:
        allowed = ", ".join(sorted(ALLOWED[p.stage])) or "none (it is closed)"
        raise StageError("conflict", f"Không thể chuyển hồ sơ từ «{LABELS[p.stage]}» sang "
                                     f"«{LABELS[target]}» (cannot move a dossier from "
                                     f"{p.stage} to {target}; allowed: {allowed})")
    due = p.due_at
    paused = p.paused_since
    if p.stage == "awaiting_supplement" and paused is not None:
        due = cal.extend(due, paused, max(at, paused))
        paused = None
    if target == "awaiting_supplement":
        paused = at
    ready_at = at if target == "ready" else p.ready_at
    finished = at if target in TERMINAL else p.finished_at
    return replace(p, stage=target, due_at=due, paused_since=paused, ready_at=ready_at,
                   finished_at=finished)


def completed_at(p: Progress) -> datetime | None:
    """When the result was reached, for early/on time/late (None while open)."""
    if p.stage in ("ready", "returned"):
        return p.ready_at or p.finished_at
    return None
