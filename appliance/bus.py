"""The one MQTT client every unit uses: status with a last will, requests with replies.

Subscriptions are remembered and renewed in ``on_connect`` so a reconnect restores them.
Handlers run on paho's network thread: they must be quick (queue work elsewhere).
The status part is in appliance/bus_status.py, messages and filters in
appliance/bus_message.py, the network turn of a self-driven bus in appliance/bus_loop.py.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from appliance import bus_loop
from appliance.bus_message import Handler, Message, Pending, topic_matches
from appliance.bus_status import StatusGate, StatusMixin
from appliance.clock import Clock, SystemClock
from appliance.config.base import BrokerConfig
from appliance.contract import VERSION, Topics, decode, encode
from appliance.errors import ContractError, NotConnected, RequestTimeout
from appliance.i18n import tr
from appliance.mqtt_properties import PublishProperties
from appliance.tlscheck import set_up_tls, tls_problem

log = logging.getLogger(__name__)


class Bus(StatusMixin):
    def __init__(
        self,
        *,
        site: str,
        unit: str,
        role: str,
        broker: BrokerConfig,
        clock: Clock | None = None,
        status_interval_s: float = 30.0,
    ) -> None:
        self.site = site
        self.unit = unit
        self.role = role
        self.topics = Topics(site)
        self.clock: Clock = clock or SystemClock()
        self._broker = broker
        self._status_interval = status_interval_s
        self._handlers: list[tuple[str, Handler]] = []
        self._as_published: set[str] = set()  # filters whose retain flag must stay as sent
        self._pending: dict[bytes, Pending] = {}
        self._subacks: dict[int, threading.Event] = {}
        # on_connect's own SUBSCRIBEs not yet acknowledged: until they are, a request sent to
        # this unit could reach the broker before the unit listens, and be lost
        self._connect_mids: set[int] = set()
        self._listening = threading.Event()
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._conn_listeners: list[Callable[[bool], None]] = []
        self._boot = uuid.uuid4().hex[:8]
        self._session = 0
        self._status: dict[str, Any] = {"state": "starting"}
        self._gate: StatusGate | None = None
        self._stop = threading.Event()
        self._manual = False
        self._need_connect = True
        self._retry_at = 0.0
        self._retry_delay = 1.0
        self._heartbeat: threading.Thread | None = None
        # why the last connection attempt failed (TLS, password, ACL), for status and logs
        self.connect_problem: str | None = None
        self._health: StatusGate | None = None
        # one status built and sent at a time: the newest one is always the last out
        self._status_lock = threading.Lock()
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"{site}-{unit}-{self._boot}",
            protocol=mqtt.MQTTv5,
        )
        if broker.username:
            self._client.username_pw_set(broker.username, broker.password)
        set_up_tls(self._client, broker)
        self._client.reconnect_delay_set(min_delay=1, max_delay=8)
        self._client.on_socket_open = self._on_socket_open
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._set_will()

    # ---- lifecycle -------------------------------------------------------------------
    def subscribe(self, topic_filter: str, handler: Handler, *, wait_s: float = 5.0,
                  retain_as_published: bool = False) -> None:
        """Register a handler; it is (re)subscribed on every connect.

        ``retain_as_published``: deliver live messages with the retain flag they were sent
        with (MQTT 5), so a handler can refuse retained ones even while subscribed.

        When already connected, wait (up to ``wait_s``) for the broker's SUBACK, so that a
        message published after this returns is delivered — except when called from the
        network thread itself (a handler), where waiting would block the acknowledgement.
        """
        acked: threading.Event | None = None
        # Under the lock with on_connect's snapshot: a filter added while the connection
        # comes up is either in that snapshot or subscribed here, never neither.
        with self._lock:
            self._handlers.append((topic_filter, handler))
            if retain_as_published:
                self._as_published.add(topic_filter)
            if self._connected.is_set():
                acked = threading.Event()
                _, mid = self._client.subscribe(topic_filter, options=self._options(topic_filter))
                if mid is not None:
                    self._subacks[mid] = acked
                else:
                    acked = None  # not sent (connection just dropped): on_connect redoes it
        if acked is not None and threading.current_thread() is not self._net_thread():
            acked.wait(wait_s)

    def _options(self, topic_filter: str) -> SubscribeOptions:
        return SubscribeOptions(qos=1, retainAsPublished=topic_filter in self._as_published)

    def _net_thread(self) -> threading.Thread | None:
        return getattr(self._client, "_thread", None)

    def on_connection(self, listener: Callable[[bool], None]) -> None:
        self._conn_listeners.append(listener)

    def start(self, *, network_thread: bool = True) -> None:
        """Connect in the background; a broker that is down now is retried forever.

        With ``network_thread=False`` the owner runs the network itself, calling
        :meth:`loop_step` from one thread of its own. The hub does: reading requests,
        handling them and writing replies then happen on one thread, with no hand-offs of
        the interpreter lock between two threads for every message.
        """
        self._client.connect_async(self._broker.host, self._broker.port, self._broker.keepalive)
        self._manual = not network_thread
        if network_thread:
            self._client.loop_start()
        self._heartbeat = threading.Thread(
            target=self._beat, name=f"status-{self.unit}", daemon=True
        )
        self._heartbeat.start()

    def loop_step(self, timeout: float) -> None:
        """One turn of the network (``start(network_thread=False)`` only): connect or
        reconnect when due, read what arrived (handlers run here), write what is queued."""
        if self._need_connect:
            now = time.monotonic()
            if now < self._retry_at:
                time.sleep(min(timeout, self._retry_at - now))
                return
            try:
                self._client.reconnect()
            except ssl.SSLError as exc:
                self._problem(f"TLS with the broker {self._broker.url} failed: {exc}")
                self._retry_at = now + self._retry_delay
                self._retry_delay = min(self._retry_delay * 2, 8.0)
                return
            except OSError as exc:
                log.debug("%s: broker %s not reachable: %s", self.unit, self._broker.url, exc)
                self._retry_at = now + self._retry_delay
                self._retry_delay = min(self._retry_delay * 2, 8.0)
                return
            self._need_connect = False
            self._retry_delay = 1.0
        if bus_loop.turn(self._client, timeout) != mqtt.MQTT_ERR_SUCCESS:
            self._need_connect = True
            self._retry_at = time.monotonic() + self._retry_delay

    def corked(self) -> contextlib.AbstractContextManager[None]:
        """Send what is published inside the block together at its end (see bus_loop)."""
        return bus_loop.corked(self._client)

    def wait_connected(self, timeout: float) -> bool:
        """Connected, and every subscription made again on connecting acknowledged."""
        end = time.monotonic() + timeout
        return (self._connected.wait(timeout)
                and self._listening.wait(max(0.0, end - time.monotonic())))

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def stop(self) -> None:
        """Say "stopped" (not "lost": this is on purpose) and disconnect."""
        self._stop.set()
        if self._connected.is_set():
            self._status["state"] = "stopped"
            info = self._publish_status()
            try:
                if self._manual:
                    deadline = time.monotonic() + 2.0
                    while not info.is_published() and time.monotonic() < deadline:
                        if bus_loop.turn(self._client, 0.05) != mqtt.MQTT_ERR_SUCCESS:
                            break
                else:
                    info.wait_for_publish(timeout=2.0)
            except (RuntimeError, ValueError):
                pass  # the broker went away while stopping: the last will covers it
        self._client.disconnect()
        if not self._manual:
            self._client.loop_stop()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=2.0)

    # ---- publishing ------------------------------------------------------------------
    def publish(
        self,
        topic: str,
        obj: dict[str, Any] | bytes,
        *,
        retain: bool = False,
        qos: int = 1,
        properties: Properties | None = None,
    ) -> mqtt.MQTTMessageInfo:
        """Publish a payload (a dict, encoded here; or bytes already encoded by ``encode``)."""
        payload = obj if isinstance(obj, bytes) else encode(obj)
        return self._client.publish(topic, payload, qos=qos, retain=retain,
                                    properties=properties)

    def reply(self, msg: Message, obj: dict[str, Any]) -> None:
        """Answer a request on the ResponseTopic it named, echoing its CorrelationData.

        QoS 0 on purpose: a reply lost with a dropped connection is recovered by the unit's
        retry with the same request id (the answer is remembered, the act is not repeated),
        and QoS 1 would cost a PUBACK per reply, the most expensive part of paho's MQTT 5.
        """
        if not msg.response_topic:
            return
        # packed once (appliance/mqtt_properties.py): paho's Properties cost ~100 µs a reply
        props = PublishProperties(correlation=msg.correlation)
        try:
            self._client.publish(msg.response_topic, encode(obj), qos=0, properties=props)
        except (ValueError, UnicodeError) as exc:
            # paho refuses a topic with wildcards or NUL, or a payload it cannot encode:
            # callers check the topic first (Topics.reply_topic_for); never let it raise
            log.error(tr("không gửi được trả lời trên %r: %s",
                         "reply on %r not sent: %s"), msg.response_topic[:200], exc)

    def clear_retained(self, topic: str) -> None:
        """Delete the retained message on ``topic`` (an empty retained payload)."""
        try:
            self._client.publish(topic, b"", qos=1, retain=True)
        except ValueError as exc:
            log.error(tr("không xoá được tin giữ lại trên %r: %s",
                         "cannot clear the retained message on %r: %s"), topic[:200], exc)

    # ---- requests --------------------------------------------------------------------
    def request(
        self,
        target: str,
        body: dict[str, Any],
        *,
        timeout: float,
        req_id: str | None = None,
    ) -> dict[str, Any]:
        """Send a request and wait for its reply; RequestTimeout/NotConnected otherwise.

        Pass the same ``req_id`` to retry: the hub answers a repeated id without acting twice.
        """
        if not self._connected.is_set():
            raise NotConnected(tr(f"chưa kết nối broker tại {self._broker.url}",
                                  f"not connected to the broker at {self._broker.url}"))
        rid = req_id or uuid.uuid4().hex
        corr = rid.encode()
        pending = Pending()
        with self._lock:
            self._pending[corr] = pending
        props = PublishProperties(response_topic=self.topics.res(self.unit), correlation=corr)
        try:
            self.publish(self.topics.req(self.unit, target), {"v": VERSION, "id": rid, **body},
                         properties=props)
            if not pending.event.wait(timeout):
                raise RequestTimeout(tr(
                    f"{target} không trả lời {body.get('op')} trong {timeout} s",
                    f"{target} did not answer {body.get('op')} in {timeout} s"))
        finally:
            with self._lock:
                self._pending.pop(corr, None)
        assert pending.reply is not None
        return pending.reply

    # ---- paho callbacks (network thread) -----------------------------------------------
    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # Nagle + delayed ACK add ~40 ms to every request/reply on loopback.
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass  # not a TCP socket (e.g. websockets): nothing to tune

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            self._problem(f"the broker {self._broker.url} refused {self.unit}: {reason} "
                          f"(user name {self._broker.username or self.unit!r})")
            return
        self.connect_problem = None
        self._session += 1
        with self._lock:
            filters = {f for f, _ in self._handlers}
            filters.add(self.topics.res(self.unit))
            filters.add(self.topics.status(self.unit))
            self._listening.clear()
            self._connect_mids = set()
            for f in sorted(filters):
                _, mid = client.subscribe(f, options=self._options(f))
                if mid is not None:
                    self._connect_mids.add(mid)
            if not self._connect_mids:
                self._listening.set()
            self._connected.set()
        self._publish_status()
        self._set_will()
        for listener in self._conn_listeners:
            listener(True)

    def _problem(self, text: str) -> None:
        """A TLS or login failure will not heal by retrying: say it loudly, once per kind."""
        if text != self.connect_problem:
            log.error("%s", text)
        self.connect_problem = text
        self._status = {**self._status, "state": "alert", "reasons": [text]}

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        # paho's own thread does not say why; a TLS fault (wrong CA, wrong name) would
        # otherwise be retried forever in silence, so look once ourselves
        problem = tls_problem(self._broker)
        if problem is not None:
            self._problem(problem)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any,
                      properties: Any) -> None:
        with self._lock:
            acked = self._subacks.pop(mid, None)
            if mid in self._connect_mids:
                self._connect_mids.discard(mid)
                if not self._connect_mids:
                    self._listening.set()
        if acked is not None:
            acked.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if was:
            for listener in self._conn_listeners:
                listener(False)

    def _on_message(self, client: mqtt.Client, userdata: Any, m: mqtt.MQTTMessage) -> None:
        props = getattr(m, "properties", None)
        msg = Message(
            topic=m.topic,
            payload=bytes(m.payload),
            retain=bool(m.retain),
            response_topic=getattr(props, "ResponseTopic", None) if props else None,
            correlation=getattr(props, "CorrelationData", None) if props else None,
        )
        if msg.topic == self.topics.res(self.unit):
            self._on_reply(msg)
            return
        if msg.topic == self.topics.status(self.unit):
            self._on_own_status(msg.payload)
            return
        with self._lock:
            handlers = [h for f, h in self._handlers if topic_matches(f, msg.topic)]
        for handler in handlers:
            try:
                handler(msg)
            except Exception:  # one bad handler must not kill the network thread
                log.exception(tr("lỗi khi xử lý tin trên %s", "handler for %s failed"), msg.topic)

    def _on_reply(self, msg: Message) -> None:
        if msg.correlation is None:
            return
        try:
            reply = decode(msg.payload)
        except ContractError as exc:
            log.warning(tr("trả lời không đọc được trên %s: %s",
                           "unreadable reply on %s: %s"), msg.topic, exc)
            return
        with self._lock:
            pending = self._pending.get(msg.correlation)
        if pending is not None:
            pending.reply = reply
            pending.event.set()


__all__ = ["Bus", "Handler", "Message", "topic_matches"]
