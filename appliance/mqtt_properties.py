"""MQTT 5 PUBLISH properties for request/response, packed once with paho's own encoders.

paho's generic ``Properties`` sets up every property name of the packet type on each
instance and walks all of them again in ``pack()``: about 100 µs for the two properties
of a request (ResponseTopic, CorrelationData) or the one of a reply (CorrelationData), the
largest single cost of the hub per request after the socket itself. This is a
``Properties`` (paho's ``publish`` insists on one) whose bytes are computed up front by
paho's ``writeUTF``/``writeBytes``/``VariableByteIntegers``: the same wire bytes, with
the same semantics, at a few µs. Received properties are still paho's own objects.
"""

from __future__ import annotations

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties, VariableByteIntegers, writeBytes, writeUTF

_RESPONSE_TOPIC = 0x08  # MQTT 5.0 §3.3.2.3.5
_CORRELATION_DATA = 0x09  # MQTT 5.0 §3.3.2.3.6


class PublishProperties(Properties):
    """Immutable PUBLISH properties: ``ResponseTopic`` and/or ``CorrelationData``."""

    ResponseTopic: str | None  # paho's attribute names
    CorrelationData: bytes | None
    _packed: bytes

    def __init__(self, *, response_topic: str | None = None,
                 correlation: bytes | None = None) -> None:
        # Properties.__init__ is skipped on purpose (its per-instance set-up is the cost);
        # only what paho reads of a PUBLISH's properties is set: packetType and pack().
        body = b""
        if response_topic is not None:
            body += bytes([_RESPONSE_TOPIC]) + writeUTF(response_topic)
        if correlation is not None:
            body += bytes([_CORRELATION_DATA]) + writeBytes(correlation)
        object.__setattr__(self, "packetType", PacketTypes.PUBLISH)
        object.__setattr__(self, "ResponseTopic", response_topic)
        object.__setattr__(self, "CorrelationData", correlation)
        object.__setattr__(self, "_packed", VariableByteIntegers.encode(len(body)) + body)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PublishProperties are packed once and cannot change")

    def pack(self) -> bytes:
        return self._packed

    def isEmpty(self) -> bool:  # paho's name
        return self.ResponseTopic is None and self.CorrelationData is None

    def __str__(self) -> str:  # paho's debug log prints the properties of what it sends
        return (f"[ResponseTopic : {self.ResponseTopic!r}, "
                f"CorrelationData : {self.CorrelationData!r}]")
