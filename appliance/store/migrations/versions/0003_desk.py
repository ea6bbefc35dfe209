"""The reception desk: offices, the receipt's fields, holders, public notes, the audit log.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

_DOSSIER_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("office", sa.String(40), nullable=False, server_default=""),
    sa.Column("applicant_id", sa.String(12), nullable=False, server_default=""),
    sa.Column("applicant_email", sa.String(200), nullable=False, server_default=""),
    sa.Column("channel", sa.String(16), nullable=False, server_default="counter"),
    sa.Column("sets", sa.Integer, nullable=False, server_default="1"),
    sa.Column("fee_due", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("fee_paid", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("return_method", sa.String(16), nullable=False, server_default="counter"),
    sa.Column("return_address", sa.Text, nullable=False, server_default=""),
    sa.Column("documents", sa.Text, nullable=False, server_default="[]"),
    sa.Column("book_entry", sa.Integer, nullable=True),
    sa.Column("holder", sa.String(200), nullable=False, server_default=""),
    sa.Column("step_due", sa.BigInteger, nullable=True),
    sa.Column("search_text", sa.Text, nullable=False, server_default=""),
    sa.Column("applicant_fold", sa.String(200), nullable=False, server_default=""),
]
_HISTORY_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("action", sa.String(32), nullable=False, server_default=""),
    sa.Column("to_unit", sa.Text, nullable=False, server_default=""),
    sa.Column("public", sa.Integer, nullable=False, server_default="0"),
]
_USER_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("full_name", sa.Text, nullable=False, server_default=""),
    sa.Column("office", sa.String(40), nullable=True),
    sa.Column("officer_code", sa.String(16), nullable=False, server_default=""),
    sa.Column("active", sa.Integer, nullable=False, server_default="1"),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.BigInteger, nullable=True),
]
_INDEXES = [
    ("ix_dossiers_office_received", ["office", "received_at"]),
    ("ix_dossiers_office_due", ["office", "due_at", "stage"]),
    ("ix_dossiers_office_stage_ready", ["office", "stage", "ready_at"]),
    ("ix_dossiers_office_name", ["office", "applicant_fold"]),
    ("ix_dossiers_office_holder", ["office", "holder", "stage"]),
    ("ix_dossiers_applicant_id", ["applicant_id"]),
    ("ix_dossiers_phone", ["applicant_phone"]),
]


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as b:
        for c in _DOSSIER_COLUMNS:
            b.add_column(c)
    with op.batch_alter_table("dossier_history") as b:
        for c in _HISTORY_COLUMNS:
            b.add_column(c)
    with op.batch_alter_table("users") as b:
        for c in _USER_COLUMNS:
            b.add_column(c)
    for name, cols in _INDEXES:
        op.create_index(name, "dossiers", cols)
    op.create_table(
        "offices",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("agency_name", sa.Text, nullable=False, server_default=""),
        sa.Column("place", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("office", sa.String(40), nullable=False, server_default=""),
        sa.Column("by_user", sa.String(80), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(80), nullable=False, server_default=""),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_audit_office_id", "audit_log", ["office", "id"])
    # append-only in the database itself, whatever code (or person at a SQL prompt) runs
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'audit_log is append-only'; END $$ LANGUAGE plpgsql")
        op.execute("CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
    else:
        for what in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_log_no_{what.lower()} BEFORE {what} ON audit_log "
                       "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")


def downgrade() -> None:
    op.drop_table("audit_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("offices")
    for name, _ in _INDEXES:
        op.drop_index(name, table_name="dossiers")
    for table, cols in (("users", _USER_COLUMNS), ("dossier_history", _HISTORY_COLUMNS),
                        ("dossiers", _DOSSIER_COLUMNS)):
        with op.batch_alter_table(table) as b:
            for c in cols:
                b.drop_column(c.name)
