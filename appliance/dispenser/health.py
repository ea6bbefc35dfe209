"""The dispenser's health: one place that turns what happened into the retained status and
the status lights, so both always say the same thing.

State is "alert" whenever there is a reason a person should come (paper out or low, printer
unreachable or silent, hub away, numbers that cannot be issued), "ready" otherwise.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from appliance.errors import DeviceError
from appliance.ticketing.printing import paper_fields, printer_fault, printer_reasons

if TYPE_CHECKING:
    from appliance.bus import Bus
    from drivers.gpio import StatusLights
    from drivers.printer import PaperStatus


class Health:
    def __init__(self, bus: Bus | None, lights: StatusLights | None, *, width: int,
                 paper_sensor: bool = True) -> None:
        self.bus = bus
        self.paper_sensor = paper_sensor
        self.lights = lights
        self.width = width
        self._lock = threading.Lock()
        self.fields: dict[str, Any] = {
            "paper": "unknown", "printer": "unknown", "hub": "unknown", "backlog": 0,
            "pending_voids": 0, "last_print_ms": None, "last_ticket": None, "printed": 0,
            "site_info": False, "printing": False,
        }
        self._faults: set[str] = set()  # cleared by the next good print

    # ---- what happened -----------------------------------------------------------------
    def set(self, **fields: Any) -> None:
        with self._lock:
            changed = any(self.fields.get(k) != v for k, v in fields.items())
            self.fields.update(fields)
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
            self.fields["printed"] = int(self.fields["printed"]) + 1
        self.set(paper=str(paper), printer="ok", last_print_ms=round(seconds * 1000, 1),
                 last_ticket=number)

    def paper_seen(self, paper: PaperStatus) -> None:
        self.set(**paper_fields(paper, self.paper_sensor))

    def set_printing(self, printing: bool) -> None:
        """Only the light: a status message per job would cost the press its latency."""
        with self._lock:
            self.fields["printing"] = printing
        self._show_lights()

    # ---- what to show ------------------------------------------------------------------
    def reasons(self) -> list[str]:
        f = self.fields
        out = printer_reasons(f)
        if f["hub"] == "offline":
            out.append("hub_offline")
        if not f["site_info"]:
            out.append("no_site_info")
        out.extend(sorted(self._faults - set(out)))
        return out

    def _show_lights(self) -> None:
        if self.lights is None:
            return
        with self._lock:
            reasons = self.reasons()
            fields = dict(self.fields)
        printer_fault = any(r.startswith("printer_") or r == "paper_out" for r in reasons)
        other_fault = bool(set(reasons) - {"hub_offline", "paper_low"})
        self.lights.show({
            "ready": "on" if not reasons else "off",
            "printing": "on" if fields["printing"] else "off",
            "paper_low": "on" if fields["paper"] == "low" else "off",
            "fault": "blink" if printer_fault else ("on" if other_fault else "off"),
            "offline": "on" if fields["hub"] == "offline" else "off",
        })

    def publish(self) -> None:
        self._show_lights()
        with self._lock:
            reasons = self.reasons()
            fields = dict(self.fields)
        state = "alert" if reasons else "ready"
        if self.bus is not None:
            fields.pop("printing")
            self.bus.set_status(state, reasons=reasons, **fields)

    @property
    def state(self) -> str:
        with self._lock:
            return "alert" if self.reasons() else "ready"
