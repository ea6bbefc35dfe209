"""The retained unit status every bus publishes: ready / alert / stopped, ``lost`` as the
last will, a heartbeat, and the health block (part of appliance.bus)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from appliance.clock import Clock, rfc3339
from appliance.contract import VERSION, Topics, decode, encode
from appliance.errors import ContractError
from appliance.i18n import tr

log = logging.getLogger("appliance.bus")

StatusGate = Callable[[dict[str, Any]], dict[str, Any]]


class StatusMixin:
    """Status publishing of :class:`appliance.bus.Bus` (which sets up these attributes)."""

    unit: str
    role: str
    topics: Topics
    clock: Clock
    connect_problem: str | None
    _client: mqtt.Client
    _connected: threading.Event
    _stop: threading.Event
    _status: dict[str, Any]
    _status_lock: threading.Lock
    _status_interval: float
    _gate: StatusGate | None
    _health: StatusGate | None
    _boot: str
    _session: int

    def publish(self, topic: str, obj: dict[str, Any] | bytes, *, retain: bool = False,
                qos: int = 1) -> mqtt.MQTTMessageInfo:
        raise NotImplementedError  # Bus.publish

    def set_status(self, state: str, **fields: Any) -> None:
        """Retained unit status: ready / alert (with reasons) / stopped; lost is the will."""
        self._status = {"state": state, **fields}
        if self.connect_problem is not None and not self._connected.is_set():
            # what the unit cannot tell the broker, it still tells whoever looks locally
            self._status["reasons"] = [*fields.get("reasons", []), self.connect_problem]
            self._status["state"] = "alert"
        if self._connected.is_set():
            self._publish_status()

    @property
    def status(self) -> dict[str, Any]:
        return dict(self._status)

    def set_health_source(self, source: StatusGate) -> None:
        """Add a ``health`` block (appliance/health) to every status, built from its fields."""
        self._health = source

    def gate_status(self, gate: StatusGate) -> None:
        """Every status published passes through ``gate`` first (appliance.watchdog: never
        ``ready`` while the role's work loop is stuck)."""
        self._gate = gate

    def refresh_status(self) -> None:
        """Publish the status again now (its gate's answer changed)."""
        if self._connected.is_set():
            self._publish_status()

    def _status_payload(self) -> dict[str, Any]:
        status = self._gate(dict(self._status)) if self._gate else self._status
        payload = {
            "v": VERSION,
            "unit": self.unit,
            "role": self.role,
            **status,
            "boot": self._boot,
            "session": self._session,
            "at": rfc3339(self.clock.now()),
        }
        if self._health is not None and payload["state"] not in ("stopped", "starting"):
            try:
                payload["health"] = self._health(status)
            except Exception:  # health facts are extra: a failing reader must not stop status
                log.exception(tr("%s: không đọc được số liệu sức khoẻ thiết bị",
                                 "%s: health facts failed"), self.unit)
        return payload

    def _publish_status(self) -> mqtt.MQTTMessageInfo:
        with self._status_lock:
            return self.publish(self.topics.status(self.unit), self._status_payload(),
                                retain=True)

    def _set_will(self) -> None:
        will = {"v": VERSION, "unit": self.unit, "role": self.role, "state": "lost",
                "boot": self._boot, "session": self._session + 1}
        # the will applies to the next connection, which will be session + 1
        self._client.will_set(self.topics.status(self.unit), encode(will), qos=1, retain=True)

    def _beat(self) -> None:
        # A fresh "at" lets a monitor tell a unit that hangs while connected from a live one.
        while not self._stop.wait(self._status_interval):
            if self._connected.is_set():
                self._publish_status()

    def _on_own_status(self, payload: bytes) -> None:
        # A last will from an earlier connection can arrive after our "ready" (MQTT 5
        # delays wills); put our live status back so the retained one tells the truth.
        try:
            status = decode(payload)
        except ContractError:
            return
        stale = status.get("state") == "lost" and (
            status.get("boot") != self._boot or status.get("session") != self._session
        )
        if stale and self._connected.is_set() and not self._stop.is_set():
            self._publish_status()
