"""Tables of the store (SQLAlchemy Core). Alembic migrations in ``migrations/`` create them.

Times are whole seconds since the epoch (UTC): portable across SQLite and PostgreSQL, and
range queries (today's figures, overdue) are plain integer comparisons.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

procedures = Table(
    "procedures",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("sector", String(200), nullable=False),
    Column("level", String(40), nullable=False, server_default=""),
    Column("agency", Text, nullable=False, server_default=""),
    Column("processing_days", Integer, nullable=False),
    Column("fee", Text, nullable=False, server_default=""),
    Column("method", Text, nullable=False, server_default=""),
    Column("applicant", Text, nullable=False, server_default=""),
    Column("result", Text, nullable=False, server_default=""),
    Column("legal_basis", Text, nullable=False, server_default=""),
    Column("conditions", Text, nullable=False, server_default=""),
    # JSON arrays kept as text: the same on both databases
    Column("steps", Text, nullable=False, server_default="[]"),
    Column("documents", Text, nullable=False, server_default="[]"),
    # accent-folded "code name sector" for accent-insensitive search
    Column("search_text", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

dossiers = Table(
    "dossiers",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("code", String(60), nullable=False, unique=True),
    Column("secret", String(16), nullable=False),
    Column("procedure_code", String(40), ForeignKey("procedures.code"), nullable=False),
    Column("applicant_name", Text, nullable=False),
    Column("applicant_phone", String(40), nullable=False, server_default=""),
    Column("applicant_address", Text, nullable=False, server_default=""),
    Column("received_at", BigInteger, nullable=False),
    Column("due_at", BigInteger, nullable=False),
    Column("stage", String(32), nullable=False),
    Column("paused_since", BigInteger, nullable=True),
    Column("ready_at", BigInteger, nullable=True),
    Column("finished_at", BigInteger, nullable=True),
    Column("missing", Text, nullable=False, server_default="[]"),
    Column("pickup_counter", String(16), nullable=True),
    Column("received_by", String(80), nullable=False, server_default=""),
    Column("note", Text, nullable=False, server_default=""),
    Column("updated_at", BigInteger, nullable=False),
)
Index("ix_dossiers_stage_ready", dossiers.c.stage, dossiers.c.ready_at)
Index("ix_dossiers_received", dossiers.c.received_at)
Index("ix_dossiers_finished", dossiers.c.finished_at)

history = Table(
    "dossier_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("dossier_id", BigInteger, ForeignKey("dossiers.id", ondelete="CASCADE"),
           nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("from_stage", String(32), nullable=True),
    Column("stage", String(32), nullable=False),
    Column("by_user", String(80), nullable=False, server_default=""),
    Column("to_user", String(80), nullable=False, server_default=""),
    Column("due_at", BigInteger, nullable=True),
    Column("result", String(16), nullable=True),
    Column("note", Text, nullable=False, server_default=""),
)
Index("ix_history_dossier", history.c.dossier_id, history.c.id)

sequences = Table(
    "dossier_sequences",
    metadata,
    Column("agency", String(40), primary_key=True),
    Column("day", String(8), primary_key=True),
    Column("last", Integer, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("password_hash", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
