"""The ``health`` block of a unit's status (docs/protocol.md, "Health facts").

Every field is optional: ``None`` means "not known / not applicable", never "fine". The
block is additive: fields may be added later, never renamed, so readers ignore unknown keys.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

PaperState = Literal["ok", "low", "out", "unknown"]


class HealthFacts(BaseModel):
    # readers tolerate fields added by newer units (the contract only ever adds)
    model_config = ConfigDict(extra="ignore", frozen=True)

    version: str | None = None
    uptime_s: float | None = None
    paper: PaperState | None = None
    printer_connected: bool | None = None
    keypad_connected: bool | None = None
    board_connected: bool | None = None
    disk_free_mb: int | None = None
    disk_total_mb: int | None = None
    sd_write_errors: int | None = None
    cpu_temp_c: float | None = None
    under_voltage: bool | None = None
    under_voltage_seen: bool | None = None
    throttled: bool | None = None
    throttled_seen: bool | None = None
    clock_offset_s: float | None = None

    @classmethod
    def read(cls, raw: Any) -> HealthFacts:
        """Parse a status's ``health`` block; anything unreadable gives an empty block (all
        unknown) rather than an exception: a bad field must not hide the rest of the fleet."""
        if not isinstance(raw, dict):
            return cls()
        try:
            return cls.model_validate(raw)
        except ValidationError:
            good = {}
            for key, value in raw.items():
                if key in cls.model_fields:
                    try:
                        cls.model_validate({key: value})
                    except ValidationError:
                        continue
                    good[key] = value
            return cls.model_validate(good)


def device_facts(role: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The device facts a role already reports in its own status fields (docs/protocol.md),
    in the health block's words, so the roles need no change to publish them."""
    out: dict[str, Any] = {}
    if role == "dispenser":
        paper = fields.get("paper")
        out["paper"] = paper if paper in ("ok", "low", "out", "unknown") else "unknown"
        printer = fields.get("printer")
        if printer in ("ok",):
            out["printer_connected"] = True
        elif printer in ("unreachable", "not_answering", "write_failed"):
            out["printer_connected"] = False
    elif role == "counter":
        keypad = fields.get("keypad_present")
        if isinstance(keypad, bool):
            out["keypad_connected"] = keypad
        answering = fields.get("board_answering")
        written = fields.get("board_written")
        if isinstance(answering, bool):
            out["board_connected"] = answering
        elif isinstance(written, bool):
            out["board_connected"] = written
    return out
