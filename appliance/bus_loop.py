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

import contextlib
import select
import socket
from collections.abc import Iterator

import paho.mqtt.client as mqtt

_CORK = getattr(socket, "TCP_CORK", None)  # Linux; elsewhere nothing is held back


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


@contextlib.contextmanager
def corked(client: mqtt.Client) -> Iterator[None]:
    """Hold back what is written inside the block and send it as one stream at its end.

    Every packet paho writes is a send of its own, and on loopback each send wakes the
    broker: with 32 requests in flight the hub's replies and events were half its CPU.
    TCP_CORK lets the kernel gather a batch's packets into a few segments, released when
    the block ends (or after 200 ms at most, the kernel's own limit)."""
    # a websocket (paho's wrapper) has no socket options: nothing is held back then
    setsockopt = getattr(client.socket(), "setsockopt", None)
    if setsockopt is None or _CORK is None:
        yield
        return
    try:
        setsockopt(socket.IPPROTO_TCP, _CORK, 1)
    except OSError:  # closed just now: nothing to hold back
        yield
        return
    try:
        yield
    finally:
        try:
            setsockopt(socket.IPPROTO_TCP, _CORK, 0)
        except OSError:
            pass  # closed inside the block: nothing is left to send on it
