"""Pure decisions of the counter unit (functions of state and time; tested with tables)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from appliance.errors import MotcuaError
from appliance.i18n import tr

# What a text board flashes for each outcome (at most 4 characters, ASCII).
NOTICES: dict[str, str] = {
    "empty": "----",          # next: nobody waiting
    "hub_offline": "OFF",
    "counter_closed": "CLO",
    "nothing_serving": "----",
    "busy": "BUSY",
    "not_found": "NO",
    "wrong_service": "SVC",
    "ambiguous": "SVC?",
    "forbidden": "DENY",
    "conflict": "ERR",
    "nothing_typed": "ERR",
    "too_long": "ERR",
    "already_rated": "ERR",
}
DEFAULT_DIGITS = 3
NUMBER = re.compile(r"^([A-Z]{1,2})?([0-9]{1,4})$")


class LocalError(MotcuaError):
    """A key press the counter can refuse by itself; ``code`` picks the notice."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def notice_for(code: str) -> str:
    return NOTICES.get(code, "ERR")


def counter_services(site_info: dict[str, Any] | None, counter: str) -> list[str]:
    for c in (site_info or {}).get("counters", []):
        if c.get("id") == counter:
            return list(c.get("services", []))
    return []


def _service(site_info: dict[str, Any] | None, sid: str) -> dict[str, Any]:
    for s in (site_info or {}).get("services", []):
        if s.get("id") == sid or s.get("letter") == sid:
            return dict(s)
    return {"id": sid, "letter": sid, "digits": DEFAULT_DIGITS}


def full_number(typed: str, *, counter: str, site_info: dict[str, Any] | None,
                queue_state: dict[str, Any] | None) -> str:
    """The ticket number the officer meant: "A15" → "A015"; "15" → the one service of
    this counter that has 015 waiting (or parked) in the last known queue state."""
    m = NUMBER.match(typed.upper())
    if not m:
        raise LocalError("not_found", tr(f"{typed!r} không phải số phiếu",
                                         f"{typed!r} is not a ticket number"))
    letter, digits = m.group(1), m.group(2)
    if letter:
        svc = _service(site_info, letter)
        return f"{svc.get('letter', letter)}{int(digits):0{svc.get('digits', 3)}d}"
    services = counter_services(site_info, counter)
    candidates = []
    for sid in services:
        svc = _service(site_info, sid)
        candidates.append(f"{svc.get('letter', sid)}{int(digits):0{svc.get('digits', 3)}d}")
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise LocalError("ambiguous", tr("chưa biết quầy này phục vụ lĩnh vực nào: "
                                         "bấm phím lĩnh vực trước khi bấm số",
                                         "this counter's services are not known yet: "
                                         "press the service key before the number"))
    known: set[str] = set()
    for svc_state in ((queue_state or {}).get("services") or {}).values():
        known.update(svc_state.get("waiting") or [])
        known.update(svc_state.get("parked") or [])
    found = [n for n in candidates if n in known]
    if len(found) == 1:
        return found[0]
    raise LocalError("ambiguous", tr(f"{typed} có thể là {' hoặc '.join(candidates)}: "
                                     "bấm phím lĩnh vực trước khi bấm số",
                                     f"{typed} could be {' or '.join(candidates)}: "
                                     "press the service key before the number"))


def rating_target(last_finished: dict[str, Any] | None, now: datetime,
                  window_s: float) -> str | None:
    """The ticket a rating key press belongs to: the one finished at this counter within
    the last ``window_s`` seconds, else none (a late press is ignored)."""
    if not last_finished:
        return None
    try:
        at = datetime.fromisoformat(last_finished["at"])
    except (KeyError, TypeError, ValueError):
        return None
    age = (now - at).total_seconds()
    if 0 <= age <= window_s:
        return str(last_finished["number"])
    return None


def status_state(*, keypad: bool | None, board_ok: bool | None, board_answers: bool,
                 hub_reachable: bool | None, events_backlog: int, backlog: int,
                 rating_keys: bool | None = None) -> tuple[str, list[str]]:
    """ready/alert and why, from the unit's parts (None = not known yet: no alert)."""
    reasons = []
    if keypad is False:
        reasons.append("keypad_missing")
    if rating_keys is False:
        reasons.append("rating_keys_missing")
    if board_ok is False:
        reasons.append("board_fault" if board_answers else "board_port_error")
    if hub_reachable is False:
        reasons.append("hub_unreachable")
    if events_backlog:
        reasons.append("offline_backlog")
    elif backlog:
        reasons.append("ratings_pending")
    return ("alert" if reasons else "ready"), reasons
