"""The site's Mosquitto ACL: a unit can only speak on its own topics (MQTT 5 says so)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from appliance.broker import MosquittoBroker
from tests.conftest import ROOT

CONF = ROOT / "firmware_config" / "mosquitto"


@pytest.fixture
def secured(tmp_path: Path):
    passwd = tmp_path / "motcua.passwd"
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    for i, user in enumerate(("hub", "counter-1", "dispenser-1")):
        flags = ["-c"] if i == 0 else []
        subprocess.run([tool, *flags, "-b", str(passwd), user, f"pw-{user}"], check=True)
    broker = MosquittoBroker(workdir=tmp_path / "m", anonymous=False, extra_config=(
        f"password_file {passwd}\nacl_file {CONF / 'motcua.acl'}\n"))
    broker.start()
    yield broker
    broker.cleanup()


def _client(broker: MosquittoBroker, user: str, password: str) -> tuple[mqtt.Client, dict]:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.username_pw_set(user, password)
    result: dict = {"acks": {}, "connected": threading.Event(), "rc": None}

    def on_connect(client, userdata, flags, rc, props):
        result["rc"] = rc
        result["connected"].set()

    def on_publish(client, userdata, mid, rc, props):
        result["acks"][mid] = rc

    c.on_connect = on_connect
    c.on_publish = on_publish
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    assert result["connected"].wait(5)
    return c, result


ACCEPTED = "accepted"


def _publish(c: mqtt.Client, result: dict, topic: str) -> int | str:
    """PUBACK's reason: below 128 means delivered (16 is "no matching subscribers")."""
    info = c.publish(topic, b'{"v":1}', qos=1)
    info.wait_for_publish(5)
    code = result["acks"][info.mid].value
    return ACCEPTED if code < 128 else code


def test_unit_may_only_write_its_own_request_topic(secured):
    c, res = _client(secured, "counter-1", "pw-counter-1")
    try:
        assert res["rc"].value == 0
        assert _publish(c, res, "motcua/v1/demo/unit/counter-1/req/hub") == ACCEPTED
        # pretending to be the dispenser is refused by the broker (135: not authorised)
        assert _publish(c, res, "motcua/v1/demo/unit/dispenser-1/req/hub") == 135
        assert _publish(c, res, "motcua/v1/demo/queue/state") == 135
    finally:
        c.loop_stop()
        c.disconnect()


def test_wrong_password_is_refused(secured):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.username_pw_set("counter-1", "guess")
    got = threading.Event()
    codes: list[ReasonCode] = []

    def on_connect(client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags,
                   rc: ReasonCode, props: Properties | None) -> None:
        codes.append(rc)
        got.set()

    c.on_connect = on_connect
    c.connect("127.0.0.1", secured.port)
    c.loop_start()
    try:
        assert got.wait(5)
        assert codes[0].is_failure
    finally:
        c.loop_stop()


def test_hub_may_publish_the_queue(secured):
    c, res = _client(secured, "hub", "pw-hub")
    try:
        assert _publish(c, res, "motcua/v1/demo/queue/state") == ACCEPTED
        assert _publish(c, res, "motcua/v1/demo/unit/counter-1/res") == ACCEPTED
    finally:
        c.loop_stop()
        c.disconnect()


def test_a_units_updater_reports_only_on_its_own_update_topic(secured):
    c, res = _client(secured, "counter-1", "pw-counter-1")
    try:
        assert _publish(c, res, "motcua/v1/demo/unit/counter-1/update") == ACCEPTED
        assert _publish(c, res, "motcua/v1/demo/unit/dispenser-1/update") == 135
        assert _publish(c, res, "motcua/v1/demo/care/release") == 135  # only care announces
    finally:
        c.loop_stop()
        c.disconnect()


def test_only_the_hub_ships_day_records_to_the_store(secured):
    # records.put travels on the hub's own req/store topic (docs/protocol.md)
    c, res = _client(secured, "hub", "pw-hub")
    try:
        assert _publish(c, res, "motcua/v1/demo/unit/hub/req/store") == ACCEPTED
    finally:
        c.loop_stop()
        c.disconnect()
    c, res = _client(secured, "counter-1", "pw-counter-1")
    try:
        assert _publish(c, res, "motcua/v1/demo/unit/hub/req/store") != ACCEPTED
        assert _publish(c, res, "motcua/v1/demo/unit/counter-1/req/store") == ACCEPTED
    finally:
        c.loop_stop()
        c.disconnect()
