"""One turn of paho's network for a unit that runs the network on its own thread (the hub).

paho's ``Client.loop()`` creates a socket pair to wake its ``select`` and, for every packet
queued, writes one byte to it — a second system call beside the packet's own, and on the
hub (a PUBACK, a reply and an event or two per request) a third of all its sends. A unit
that calls the network itself, from the thread that also publishes, needs no waking: this
turn uses paho's external-loop interface (``loop_read``/``loop_write``/``loop_misc``) on
the one MQTT socket, so no socket pair is ever made. Packets published outside a paho
callback are still written at once (paho writes directly when no loop thread runs);
those queued inside one go out on the next turn (``want_write``).
"""

from __future__ import annotations

import select

import paho.mqtt.client as mqtt


def turn(client: mqtt.Client, timeout: float) -> mqtt.MQTTErrorCode:
    """Wait up to ``timeout`` for the socket, read what arrived (handlers run here), write
    what is queued, keep the connection alive; MQTT_ERR_SUCCESS or why the link is down."""
    sock = client.socket()
    if sock is None:
        return mqtt.MQTTErrorCode.MQTT_ERR_NO_CONN
    # bytes TLS already decrypted are not seen by select: read them without waiting
    pending = sock.pending() if hasattr(sock, "pending") else 0
    try:
        readable, writable, _ = select.select(
            [sock], [sock] if client.want_write() else [], [], 0.0 if pending else timeout)
    except (TypeError, ValueError, OSError):
        # the socket was closed under us (disconnect, or the link dropped)
        return mqtt.MQTTErrorCode.MQTT_ERR_CONN_LOST
    if readable or pending:
        rc = client.loop_read()
        if rc != mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS or client.socket() is None:
            return rc or mqtt.MQTTErrorCode.MQTT_ERR_CONN_LOST
    if writable:
        rc = client.loop_write()
        if rc != mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS or client.socket() is None:
            return rc or mqtt.MQTTErrorCode.MQTT_ERR_CONN_LOST
    return client.loop_misc()
