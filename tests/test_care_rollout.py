"""A rollout end to end: `motcua care` announces a signed release to one site over the
site's TLS bridge (inward), the unit's updater fetches it over HTTPS, and its report comes
back over the bridge (outward): a good release is kept and shown on the province's side;
a bad one is rolled back and alerted by webhook."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

from appliance.broker import free_port
from appliance.care.bootstrap import build_care
from appliance.care.broker import CareMosquitto
from appliance.care.enrol import ensure_broker
from appliance.care.release import announcement, keygen, release_topic
from appliance.clock import VN_TZ, SystemClock
from appliance.config.base import BrokerConfig
from appliance.contract import encode
from appliance.update.bundle import Fetcher, load_public_key
from appliance.update.slots import Slots
from appliance.update.updater import Launcher, StatusWatch, Updater, python_command
from tests.care_helpers import ROOT, SimSite, WebhookSink
from tests.test_care_live import care_config
from tests.test_care_update import BAD, GOOD, _release
from tests.waiting import poll


def test_release_to_one_site_over_its_bridge(tmp_path: Path) -> None:
    hook = WebhookSink()
    port = free_port()
    config = care_config(tmp_path, hook=hook.url, smtp_port=9, web_port=port)
    pki = config.data_path / "pki"
    config = config.model_copy(update={"web": config.web.model_copy(update={
        "tls_cert": str(pki / "server.crt"), "tls_key": str(pki / "server.key"),
        "public_url": f"https://127.0.0.1:{port}"}), "alerts": config.alerts.model_copy(
            update={"email": None})})
    files = ensure_broker(config)
    keygen(config.data_path / "release.key", config.data_path / "release.pub")
    broker = CareMosquitto(files, workdir=tmp_path / "care-mosquitto",
                           port=config.broker.port, tls_port=config.care_broker.public_port)
    site = SimSite(config, "s1", {"counter-1": "counter"}, tmp_path / "s1", broker.tls_port,
                   SystemClock(VN_TZ))
    broker.start()
    care = build_care(config)
    unit = site.units["counter-1"]
    launcher = Launcher(python_command("motcua_probe", "--site", "s1", "--unit", "counter-1",
                                       "--role", "counter", "--broker", site.broker.url,
                                       "--facts", str(unit.facts)), base_path=[str(ROOT)])
    watch: StatusWatch | None = None
    todo: queue.Queue[dict | None] = queue.Queue()
    try:
        care.start()
        site.start(skip=("counter-1",))  # the updater runs it, from its slot
        watch = StatusWatch(BrokerConfig(url=site.broker.url), "s1", "counter-1")
        updater = Updater(Slots(tmp_path / "releases"),
                          load_public_key(config.data_path / "release.pub"),
                          Fetcher(pki / "ca.crt"), launcher, watch, deadline_s=20)
        watch.on_release = todo.put
        worker = threading.Thread(target=lambda: [updater.apply(a) for a in iter(todo.get,
                                                                                  None)],
                                  daemon=True)
        worker.start()
        assert poll(lambda: care.link.connected and care.web_started, 15)

        def report(version: str, state: str) -> bool:
            view = care.fleet.site("s1")
            u = next((x for x in view.units if x.unit == "counter-1"), None) if view else None
            return bool(u and u.update and u.update.get("version") == version
                        and u.update.get("state") == state)

        _release(care, tmp_path, "0.2.0", GOOD)
        care.link.publish(release_topic("s1"),
                          encode(announcement("0.2.0", config.web.public_url or "")),
                          retain=True)
        assert poll(lambda: report("0.2.0", "kept"), 60)

        def ready_on(version: str) -> bool:
            view = care.fleet.site("s1")
            return bool(view) and any(x.unit == "counter-1" and x.state == "ready" and
                                      x.facts.version == version
                                      for x in view.units)  # type: ignore[union-attr]
        assert poll(lambda: ready_on("0.2.0"), 30)

        _release(care, tmp_path, "0.3.0", BAD)
        care.link.publish(release_topic("s1"),
                          encode(announcement("0.3.0", config.web.public_url or "")),
                          retain=True)
        assert poll(lambda: report("0.3.0", "update_failed"), 60)
        assert poll(lambda: any(c["unit"] == "counter-1" and
                                (c["reason"] or "").startswith("update_failed: 0.3.0")
                                for c in hook.calls), 30), hook.calls
        assert poll(lambda: ready_on("0.2.0"), 30)  # back on the old slot
        # the planned restarts of the updates were never taken for deaths
        assert not [c for c in hook.calls if c["unit"] == "counter-1"
                    and c["state"] in ("stopped", "lost")], hook.calls
    finally:
        todo.put(None)
        launcher.stop()
        if watch is not None:
            watch.close()
        care.stop()
        site.stop()
        broker.stop()
        hook.close()
