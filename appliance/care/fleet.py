"""What the care server knows of every site and unit, fed by the care broker's messages
and judged by the pure model on every tick. Thread-safe: messages arrive on the MQTT
thread, ticks and web pages read from others."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from appliance.care.history import History, Told, ToldChange
from appliance.care.model import (
    STATES,
    Heard,
    Notice,
    Thresholds,
    Track,
    Verdict,
    assess_unit,
    site_live,
    step,
)
from appliance.health.facts import HealthFacts


@dataclass(frozen=True)
class Event:
    """A notice about a unit (``unit`` set) or a whole site (``unit`` None)."""

    site: str
    unit: str | None
    role: str
    notice: Notice


@dataclass(frozen=True)
class UnitView:
    site: str
    unit: str
    role: str
    expected: bool
    state: str
    reasons: tuple[str, ...]
    since: datetime | None
    last_seen: datetime | None
    facts: HealthFacts
    status: dict[str, Any]
    update: dict[str, Any] | None = None  # the unit's last update report


@dataclass(frozen=True)
class SiteView:
    site: str
    name: str
    state: str
    reasons: tuple[str, ...]
    since: datetime | None
    last_heard: datetime | None
    units: list[UnitView]

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = dict.fromkeys(STATES, 0)
        for u in self.units:
            out[u.state] = out.get(u.state, 0) + 1
        return out


@dataclass
class _Site:
    name: str
    last_heard: datetime | None = None
    bridge_up: bool | None = None
    live_since: datetime | None = None  # when the site last came (back) into view
    expected: dict[str, str] = field(default_factory=dict)  # unit -> role
    heard: dict[str, Heard] = field(default_factory=dict)
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    updating_until: dict[str, datetime] = field(default_factory=dict)
    tracks: dict[str, Track] = field(default_factory=dict)
    track: Track | None = None
    # after a restart, a site told of before is left as it was until heard or this passes
    grace_until: datetime | None = None


class Fleet:
    def __init__(self, sites: dict[str, str], th: Thresholds, history: History | None = None,
                 started: datetime | None = None) -> None:
        self.th = th
        self.history = history
        self.started = started
        self._sites: dict[str, _Site] = {sid: _Site(name) for sid, name in sites.items()}
        self._pending: list[Event] = []  # one-off notices (update reports) for the next tick
        # told states changed by evaluate(), saved with the tick's notices (take_told)
        self._told: list[ToldChange] = []
        self._lock = threading.Lock()

    def _site(self, site: str) -> _Site:
        s = self._sites.get(site)
        if s is None:
            s = self._sites[site] = _Site(site)
        return s

    def restore(self, told: list[Told], now: datetime) -> None:
        """What people were told before a restart: a unit or site still in that state is
        not told again, one that got better meanwhile gets its recovery. A site told of
        before is given its silence threshold to be heard again before it counts as lost
        (not as never seen: it was)."""
        with self._lock:
            for site, unit, state, codes, since in told:
                s = self._site(site)
                track = Track(state, (), since, told=(state, codes))  # type: ignore[arg-type]
                if unit is None:
                    s.track = track
                    s.grace_until = now + timedelta(seconds=self.th.site_silence_s)
                else:
                    s.tracks[unit] = track

    def take_told(self) -> list[ToldChange]:
        with self._lock:
            out, self._told = self._told, []
        return out

    # ---- what arrives from the care broker (MQTT thread) -------------------------------
    def heard_from(self, site: str, now: datetime) -> None:
        with self._lock:
            self._site(site).last_heard = now

    def status(self, site: str, unit: str, payload: dict[str, Any], now: datetime) -> None:
        with self._lock:
            s = self._site(site)
            old = s.heard.get(unit)
            if "health" not in payload and old is not None and "health" in old.status:
                # a will or a stop carries no facts: keep the last known ones on show
                payload = {**payload, "health": old.status["health"]}
            s.heard[unit] = Heard(payload, now)
            if payload.get("state") != "lost":  # a will is the broker speaking, not the site
                s.last_heard = now

    def update(self, site: str, unit: str, report: dict[str, Any], now: datetime) -> None:
        """What the unit's updater said of its last release (kept / update_failed / ...);
        a failed or refused release is told once, like any alert."""
        with self._lock:
            s = self._site(site)
            old = s.updates.get(unit)
            s.updates[unit] = dict(report)
            state = report.get("state")
            if state == "switching":
                # a planned restart: its stop is no death, until the deadline has passed
                deadline = report.get("deadline_s")
                wait = float(deadline) if isinstance(deadline, int | float) else 120.0
                s.updating_until[unit] = now + timedelta(seconds=wait + 30)
            elif state in ("kept", "update_failed"):
                # restarted once more (rolled back) or just now: time to come up again
                s.updating_until[unit] = now + timedelta(seconds=30)
            else:
                s.updating_until.pop(unit, None)
            if state in ("update_failed", "update_refused") and old != report:
                reason = f"{state}: {report.get('version')}: {report.get('reason') or '?'}"
                self._pending.append(Event(site, unit, self._role(s, unit),
                                           Notice("alert", "alert", (reason,), now)))

    def forget(self, site: str, unit: str) -> None:
        """An empty retained status: the unit was removed on purpose."""
        with self._lock:
            self._site(site).heard.pop(unit, None)

    def inventory(self, site: str, units: dict[str, str], now: datetime) -> None:
        with self._lock:
            s = self._site(site)
            s.expected = dict(units)
            s.last_heard = now

    def bridge(self, site: str, up: bool, now: datetime) -> None:
        with self._lock:
            s = self._site(site)
            s.bridge_up = up
            if up:
                s.last_heard = now

    # ---- judging (tick thread) ---------------------------------------------------------
    def evaluate(self, now: datetime) -> list[Event]:
        events: list[Event] = []
        with self._lock:
            events, self._pending = self._pending, []
            for sid, s in self._sites.items():
                if s.grace_until is not None:
                    if s.last_heard is None and s.bridge_up is None and now < s.grace_until:
                        continue  # restarted: its retained state is on its way
                    s.grace_until = None
                live = site_live(s.last_heard, s.bridge_up, now, self.th)
                if not live:
                    s.live_since = None
                elif s.live_since is None:
                    s.live_since = now
                if live:
                    sv = Verdict("ready")
                elif s.last_heard is None and s.bridge_up is None and (
                        s.track is None or s.track.state == "never_seen"):
                    sv = Verdict("never_seen", ("never_seen",))
                else:
                    sv = Verdict("lost", ("bridge_silent",))
                hold = self.th.never_seen_after_s if sv.state == "never_seen" else 0.0
                old = s.track
                s.track, notice = step(s.track, sv, now, hold_s=hold)
                self._record(sid, None, old, s.track)
                if notice:
                    events.append(Event(sid, None, "site", notice))
                for uid in sorted(set(s.expected) | set(s.heard)):
                    heard = s.heard.get(uid)
                    if heard and s.live_since and heard.at < s.live_since:
                        # back from a cut: the statuses the bridge resends are on their way
                        heard = Heard(heard.status, s.live_since)
                    v = assess_unit(heard, site_live=live, now=now, th=self.th)
                    until = s.updating_until.get(uid)
                    if v.state in ("stopped", "lost") and until is not None and now < until:
                        v = Verdict(v.state, ("updating", *v.reasons), covered=True)
                    if v.state == "never_seen" and uid not in s.expected:
                        continue
                    hold = self.th.never_seen_after_s if v.state == "never_seen" else 0.0
                    old = s.tracks.get(uid)
                    s.tracks[uid], notice = step(old, v, now, hold_s=hold)
                    self._record(sid, uid, old, s.tracks[uid])
                    if notice:
                        events.append(Event(sid, uid, self._role(s, uid), notice))
        return events

    def _record(self, site: str, unit: str | None, old: Track | None, new: Track) -> None:
        if self.history is not None and (old is None or old.state != new.state):
            self.history.change(site, unit, new.state, new.reasons, new.since)
        if (old.told if old else None) != new.told:
            self._told.append((site, unit, new.told, new.since))

    @staticmethod
    def _role(s: _Site, uid: str) -> str:
        heard = s.heard.get(uid)
        role = heard.status.get("role") if heard else None
        return str(role or s.expected.get(uid) or "?")

    # ---- reading (web pages, metrics, digest) ------------------------------------------
    def sites(self) -> list[SiteView]:
        with self._lock:
            return [self._view(sid, s) for sid, s in sorted(self._sites.items())]

    def site(self, site: str) -> SiteView | None:
        with self._lock:
            s = self._sites.get(site)
            return self._view(site, s) if s else None

    def _view(self, sid: str, s: _Site) -> SiteView:
        units = []
        for uid in sorted(set(s.expected) | set(s.tracks)):
            tr = s.tracks.get(uid)
            heard = s.heard.get(uid)
            units.append(UnitView(
                site=sid, unit=uid, role=self._role(s, uid), expected=uid in s.expected,
                state=tr.state if tr else "never_seen", reasons=tr.reasons if tr else (),
                since=tr.since if tr else None, last_seen=heard.at if heard else None,
                facts=heard.facts if heard else HealthFacts(),
                status=dict(heard.status) if heard else {}, update=s.updates.get(uid)))
        tr = s.track
        state = tr.state if tr else "never_seen"
        if state == "ready" and any(u.state != "ready" for u in units):
            state = "alert"
        return SiteView(sid, s.name, state, tr.reasons if tr else (), tr.since if tr else None,
                        s.last_heard, units)
