"""The part of a ticket-issuing unit's health that the dispenser and the lookup terminal
share: the printer's fields (paper, printer, last print), the hub's reachability, faults a
good print clears, and the reasons they give. Each role says how its health is shown
(``publish``: the dispenser's status and lights, the terminal's share of its status)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from appliance.ticketing.printing import paper_fields, printer_fault, printer_reasons

if TYPE_CHECKING:
    from appliance.errors import DeviceError
    from drivers.printer import PaperStatus


class PrinterHealth:
    # fields the role is told of but does not show
    IGNORED: frozenset[str] = frozenset()

    def __init__(self, *, paper_sensor: bool, **fields: Any) -> None:
        """``fields``: the role's own fields besides the shared ones, with their start."""
        self.paper_sensor = paper_sensor
        self._lock = threading.Lock()
        self._fields: dict[str, Any] = {
            "paper": "unknown", "printer": "unknown", "hub": "unknown", "pending_voids": 0,
            "printed": 0, "last_ticket": None, "site_info": False, **fields}
        self._faults: set[str] = set()  # cleared by the next good print

    # ---- what happened -----------------------------------------------------------------
    @property
    def fields(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._fields)

    def set(self, **fields: Any) -> None:
        with self._lock:
            fields = {k: v for k, v in fields.items() if k not in self.IGNORED}
            changed = any(self._fields.get(k) != v for k, v in fields.items())
            self._fields.update(fields)
        if changed:
            self.publish()

    def fault(self, reason: str) -> None:
        with self._lock:
            self._faults.add(reason)
        self.publish()

    def printer_failed(self, exc: DeviceError) -> str:
        """Record a failed job or query; returns the reason code sent with ticket.void."""
        reason, fields = printer_fault(exc)
        self.set(**fields)
        return reason

    def printed(self, paper: PaperStatus, seconds: float, number: str) -> None:
        with self._lock:
            self._faults.clear()
            self._fields["printed"] = int(self._fields["printed"]) + 1
        self.set(paper=str(paper), printer="ok", last_print_ms=round(seconds * 1000, 1),
                 last_ticket=number)

    def paper_seen(self, paper: PaperStatus) -> None:
        self.set(**paper_fields(paper, self.paper_sensor))

    # ---- what to show ------------------------------------------------------------------
    def reasons(self) -> list[str]:
        return self.snapshot()[0]

    def snapshot(self) -> tuple[list[str], dict[str, Any]]:
        """The reasons and the fields, read together."""
        with self._lock:
            fields = dict(self._fields)
            faults = set(self._faults)
        out = printer_reasons(fields)
        if fields["hub"] == "offline":
            out.append("hub_offline")
        if not fields["site_info"]:
            out.append("no_site_info")
        return out + sorted(faults - set(out)), fields

    @property
    def state(self) -> str:
        return "alert" if self.reasons() else "ready"

    def publish(self) -> None:
        raise NotImplementedError
