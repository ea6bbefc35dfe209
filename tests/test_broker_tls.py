"""The broker config `motcua broker-setup` makes, run by the real Mosquitto: TLS with the
site CA and per-unit passwords works; plain MQTT is served on 127.0.0.1 only; a unit reads
only its own replies; TLS and login failures are loud and shown in the unit's status.

On "plain MQTT from the LAN is refused": the generated config binds the plain listener to
127.0.0.1 and the TLS listener to every interface. A connection to any other address of
the machine — 127.0.0.2 here, which the kernel routes like a LAN address (a socket bound
to 127.0.0.1 does not accept it) — reaches the TLS listener and not the plain one. Tests
never leave 127.0.0.0/8, so the LAN itself is not used.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from appliance.broker import MosquittoBroker, free_port
from appliance.bus import Bus, Message
from appliance.config import load_unit_config
from appliance.config.base import BrokerConfig
from appliance.hub.bootstrap import build_hub
from appliance.sitebroker import setup
from tests.conftest import OPENING
from tests.waiting import poll


class Site:
    def __init__(self, out: Path, tls_port: int, plain_port: int) -> None:
        self.out, self.tls_port, self.plain_port = out, tls_port, plain_port

    def login(self, user: str, *, tls: bool = True, ca: Path | None = None) -> BrokerConfig:
        creds = tomllib.loads((self.out / "credentials" / f"{user}.toml").read_text())["broker"]
        url = (f"mqtts://localhost:{self.tls_port}" if tls
               else f"mqtt://127.0.0.1:{self.plain_port}")
        return BrokerConfig(url=url, username=creds["username"], password=creds["password"],
                            ca_file=str(ca or self.out / "ca.crt") if tls else None)


@pytest.fixture
def site_broker(tmp_path: Path, demo_site: Path) -> Iterator[Site]:
    tls_port, plain_port = free_port(), free_port()
    conf = setup(demo_site / "hub.toml", tmp_path / "broker", names=["localhost"],
                 addresses=["127.0.0.1"], tls_port=tls_port, plain_port=plain_port,
                 run_as_root=os.geteuid() == 0)
    broker = MosquittoBroker(port=plain_port, workdir=tmp_path / "m", config_file=conf)
    broker.start()
    try:
        yield Site(tmp_path / "broker", tls_port, plain_port)
    finally:
        broker.cleanup()


def _bus(unit: str, role: str, cfg: BrokerConfig) -> Bus:
    bus = Bus(site="demo", unit=unit, role=role, broker=cfg, status_interval_s=3600)
    bus.start()
    return bus


def test_units_over_tls_and_replies_only_to_their_owner(site_broker: Site, demo_site: Path,
                                                        tmp_path: Path) -> None:
    from appliance.clock import OffsetClock

    config = load_unit_config(demo_site / "hub.toml")
    config = config.model_copy(update={"broker": site_broker.login("hub")})
    hub = build_hub(config, clock=OffsetClock(OPENING))
    hub.start()
    disp = _bus("dispenser-1", "dispenser", site_broker.login("dispenser-1"))
    nosy = _bus("counter-1", "counter", site_broker.login("counter-1"))
    heard: list[str] = []
    try:
        assert hub.bus.wait_connected(10) and disp.wait_connected(10)
        assert nosy.wait_connected(10)
        # counter-1 asks for everything; the broker gives it only what the ACL lets it read
        nosy.subscribe("motcua/v1/#", lambda m: heard.append(m.topic))
        r = disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=10)
        assert r["ok"] and r["ticket"]["number"] == "A001"
        assert poll(lambda: "motcua/v1/demo/queue/state" in heard, 5)
        assert not [t for t in heard if t.endswith("/res")], heard
        assert hub.service.alive
    finally:
        for b in (nosy, disp):
            b.stop()
        hub.stop()


def test_plain_mqtt_only_on_loopback_and_tls_for_everyone_else(site_broker: Site) -> None:
    # plain MQTT on 127.0.0.1 works (programs on the broker's machine), with a password
    monitor = _bus("monitor", "monitor", site_broker.login("monitor", tls=False))
    try:
        assert monitor.wait_connected(10)
    finally:
        monitor.stop()
    # any other address of the machine: the plain port is not there ...
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", site_broker.plain_port), timeout=3).close()
    # ... the TLS one is, and presents the certificate the site CA signed
    ctx = ssl.create_default_context(cafile=str(site_broker.out / "ca.crt"))
    with socket.create_connection(("127.0.0.2", site_broker.tls_port), timeout=3) as raw, \
            ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    # plain MQTT spoken to the TLS port gets no CONNACK
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    got = threading.Event()
    c.on_connect = lambda *a: got.set()
    c.username_pw_set("monitor", "x")
    c.connect("127.0.0.2", site_broker.tls_port)
    c.loop_start()
    try:
        assert not got.wait(2)
    finally:
        c.disconnect()
        c.loop_stop()


def test_tls_and_login_failures_are_loud_and_in_the_status(site_broker: Site, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    # a unit given another CA (a different site's) must not trust this broker, and say so
    other = tmp_path / "other"
    other.mkdir()
    from appliance.sitebroker import make_certificates

    make_certificates(other, ["localhost"], [])
    wrong_ca = _bus("dispenser-1", "dispenser",
                    site_broker.login("dispenser-1", ca=other / "ca.crt"))
    bad_pw = _bus("counter-1", "counter",
                  site_broker.login("counter-1").model_copy(update={"password": "guess"}))
    try:
        assert poll(lambda: wrong_ca.connect_problem is not None, 10)
        assert "TLS" in (wrong_ca.connect_problem or "") and not wrong_ca.connected
        assert wrong_ca.status["state"] == "alert"
        assert "certificate verify failed" in wrong_ca.status["reasons"][0]
        assert poll(lambda: bad_pw.connect_problem is not None, 10)
        assert "refused" in (bad_pw.connect_problem or "")
        assert bad_pw.status["state"] == "alert"
        assert any(r.levelname == "ERROR" and "TLS" in r.getMessage() for r in caplog.records)
    finally:
        wrong_ca.stop()
        bad_pw.stop()


def test_shipped_acl_is_the_generated_one_for_the_demo_site(demo_site: Path) -> None:
    from appliance.sitebroker import role_acl
    from tests.conftest import ROOT

    config = load_unit_config(demo_site / "hub.toml")
    assert config.hub is not None
    shipped = (ROOT / "firmware_config" / "mosquitto" / "motcua.acl").read_text()
    assert shipped == role_acl(config.unit, config.hub)
    conf = (ROOT / "firmware_config" / "mosquitto" / "motcua.conf").read_text()
    assert "listener 1883 127.0.0.1" in conf and "listener 8883\n" in conf
    assert "allow_anonymous false" in conf and "persistence false" in conf


def test_notice_writers_and_reply_readers_under_the_generated_acl(site_broker: Site) -> None:
    results: dict[str, list[Message]] = {"board": []}
    board = _bus("board-1", "board", site_broker.login("board-1"))
    counter = _bus("counter-1", "counter", site_broker.login("counter-1"))
    disp = _bus("dispenser-1", "dispenser", site_broker.login("dispenser-1"))
    try:
        for b in (board, counter, disp):
            assert b.wait_connected(10)
        board.subscribe(board.topics.notice, results["board"].append)
        disp.publish(disp.topics.notice, {"v": 1, "text": "dispenser", "by": "dispenser-1"})
        counter.publish(counter.topics.notice, {"v": 1, "text": "counter", "by": "counter-1"})
        assert poll(lambda: bool(results["board"]), 5)
        import time

        time.sleep(0.5)
        texts = [m.payload for m in results["board"]]
        assert texts == [b'{"v":1,"text":"counter","by":"counter-1"}'], texts
    finally:
        for b in (board, counter, disp):
            b.stop()


def test_motcua_status_logs_in_and_says_not_authorised(site_broker: Site) -> None:
    import subprocess
    import sys

    disp = _bus("dispenser-1", "dispenser", site_broker.login("dispenser-1"))
    try:
        assert disp.wait_connected(10)
        disp.set_status("ready")
        creds = site_broker.out / "credentials" / "monitor.toml"
        cmd = [sys.executable, "-m", "appliance.cli", "status", "--site", "demo", "--wait", "1"]
        run = subprocess.run([*cmd, "--credentials", str(creds)], capture_output=True,
                             text=True, timeout=60)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "OK  dispenser-1" in run.stdout
        plain = f"mqtt://127.0.0.1:{site_broker.plain_port}"
        run = subprocess.run([*cmd, "--broker", plain], capture_output=True, text=True,
                             timeout=60)
        assert run.returncode == 2
        assert "not authorised" in run.stderr and "cannot reach" not in run.stderr
        run = subprocess.run([*cmd, "--broker", plain, "--username", "monitor", "--password",
                              "wrong"], capture_output=True, text=True, timeout=60)
        assert run.returncode == 2 and "not authorised" in run.stderr
    finally:
        disp.stop()


def test_a_hub_given_the_wrong_ca_says_so(site_broker: Site, demo_site: Path,
                                          tmp_path: Path) -> None:
    from appliance.clock import OffsetClock
    from appliance.sitebroker import make_certificates

    other = tmp_path / "other-ca"
    other.mkdir()
    make_certificates(other, ["localhost"], [])
    config = load_unit_config(demo_site / "hub.toml")
    config = config.model_copy(update={"broker": site_broker.login("hub", ca=other / "ca.crt")})
    hub = build_hub(config, clock=OffsetClock(OPENING))
    hub.start()  # the hub's worker runs its own network loop: a different path from units'
    try:
        assert poll(lambda: hub.bus.connect_problem is not None, 15)
        assert "TLS" in (hub.bus.connect_problem or "") and not hub.bus.connected
        assert hub.bus.status["state"] == "alert"
        assert hub.service.alive
    finally:
        hub.stop()
