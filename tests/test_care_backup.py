"""Off-site backup and restore: a real hub process takes tickets while its database is
copied to the care server every second (SQLite online backup, HTTPS); the hub card dies
(kill -9, data deleted); `motcua restore` puts the copy on a fresh data folder, the hub
starts from it, the dispenser's outbox hands over the tickets it printed meanwhile, and
we count the acknowledged tickets lost: none older than the backup interval."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from appliance.backup.agent import BackupAgent, Database
from appliance.broker import MosquittoBroker
from appliance.care.bootstrap import CareServer
from appliance.care.enrol import enrol
from appliance.care.restore import restore
from appliance.care.vault import Vault
from appliance.childproc import tied_to_parent
from appliance.errors import MotcuaError
from tests import care_fixtures
from tests import test_dispenser_flow as flow
from tests.care_helpers import ROOT, site_file
from tests.waiting import poll

care = care_fixtures.care  # the HTTPS care server fixture
make_dispenser = flow.make_dispenser  # the dispenser's own test fixture
INTERVAL_S = 1.0


def _hub(conf: Path, broker: MosquittoBroker, data: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(tied_to_parent([sys.executable, "-m", "appliance.cli", "hub",
                                            "--config", str(conf), "--broker", broker.url,
                                            "--data", str(data)]), cwd=ROOT)


def test_dead_hub_rebuilt_from_the_off_site_copy(care: CareServer, broker: MosquittoBroker,
                                                 make_dispenser, tmp_path: Path) -> None:
    conf = site_file(tmp_path / "site", "demo", {"dispenser-1": "dispenser"})
    card = enrol(care.config, "s1", tmp_path / "card", card_dir=tmp_path / "card")
    data = tmp_path / "card-data" / "hub"
    hub = _hub(conf, broker, data)
    agent = BackupAgent("s1", care.config.web.public_url or "", card.password,
                        [Database("hub", data / "hub.sqlite3", "hub.sqlite3")],
                        ca_file=care.config.data_path / "pki" / "ca.crt", interval_s=INTERVAL_S)
    acked: dict[str, float] = {}
    try:
        assert poll(lambda: (data / "hub.sqlite3").exists(), 20)
        app = make_dispenser()  # the real dispenser, printing on its fake printer
        done = flow.outcomes(app)
        assert poll(lambda: app.dispenser.site is not None, 20)
        agent.start()
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            press_one(app, done)
            if done[-1].ok and not done[-1].offline:
                acked[done[-1].number] = time.monotonic()
        # the card dies: power gone mid-work, then the card itself is gone
        hub.send_signal(signal.SIGKILL)
        hub.wait()
        died = time.monotonic()
        agent.stop()
        shutil.rmtree(data)
        # meanwhile the office goes on: the dispenser prints from its offline band
        for _ in range(3):
            press_one(app, done)
        offline = [o.number for o in done if o.offline and o.ok]
        assert len(offline) == 3 and app.outbox.backlog() == 3
    finally:
        if hub.poll() is None:
            hub.kill()
            hub.wait()
    assert agent.rounds >= 3 and agent.last_ok, (agent.rounds, agent.failures)

    fresh = tmp_path / "spare-card" / "hub"
    written = restore(Vault(care.config.data_path / "backups"), "s1", fresh)
    assert [w[0] for w in written] == ["hub"]
    restored = _tickets(fresh / "hub.sqlite3")
    lost = {n: died - t for n, t in acked.items() if n not in restored}
    print(f"acknowledged {len(acked)}, restored {len(acked) - len(lost)}, lost {len(lost)}: "
          f"ages at death {sorted(round(a, 2) for a in lost.values())}")
    assert len(acked) >= 10
    # every lost ticket was acknowledged within the last backup interval (+ one copy's time)
    assert all(age <= INTERVAL_S + 1.5 for age in lost.values()), lost
    assert not (restored - set(acked)), "the copy holds tickets nobody was given?"

    # the hub starts from the copy; the dispenser's outbox fills in the offline tickets
    hub = _hub(conf, broker, fresh)
    try:
        assert poll(lambda: app.outbox.backlog() == 0, 60), app.outbox.backlog()
        after = _tickets(fresh / "hub.sqlite3")
        assert set(offline) <= after
        press_one(app, done)
        assert done[-1].ok and not done[-1].offline
        assert done[-1].number > max(restored)  # numbering goes on after the copy
    finally:
        hub.terminate()
        hub.wait(10)


def press_one(app: Any, done: list[Any]) -> None:
    """Press service A and wait for its outcome (printed online or offline, or failed)."""
    before = len(done)
    flow.press(app, flow.A_PIN)
    assert poll(lambda: len(done) > before, 10)


def _tickets(db_file: Path) -> set[str]:
    db = sqlite3.connect(db_file)
    try:
        return {n for (n,) in db.execute("SELECT number FROM tickets")}
    finally:
        db.close()


def test_backups_need_the_site_password_and_a_sound_database(care: CareServer,
                                                            tmp_path: Path) -> None:
    enrol(care.config, "s1", tmp_path / "card")
    base = care.config.web.public_url
    live = tmp_path / "x.sqlite3"
    sqlite3.connect(live).execute("CREATE TABLE t (a)").connection.commit()
    ca = care.config.data_path / "pki" / "ca.crt"
    wrong = BackupAgent("s1", base or "", "not-the-password", [Database("hub", live, "x")],
                        ca_file=ca)
    with pytest.raises(MotcuaError, match="401"):
        wrong.send(wrong.databases[0])
    # a good password but a file that is not SQLite: refused, nothing stored
    agent = BackupAgent("s1", base or "", (tmp_path / "card" / "credentials.txt").read_text()
                        .split("password = ")[1].split()[0], [Database("hub", live, "x")],
                        ca_file=ca)
    req = urllib.request.Request(f"{base}/backup/s1/hub?path=x&taken=2026-12-01T00:00:00",
                                 data=b"not a database" * 100, method="PUT",
                                 headers={"Authorization": agent.auth})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, context=agent.ctx)
    assert err.value.code == 400
    assert Vault(care.config.data_path / "backups").latest("s1") == {}
    agent.send(agent.databases[0])
    assert set(Vault(care.config.data_path / "backups").latest("s1")) == {"hub"}
