"""A real PostgreSQL server for the store's tests, started once per test run.

Register with ``pytest_plugins = ["tests.pg"]``. On a machine without PostgreSQL the
fixture FAILS (CI must test both databases; a silent skip would hide that).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from appliance.broker import free_port
from appliance.clock import VN_TZ


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql "
                           "(./run.sh test does it); the store's tests need it")
    return Path(found[-1]).parent


class PgServer:
    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="motcua-pg-"))
        self.data = self.root / "data"
        self._as_root = os.geteuid() == 0
        self._n = itertools.count(1)

    def _run(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self._as_root else list(cmd)
        return subprocess.run(full, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> None:
        if self._as_root:
            # initdb refuses root: the folder belongs to the postgres user
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres", "postgres")
        r = self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust",
                      "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8")
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr or r.stdout}")
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        r = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts,
                      "-l", str(self.root / "log"), "-w", "-t", "60", "start")
        if r.returncode != 0:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {r.stderr or r.stdout}\n{log}")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                  "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        import psycopg

        name = f"t{next(self._n)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database()


@pytest.fixture
def store_clock() -> object:
    from appliance.clock import ManualClock

    return ManualClock(datetime(2026, 11, 30, 9, 0, tzinfo=VN_TZ))


@pytest.fixture
def store(db_url: str, tmp_path: Path, store_clock: object) -> Iterator[object]:
    """A migrated store with the sample catalogue, on each database, with a manual clock."""
    from appliance.config.store import StoreSection
    from appliance.store.core import open_store

    s = open_store(StoreSection(), data_path=tmp_path / "data", base_dir=tmp_path,
                   clock=store_clock, url=db_url)  # type: ignore[arg-type]
    try:
        yield s
    finally:
        s.close()
