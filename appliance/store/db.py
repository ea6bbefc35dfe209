"""Engines and migrations: SQLite (WAL, synchronous=FULL) by default, PostgreSQL by URL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from appliance.errors import StorageError
from appliance.i18n import tr

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD = "0006"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL + synchronous=FULL + foreign keys per connection."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=8, max_overflow=8)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is off (isolation_level=None) so SAVEPOINTs and
        # DDL inside migrations behave; writers are serialised by the repository's lock
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql+"):
        return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)
    raise StorageError(tr(
        f"không dùng được địa chỉ cơ sở dữ liệu {url!r}: dùng sqlite:/// hoặc postgresql://",
        f"unsupported database URL {url!r}: use sqlite:/// or postgresql://"))


def reader_engine(engine: Engine) -> Engine:
    """An engine for reads that need no transaction. On PostgreSQL its connections stay in
    autocommit (no BEGIN/ROLLBACK round trips, nothing to reset on return); SQLite reads go
    through the main engine, whose BEGIN gives them a consistent WAL snapshot."""
    if engine.dialect.name != "postgresql":
        return engine
    return create_engine(engine.url, isolation_level="AUTOCOMMIT", pool_size=8,
                         max_overflow=8, pool_reset_on_return=None)


def _sqlite_pragmas(dbapi_conn: Any, record: Any) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (Alembic), inside one transaction."""
    # Alembic says "setup plugin ..." (on its first import), "Context impl ...", "Will
    # assume ..." and each step at INFO on every start of every store command: only its
    # warnings are worth a line, so the level is set before the import
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic import command

    try:
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), revision)
    except Exception as exc:  # any driver/Alembic fault becomes one clear error
        raise StorageError(tr(f"không nâng cấp được cơ sở dữ liệu lên {revision}: {exc}",
                              f"database migration to {revision} failed: {exc}")) from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
