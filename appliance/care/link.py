"""The care server's MQTT side: subscribe to what the sites' bridges carry, feed the fleet.

Payload faults are logged and dropped: one site's broken unit must not blind the province.
"""

from __future__ import annotations

import logging
from typing import Any

import paho.mqtt.client as mqtt

from appliance.care.fleet import Fleet
from appliance.clock import Clock
from appliance.config.base import BrokerConfig
from appliance.contract import ROOT, decode
from appliance.errors import ContractError
from appliance.i18n import tr
from appliance.tlscheck import set_up_tls

log = logging.getLogger(__name__)

FILTERS = (f"{ROOT}/+/unit/+/status", f"{ROOT}/+/unit/+/update", f"{ROOT}/+/site/units",
           f"{ROOT}/+/broker/uptime", f"{ROOT}/+/bridge/state")
_DEPTH = len(ROOT.split("/"))


class CareLink:
    def __init__(self, broker: BrokerConfig, fleet: Fleet, clock: Clock,
                 client_id: str = "motcua-care") -> None:
        self.broker = broker
        self.fleet = fleet
        self.clock = clock
        self.bad_messages = 0
        self.messages = 0
        self.connected = False
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                   protocol=mqtt.MQTTv5)
        if broker.username:
            self._client.username_pw_set(broker.username, broker.password)
        set_up_tls(self._client, broker)
        self._client.reconnect_delay_set(min_delay=1, max_delay=8)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    def start(self) -> None:
        self._client.connect_async(self.broker.host, self.broker.port, self.broker.keepalive)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=1, retain=retain)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            log.warning(tr("broker của máy chủ theo dõi từ chối kết nối: %s",
                           "care broker refused the care server: %s"), reason)
            return
        self.connected = True
        for f in FILTERS:
            client.subscribe(f, qos=1)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        self.connected = False

    def _on_message(self, client: mqtt.Client, userdata: Any, m: mqtt.MQTTMessage) -> None:
        self.messages += 1
        parts = m.topic.split("/")
        if len(parts) < _DEPTH + 3:
            return
        site, kind = parts[_DEPTH], parts[_DEPTH + 1]
        now = self.clock.now()
        payload = bytes(m.payload)
        if kind == "broker":
            self.fleet.heard_from(site, now)
        elif kind == "bridge":
            self.fleet.bridge(site, payload.strip() == b"1", now)
        elif kind == "unit" and len(parts) == _DEPTH + 4 and parts[-1] == "update":
            body = self._decode(m.topic, payload) if payload else None
            if body is not None:
                self.fleet.update(site, parts[_DEPTH + 2], body, now)
        elif kind == "unit" and len(parts) == _DEPTH + 4:
            if not payload:
                self.fleet.forget(site, parts[_DEPTH + 2])
                return
            body = self._decode(m.topic, payload)
            if body is not None:
                self.fleet.status(site, parts[_DEPTH + 2], body, now)
        elif kind == "site":
            body = self._decode(m.topic, payload)
            units = body.get("units") if body else None
            if isinstance(units, dict):
                roles = {str(u): str(v.get("role", "?")) if isinstance(v, dict) else "?"
                         for u, v in units.items()}
                self.fleet.inventory(site, roles, now)

    def _decode(self, topic: str, payload: bytes) -> dict[str, Any] | None:
        try:
            return decode(payload)
        except ContractError as exc:
            self.bad_messages += 1
            log.warning(tr("tin không đọc được trên %s: %s",
                           "unreadable message on %s: %s"), topic, exc)
            return None
