"""Reading the retained messages the board shows as they are (site info, dossier board).

Every field a message must carry is checked before any of it is believed: a broken
message changes nothing on the screen.
"""

from __future__ import annotations

from typing import Any

from appliance.board.view import DossierBoard, Figures, ReadyDossier
from appliance.clock import parse_rfc3339


def require(obj: dict[str, Any], what: str, **types: type) -> None:
    """Raise ValueError unless each named field is there with its type."""
    for key, kind in types.items():
        if not isinstance(obj.get(key), kind) or isinstance(obj.get(key), bool):
            raise ValueError(f"{what} needs {key!r} as {kind.__name__}")


def parse_site_info(obj: dict[str, Any]) -> tuple[
        str, str | None, dict[str, tuple[str, str | None]], dict[str, str]]:
    """(office name, English name, service id → (name, name_en), counter id → name)."""
    require(obj, "site/info", office_name=str, services=list, counters=list)
    names = {str(s["id"]): (str(s["name"]), s.get("name_en")) for s in obj["services"]}
    counters = {str(c["id"]): str(c.get("name") or f"Quầy {c['id']}")
                for c in obj["counters"]}
    return str(obj["office_name"]), obj.get("office_name_en"), names, counters


def _figures(d: dict[str, Any]) -> Figures:
    return Figures(**{k: int(d.get(k) or 0) for k in Figures.__dataclass_fields__})


def parse_store_board(obj: dict[str, Any]) -> DossierBoard:
    """The store's retained ``store/board``: dossiers ready for pickup, today's and this
    month's figures (missing figures count as 0)."""
    require(obj, "store/board", ready=list, today=dict, month=dict)
    ready = tuple(
        ReadyDossier(str(r["code"]), str(r.get("applicant") or ""),
                     str(r.get("procedure") or ""),
                     None if r.get("counter") is None else str(r["counter"]))
        for r in obj["ready"]
    )
    at = obj.get("at")
    return DossierBoard(ready, _figures(obj["today"]), _figures(obj["month"]),
                        parse_rfc3339(at) if at else None)
