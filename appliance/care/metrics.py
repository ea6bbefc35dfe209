"""Prometheus ``/metrics``: the dashboard's facts for provinces that run Grafana, through
the official client library's exposition format."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from appliance.care.fleet import Fleet
from appliance.care.model import STATES

_FACTS = (
    ("disk_free_mb", "motcua_unit_disk_free_bytes", "Free space on the data partition", 2**20),
    ("cpu_temp_c", "motcua_unit_cpu_temperature_celsius", "CPU temperature", 1),
    ("sd_write_errors", "motcua_unit_sd_write_errors", "ext4 errors counted on the SD card", 1),
    ("clock_offset_s", "motcua_unit_clock_offset_seconds", "Unit clock minus hub clock", 1),
    ("uptime_s", "motcua_unit_uptime_seconds", "Seconds since the unit's process started", 1),
)
_FLAGS = (
    ("under_voltage", "motcua_unit_under_voltage", "1 while the supply is too low"),
    ("throttled", "motcua_unit_throttled", "1 while the CPU is throttled"),
    ("printer_connected", "motcua_unit_printer_connected", "1 when the printer answers"),
    ("keypad_connected", "motcua_unit_keypad_connected", "1 when the keypad is plugged"),
    ("board_connected", "motcua_unit_board_connected", "1 when the LED board answers"),
)


class FleetCollector:
    def __init__(self, fleet: Fleet, pending: int | None = None) -> None:
        self.fleet = fleet
        self.pending = pending

    def collect(self) -> Iterator[Metric]:
        sites = self.fleet.sites()
        up = GaugeMetricFamily("motcua_site_up", "1 while the site's bridge is heard",
                               labels=["site"])
        state = GaugeMetricFamily("motcua_unit_state", "1 for the unit's current state",
                                  labels=["site", "unit", "role", "state"])
        paper = GaugeMetricFamily("motcua_unit_paper", "1 for the printer's paper state",
                                  labels=["site", "unit", "paper"])
        facts = {k: GaugeMetricFamily(n, h, labels=["site", "unit"]) for k, n, h, _ in _FACTS}
        flags = {k: GaugeMetricFamily(n, h, labels=["site", "unit"]) for k, n, h in _FLAGS}
        for s in sites:
            up.add_metric([s.site], 0 if s.state in ("lost", "never_seen") else 1)
            for u in s.units:
                for st in STATES:
                    state.add_metric([s.site, u.unit, u.role, st], 1 if u.state == st else 0)
                f = u.facts
                if f.paper is not None:
                    for p in ("ok", "low", "out", "unknown"):
                        paper.add_metric([s.site, u.unit, p], 1 if f.paper == p else 0)
                for key, _, _, scale in _FACTS:
                    value = getattr(f, key)
                    if value is not None:
                        facts[key].add_metric([s.site, u.unit], float(value) * scale)
                for key in flags:
                    value = getattr(f, key)
                    if value is not None:
                        flags[key].add_metric([s.site, u.unit], 1 if value else 0)
        if self.pending is not None:
            yield GaugeMetricFamily("motcua_care_notices_pending", "Alerts and recoveries "
                                    "decided on and not yet through webhook and e-mail",
                                    value=self.pending)
        yield up
        yield state
        yield paper
        yield from facts.values()
        yield from flags.values()


def render(fleet: Fleet, pending: int | None = None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(fleet, pending))
    return generate_latest(registry)
