"""Parts of the care tests: a cuttable TCP link, a webhook sink, an SMTP sink (aiosmtpd),
simulated unit processes, and a whole simulated site (Mosquitto bridged out + real hub)."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from appliance.broker import MosquittoBroker, free_port
from appliance.care.bridge import site_bridge_config
from appliance.care.config import CareConfig
from appliance.care.enrol import enrol
from appliance.childproc import tied_to_parent
from appliance.clock import Clock
from appliance.config import load_unit_config
from appliance.health.fake import FakeHealth
from appliance.hub.bootstrap import Hub, build_hub

ROOT = Path(__file__).resolve().parent.parent


class CuttableLink:
    """A TCP forwarder on loopback. ``cut()`` stops carrying bytes without closing anything
    (a dead uplink: the far end only notices by silence) and refuses new connections."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.port = free_port()
        self._cut = threading.Event()
        self._stop = threading.Event()
        self._srv = socket.create_server(("127.0.0.1", self.port))
        self._srv.settimeout(0.2)
        self._socks: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def cut(self) -> None:
        self._cut.set()

    def restore(self) -> None:
        # connections left from before the cut are dead for good, as after a real outage
        for s in list(self._socks):
            s.close()
        self._socks.clear()
        self._cut.clear()

    def close(self) -> None:
        self._stop.set()
        self._srv.close()
        for s in self._socks:
            s.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._srv.accept()
            except (TimeoutError, OSError):
                continue
            if self._cut.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            self._socks += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([a, b], [], [], 0.2)
                if self._cut.is_set():
                    continue  # bytes wait in the kernel, undelivered: a dead link
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        raise OSError("closed")
                    (b if s is a else a).sendall(data)
            except (OSError, ValueError):
                a.close()
                b.close()
                return


class WebhookSink:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.keys: list[str | None] = []  # each call's Idempotency-Key header
        self.times: list[float] = []  # time.perf_counter() of each call (the benchmark's)
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                sink.times.append(time.perf_counter())
                sink.keys.append(self.headers.get("Idempotency-Key"))
                sink.calls.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class MailSink:
    """An SMTP server (aiosmtpd) that keeps what it is sent: (subject, text) pairs, and
    each mail's Message-ID."""

    def __init__(self) -> None:
        self.mails: list[tuple[str, str]] = []
        self.ids: list[str | None] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                msg = message_from_bytes(envelope.content)
                subject = str(make_header(decode_header(msg["Subject"])))
                part = msg.get_payload(decode=True)
                text = part.decode("utf-8") if isinstance(part, bytes) else str(part)
                sink.ids.append(msg["Message-ID"])
                sink.mails.append((subject, text))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


class SimUnit:
    """A unit process (tests/care_unit.py); its facts are set through a control file."""

    def __init__(self, site: str, unit: str, role: str, broker_url: str, folder: Path,
                 keepalive: int = 15) -> None:
        self.site, self.unit, self.role, self.broker_url = site, unit, role, broker_url
        self.keepalive = keepalive
        folder.mkdir(parents=True, exist_ok=True)
        self.facts = folder / f"{unit}.facts.json"
        FakeHealth.write(self.facts, disk_free_mb=5000, disk_total_mb=16000, cpu_temp_c=48.0,
                         under_voltage=False, throttled=False,
                         **({"paper": "ok"} if role == "dispenser" else {}))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> SimUnit:
        self.proc = subprocess.Popen(tied_to_parent(
            [sys.executable, "-m", "tests.care_unit", "--site", self.site, "--unit", self.unit,
             "--role", self.role, "--broker", self.broker_url, "--facts", str(self.facts),
             "--keepalive", str(self.keepalive)]),
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        return self

    def set(self, **facts: Any) -> None:
        current = json.loads(self.facts.read_text())
        FakeHealth.write(self.facts, **{**current, **facts})

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


HUB_TOML = """site = "{site}"
role = "hub"
status_interval_s = 2
[broker]
url = "mqtt://127.0.0.1:1883"
[hub]
office_name = "Trung tâm Phục vụ hành chính công {site}"
[hub.hours]
enforce = false
[[hub.services]]
id = "A"
name = "Chứng thực"
last = 799
[[hub.counters]]
id = "1"
services = ["A"]
{units}
"""


def site_file(folder: Path, site: str, units: dict[str, str]) -> Path:
    lines = []
    for uid, role in units.items():
        lines.append(f"[hub.units.{uid}]\nrole = \"{role}\"")
        if role == "counter":
            lines.append('counters = ["1"]')
        if role == "dispenser":
            lines.append("offline_bands = { A = { first = 800, last = 999 } }")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hub.toml"
    path.write_text(HUB_TOML.format(site=site, units="\n".join(lines)))
    return path


class SimSite:
    """A site: its own Mosquitto bridged over TLS (through a cuttable link) to the care
    broker with the card ``motcua care enrol`` made, the real hub, and unit processes."""

    def __init__(self, care: CareConfig, site: str, units: dict[str, str], folder: Path,
                 care_tls_port: int, clock: Clock, wired: tuple[str, ...] = ()) -> None:
        """``wired``: units that reach the site broker through a cuttable link of their
        own (``wires[unit].cut()`` is their power cut: no FIN, no will, only silence)."""
        self.site = site
        self.folder = folder
        self.file = site_file(folder, site, units)
        card = folder / "card"
        self.enrolment = enrol(care, site, card, card_dir=card, site_file=self.file)
        self.link = CuttableLink(care_tls_port)
        conf = site_bridge_config(site, host="127.0.0.1", port=self.link.port,
                                  password=self.enrolment.password, card_dir=card,
                                  keepalive_s=care.care_broker.keepalive_s,
                                  heartbeat_s=care.care_broker.site_heartbeat_s)
        self.broker = MosquittoBroker(workdir=folder / "mosquitto", extra_config=conf)
        self.hub: Hub | None = None
        self.clock = clock
        self.wires = {uid: CuttableLink(self.broker.port) for uid in wired}
        self.units = {uid: SimUnit(site, uid, role, f"mqtt://127.0.0.1:{self.wires[uid].port}"
                                   if uid in self.wires else self.broker.url,
                                   folder / "units", keepalive=5 if uid in self.wires else 15)
                      for uid, role in units.items()}

    def start(self, *, skip: tuple[str, ...] = ()) -> SimSite:
        self.broker.start()
        config = load_unit_config(self.file, broker_url=self.broker.url,
                                  data_dir=self.folder / "hub-data")
        self.hub = build_hub(config, clock=self.clock)
        self.hub.start()
        for uid, unit in self.units.items():
            if uid not in skip:
                unit.start()
        return self

    def stop(self) -> None:
        for unit in self.units.values():
            unit.stop()
        if self.hub is not None:
            self.hub.stop()
        self.broker.stop()
        self.link.close()
        for wire in self.wires.values():
            wire.close()
