"""The dispenser's health: one place that turns what happened into the retained status and
the status lights, so both always say the same thing.

State is "alert" whenever there is a reason a person should come (paper out or low, printer
unreachable or silent, hub away, numbers that cannot be issued), "ready" otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.ticketing.health import PrinterHealth

if TYPE_CHECKING:
    from appliance.bus import Bus
    from drivers.gpio import StatusLights


class Health(PrinterHealth):
    def __init__(self, bus: Bus | None, lights: StatusLights | None, *, width: int,
                 paper_sensor: bool = True) -> None:
        super().__init__(paper_sensor=paper_sensor, backlog=0, last_print_ms=None,
                         printing=False)
        self.bus = bus
        self.lights = lights
        self.width = width

    def set_printing(self, printing: bool) -> None:
        """Only the light: a status message per job would cost the press its latency."""
        with self._lock:
            self._fields["printing"] = printing
        self._show_lights()

    # ---- what to show ------------------------------------------------------------------
    def _show_lights(self) -> None:
        if self.lights is None:
            return
        reasons, fields = self.snapshot()
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
        reasons, fields = self.snapshot()
        state = "alert" if reasons else "ready"
        if self.bus is not None:
            fields.pop("printing")
            self.bus.set_status(state, reasons=reasons, **fields)
