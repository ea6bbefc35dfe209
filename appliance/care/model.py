"""The health model of the fleet, as pure functions of (what was heard, now).

A unit is ``ready``, ``alert`` (with reasons), ``stopped`` (shut down on purpose), ``lost``
(its last will, silence, or its whole site gone) or ``never_seen`` (the site's hub expects
it and it never spoke). A site is ``lost`` when its bridge goes silent. ``step`` turns a
verdict into the tracked state and says when a person must be told, and when they may be
told that it is over.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from appliance.clock import parse_rfc3339
from appliance.health.facts import HealthFacts

State = Literal["ready", "alert", "lost", "stopped", "never_seen"]
STATES: tuple[State, ...] = ("ready", "alert", "lost", "stopped", "never_seen")
BAD: frozenset[str] = frozenset({"alert", "lost", "stopped", "never_seen"})
SITE_LOST = "site_lost"


@dataclass(frozen=True)
class Thresholds:
    unit_silence_s: float = 65.0  # two missed 30 s heartbeats and a little slack
    site_silence_s: float = 30.0  # the site broker's heartbeat comes every 10 s
    never_seen_after_s: float = 30.0  # after the site is first heard, time to report in
    disk_min_mb: int = 200
    cpu_hot_c: float = 80.0
    clock_max_offset_s: float = 10.0


@dataclass(frozen=True)
class Heard:
    """The last status of one unit and when (the care server's clock) it arrived."""

    status: dict[str, Any]
    at: datetime

    @property
    def facts(self) -> HealthFacts:
        return HealthFacts.read(self.status.get("health"))


@dataclass(frozen=True)
class Verdict:
    state: State
    reasons: tuple[str, ...] = ()
    # a unit behind a lost site: its site's alert covers it, no alert of its own
    covered: bool = False


def fact_reasons(facts: HealthFacts, th: Thresholds) -> list[str]:
    """Reasons read from the health facts: what predicts the unit's death in the field."""
    out: list[str] = []
    if facts.paper == "out":
        out.append("paper_out")
    elif facts.paper == "low":
        out.append("paper_low")
    for name, code in (("printer_connected", "printer_disconnected"),
                       ("keypad_connected", "keypad_disconnected"),
                       ("board_connected", "board_disconnected")):
        if getattr(facts, name) is False:
            out.append(code)
    if facts.disk_free_mb is not None and facts.disk_free_mb < th.disk_min_mb:
        out.append(f"disk_low: {facts.disk_free_mb} MB free")
    if facts.sd_write_errors:
        out.append(f"sd_write_errors: {facts.sd_write_errors}")
    if facts.cpu_temp_c is not None and facts.cpu_temp_c >= th.cpu_hot_c:
        out.append(f"cpu_hot: {facts.cpu_temp_c:.0f} °C")
    if facts.under_voltage:
        out.append("under_voltage")
    if facts.throttled:
        out.append("throttled")
    if facts.clock_offset_s is not None and abs(facts.clock_offset_s) > th.clock_max_offset_s:
        out.append(f"clock_off: {facts.clock_offset_s:+.0f} s")
    return out


def assess_unit(heard: Heard | None, *, site_live: bool, now: datetime,
                th: Thresholds) -> Verdict:
    if not site_live:
        return Verdict("lost", (SITE_LOST,), covered=True)
    if heard is None:
        return Verdict("never_seen", ("never_seen",))
    state = heard.status.get("state")
    if state == "lost":
        return Verdict("lost", ("last_will",))
    if state == "stopped":
        return Verdict("stopped", ("stopped",))
    silent = (now - heard.at).total_seconds()
    if silent > th.unit_silence_s:
        return Verdict("lost", (f"silent: {int(silent)} s",))
    reasons = [str(r) for r in heard.status.get("reasons") or [] if str(r)]
    for r in fact_reasons(heard.facts, th):
        if reason_code(r) not in {reason_code(x) for x in reasons}:
            reasons.append(r)
    if state not in ("ready", "alert"):
        reasons.insert(0, f"unknown_state: {state}")
    return Verdict("alert" if reasons else "ready", tuple(reasons))


def site_live(last_heard: datetime | None, bridge_up: bool | None, now: datetime,
              th: Thresholds) -> bool:
    """A site is live while its broker's heartbeat (or anything else) keeps coming over the
    bridge and the bridge has not said it went down."""
    if last_heard is None or bridge_up is False:
        return False
    return (now - last_heard).total_seconds() <= th.site_silence_s


def reason_code(reason: str) -> str:
    """``disk_low: 45 MB free`` → ``disk_low``: alerts key on the code, not the numbers."""
    return reason.split(":", 1)[0].strip()


@dataclass(frozen=True)
class Track:
    """What the care server holds per unit (or per site, unit ``None``)."""

    state: State
    reasons: tuple[str, ...]
    since: datetime
    # what a person was last told: (state, reason codes), None when all is well again
    told: tuple[str, frozenset[str]] | None = None
    covered: bool = False


@dataclass(frozen=True)
class Notice:
    kind: Literal["alert", "recovery"]
    state: State
    reasons: tuple[str, ...]
    since: datetime
    previous: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def step(track: Track | None, verdict: Verdict, now: datetime, *,
         hold_s: float = 0.0) -> tuple[Track, Notice | None]:
    """The next tracked state and, if due, the notice to send.

    An alert goes out when a bad state (or a new reason) has lasted ``hold_s`` — used to
    give an expected unit time to report in; a recovery only after an alert went out.
    A unit covered by its site's alert is never alerted on its own.
    """
    if track is None or track.state != verdict.state:
        told = track.told if track else None
        track = Track(verdict.state, verdict.reasons, now, told, verdict.covered)
    elif track.reasons != verdict.reasons or track.covered != verdict.covered:
        track = replace(track, reasons=verdict.reasons, covered=verdict.covered)
    codes = frozenset(reason_code(r) for r in track.reasons)
    if track.state == "ready":
        if track.told is not None:
            return replace(track, told=None), Notice("recovery", "ready", (), track.since,
                                                     previous=track.told[0])
        return track, None
    if track.covered:
        return track, None
    told = track.told
    # a new reason is news only for a unit that still serves (``alert``): a unit known to be
    # lost is not lost again because its will came after its silence
    new = told is None or told[0] != track.state or (
        track.state == "alert" and not codes <= told[1])
    if new and (now - track.since).total_seconds() >= hold_s:
        return (replace(track, told=(track.state, codes)),
                Notice("alert", track.state, track.reasons, track.since,
                       previous=told[0] if told else None))
    if told is not None and told[0] == track.state and codes < told[1]:
        # a reason went away but others remain: remember the smaller set, say nothing
        return replace(track, told=(track.state, codes)), None
    return track, None


def status_time(status: dict[str, Any]) -> datetime | None:
    at = status.get("at")
    if not isinstance(at, str):
        return None
    try:
        return parse_rfc3339(at)
    except ValueError:
        return None


def availability(changes: list[tuple[datetime, str]], start: datetime,
                 end: datetime) -> float | None:
    """Share of [start, end) spent up (``ready`` or ``alert``), from the state changes
    (time, state) sorted by time; time before the first known state does not count."""
    up = known = 0.0
    prev: tuple[datetime, str] | None = None
    for when, state in [*changes, (end, "")]:
        if prev is not None:
            a, b = max(prev[0], start), min(when, end)
            if b > a:
                span = (b - a).total_seconds()
                known += span
                if prev[1] in ("ready", "alert"):
                    up += span
        if when >= end:
            break
        prev = (when, state)
    return up / known if known > 0 else None
