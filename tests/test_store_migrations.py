"""Alembic migrations on SQLite and PostgreSQL: from empty, and upgrading kept data."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from appliance.errors import StorageError
from appliance.store import db
from appliance.store.schema import metadata

pytest_plugins = ["tests.pg"]


def test_empty_database_to_head_matches_the_schema(db_url: str) -> None:
    engine = db.make_engine(db_url)
    assert db.current_revision(engine) is None
    db.migrate(engine)
    assert db.current_revision(engine) == db.HEAD
    with engine.connect() as conn:
        # the migrations build exactly the tables and indexes schema.py describes
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    db.migrate(engine)  # running again on start is a no-op
    assert db.current_revision(engine) == db.HEAD
    engine.dispose()


def test_upgrade_keeps_data(db_url: str) -> None:
    engine = db.make_engine(db_url)
    db.migrate(engine, "0001")
    assert "users" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO procedures (code, name, sector, processing_days, search_text, "
            "updated_at) VALUES ('1.001193', 'Đăng ký khai sinh', 'Hộ tịch', 0, "
            "'1.001193 dang ky khai sinh ho tich', 0)"))
        conn.execute(text(
            "INSERT INTO dossiers (code, secret, procedure_code, applicant_name, received_at, "
            "due_at, stage, updated_at) VALUES ('000.00.06.G04-261130-0001', 'ABCDEF', "
            "'1.001193', 'Trần Thị Bình', 1, 2, 'received', 3)"))
    db.migrate(engine)
    assert db.current_revision(engine) == db.HEAD
    assert "users" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        name = conn.execute(text("SELECT applicant_name FROM dossiers")).scalar_one()
    assert name == "Trần Thị Bình"
    engine.dispose()


def test_sqlite_is_durable_wal(tmp_path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 's.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


def test_unreachable_database_is_a_clear_error() -> None:
    engine = db.make_engine("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StorageError, match="migration to head failed"):
        db.migrate(engine)
    with pytest.raises(StorageError, match="unsupported database URL"):
        db.make_engine("mysql://x/y")
