"""A dossier store on a real PostgreSQL, backed up off-site with pg_dump (custom format)
over the same checked HTTPS upload as the SQLite copies, then restored with pg_restore
into a fresh database on the spare machine: every dossier of the copy is back and the
dossier codes go on after them. A cut or altered dump is refused and the last good copy
stays."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from appliance.backup import pgdump
from appliance.backup.agent import BackupAgent, Database
from appliance.care.bootstrap import CareServer
from appliance.care.enrol import enrol
from appliance.care.restore import restore
from appliance.care.vault import Vault
from appliance.clock import VN_TZ, ManualClock
from appliance.config.store import StoreSection
from appliance.errors import MotcuaError
from appliance.store.core import open_store
from tests import care_fixtures
from tests.test_store_dossiers import receive

pytest_plugins = ["tests.pg"]
care = care_fixtures.care  # the HTTPS care server fixture
pytestmark = pytest.mark.postgres


def _codes(url: str) -> set[str]:
    info, _env = pgdump.conninfo(url)
    with psycopg.connect(info) as conn:
        return {c for (c,) in conn.execute("SELECT code FROM dossiers")}


def _drop(server: Any, url: str) -> None:
    with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres",
                         autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {url.rsplit('/', 1)[1]} WITH (FORCE)")


def test_postgresql_store_dumped_off_site_and_restored(care: CareServer, pg_server: Any,
                                                       tmp_path: Path) -> None:
    url = pg_server.new_database()
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ))
    store = open_store(StoreSection(), data_path=tmp_path / "data", base_dir=tmp_path,
                       clock=clock, url=url)
    card = enrol(care.config, "s1", tmp_path / "card", card_dir=tmp_path / "card")
    ca = care.config.data_path / "pki" / "ca.crt"
    agent = BackupAgent("s1", care.config.web.public_url or "", card.password,
                        [Database("store", Path("store.pgdump"), "store.pgdump", url=url)],
                        ca_file=ca)
    try:
        copied = {receive(store)["code"] for _ in range(5)}
        agent.round()
        assert agent.failures == 0 and "store" in agent.last_ok
        after = receive(store)["code"]  # made after the copy: not in it
    finally:
        store.close()
    vault = Vault(care.config.data_path / "backups")
    meta = vault.latest("s1")["store"]
    assert meta["kind"] == "pg_dump" and Path(meta["source"]).read_bytes()[:5] == b"PGDMP"

    # a dump cut short in transit (its checksum says so), or cut and re-summed: refused
    body = Path(meta["source"]).read_bytes()
    half = body[:len(body) // 2]
    for digest in (hashlib.sha256(body).hexdigest(), hashlib.sha256(half).hexdigest()):
        query = {"path": "store.pgdump", "kind": "pg_dump", "taken": "2026-12-02T00:00:00",
                 "sha256": digest}
        req = urllib.request.Request(
            f"{care.config.web.public_url}/backup/s1/store?{urllib.parse.urlencode(query)}",
            data=half, method="PUT", headers={"Authorization": agent.auth})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, context=agent.ctx)
        assert err.value.code == 400
    assert vault.latest("s1")["store"]["file"] == meta["file"]  # the good copy stays

    # the store's machine dies with its database; a spare PostgreSQL gets the copy
    _drop(pg_server, url)
    spare = pg_server.new_database()
    done = restore(vault, "s1", tmp_path / "spare", {"store": spare})
    assert [d[0] for d in done] == ["store"]
    assert _codes(spare) == copied and after not in copied
    back = open_store(StoreSection(), data_path=tmp_path / "data2", base_dir=tmp_path,
                      clock=clock, url=spare)
    try:
        nxt = receive(back)["code"]
        assert nxt not in copied and nxt > max(copied)  # numbering goes on after the copy
    finally:
        back.close()

    # a PostgreSQL copy cannot be loaded into a SQLite name, and the other way round
    with pytest.raises(MotcuaError, match="no copy of that name"):
        restore(vault, "s1", tmp_path / "spare", {"hub": spare})
