"""`motcua status`: a dead unit is reported as such, from afar."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from appliance.clock import VN_TZ
from appliance.monitor import verdict

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=VN_TZ)


@pytest.mark.parametrize(
    ("status", "healthy", "words"),
    [
        ({"state": "ready", "at": NOW.isoformat()}, True, "ready"),
        ({"state": "ready", "at": (NOW - timedelta(minutes=10)).isoformat()}, False,
         "not heard from"),
        ({"state": "ready"}, False, "never"),
        ({"state": "alert", "reasons": ["paper: out"], "at": NOW.isoformat()}, False,
         "paper: out"),
        ({"state": "lost"}, False, "lost"),
    ],
)
def test_verdict(status, healthy, words):
    ok, line = verdict(status, NOW)
    assert ok is healthy and words in line


def test_status_command_sees_a_lost_unit(broker, make_bus):
    live = make_bus("counter-1", role="counter")
    live.set_status("ready")
    doomed = make_bus("dispenser-1")
    doomed.set_status("ready")
    # the unit dies (no more network loop, socket gone): the broker publishes its last will
    doomed._client.loop_stop()
    doomed._client.socket().close()
    deadline = time.monotonic() + 30
    while True:
        run = subprocess.run([sys.executable, "-m", "appliance.cli", "status", "--broker",
                              broker.url, "--site", "demo", "--wait", "1"],
                             capture_output=True, text=True)
        if "lost" in run.stdout or time.monotonic() > deadline:
            break
    assert run.returncode == 1
    assert "BAD dispenser-1" in run.stdout and "lost" in run.stdout
    assert "OK  counter-1" in run.stdout


@pytest.mark.parametrize(("age_s", "healthy"), [(59, True), (61, False)])
def test_silent_for_a_minute_is_not_ok(age_s, healthy):
    ok, _ = verdict({"state": "ready", "at": (NOW - timedelta(seconds=age_s)).isoformat()}, NOW)
    assert ok is healthy


def test_a_stopped_unit_and_a_unit_never_seen_are_not_ok():
    ok, line = verdict({"state": "stopped", "at": NOW.isoformat()}, NOW)
    assert not ok and "stopped" in line
    ok, line = verdict(None, NOW)
    assert not ok and line == "never seen"


def _status(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "appliance.cli", "status", "--wait", "1",
                           *args], capture_output=True, text=True, timeout=60)


@pytest.mark.timeout(360)  # real brokers, hubs and unit processes: slow on a loaded box
def test_status_on_the_shipped_broker_config(tmp_path):
    """The site's own Mosquitto as `motcua broker-setup` makes it (no anonymous login):
    the monitor logs in, lists the unit the site file expects but never came, and calls a
    cleanly stopped hub not OK."""
    import os
    import tomllib

    from appliance.broker import MosquittoBroker, free_port
    from appliance.bus import Bus
    from appliance.clock import SystemClock
    from appliance.config import load_unit_config
    from appliance.config.base import BrokerConfig
    from appliance.hub.bootstrap import build_hub
    from appliance.sitebroker import setup
    from tests.care_helpers import site_file

    hub_file = site_file(tmp_path / "site", "s1", {"counter-1": "counter",
                                                   "dispenser-1": "dispenser"})
    plain = free_port()
    out = tmp_path / "broker"
    conf = setup(hub_file, out, names=["localhost"], addresses=[], tls_port=free_port(),
                 plain_port=plain, run_as_root=os.geteuid() == 0)
    broker = MosquittoBroker(port=plain, workdir=tmp_path / "m", config_file=conf).start()

    def login(user: str) -> BrokerConfig:
        creds = tomllib.loads((out / "credentials" / f"{user}.toml").read_text())["broker"]
        return BrokerConfig(url=f"mqtt://127.0.0.1:{plain}", username=user,
                            password=creds["password"])

    config = load_unit_config(hub_file, data_dir=tmp_path / "hub-data")
    hub = build_hub(config.model_copy(update={"broker": login("hub")}), clock=SystemClock())
    counter = Bus(site="s1", unit="counter-1", role="counter", broker=login("counter-1"),
                  status_interval_s=2)
    url = f"mqtt://127.0.0.1:{plain}"
    monitor = ["--config", str(hub_file), "--broker", url,
               "--credentials", str(out / "credentials" / "monitor.toml")]
    try:
        hub.start()
        counter.set_status("ready")
        counter.start()
        assert hub.bus.wait_connected(10) and counter.wait_connected(10)
        time.sleep(1)
        run = _status(*monitor)
        assert run.returncode == 1, run.stdout + run.stderr
        assert "OK  hub" in run.stdout and "OK  counter-1" in run.stdout
        assert "BAD dispenser-1" in run.stdout and "never seen" in run.stdout

        # without a login the shipped broker says no, and the command says how to fix it
        refused = _status("--config", str(hub_file), "--broker", url)
        assert refused.returncode == 2 and "--credentials" in refused.stderr
        # --username/--password work as well as the credentials file
        password = login("monitor").password or ""
        direct = _status("--site", "s1", "--broker", url, "--username", "monitor",
                         "--password", password)
        assert direct.returncode == 1 and "BAD dispenser-1" in direct.stdout
        assert "OK  hub" in direct.stdout  # the hub's own inventory names dispenser-1

        hub.stop()  # a clean stop: the hub says `stopped`, which is not OK
        run = _status(*monitor)
        assert run.returncode == 1
        assert [ln for ln in run.stdout.splitlines() if ln.startswith("BAD hub ")
                and "stopped" in ln], run.stdout
    finally:
        counter.stop()
        hub.stop()
        broker.cleanup()


def test_status_needs_a_site(tmp_path):
    run = _status()
    assert run.returncode == 2 and "--site SITE or --config FILE" in run.stderr
