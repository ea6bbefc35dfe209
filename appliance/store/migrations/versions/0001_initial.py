"""Procedures, dossiers, their history and the daily code sequences.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "procedures",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("sector", sa.String(200), nullable=False),
        sa.Column("level", sa.String(40), nullable=False, server_default=""),
        sa.Column("agency", sa.Text, nullable=False, server_default=""),
        sa.Column("processing_days", sa.Integer, nullable=False),
        sa.Column("fee", sa.Text, nullable=False, server_default=""),
        sa.Column("method", sa.Text, nullable=False, server_default=""),
        sa.Column("applicant", sa.Text, nullable=False, server_default=""),
        sa.Column("result", sa.Text, nullable=False, server_default=""),
        sa.Column("legal_basis", sa.Text, nullable=False, server_default=""),
        sa.Column("conditions", sa.Text, nullable=False, server_default=""),
        sa.Column("steps", sa.Text, nullable=False, server_default="[]"),
        sa.Column("documents", sa.Text, nullable=False, server_default="[]"),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "dossiers",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(60), nullable=False, unique=True),
        sa.Column("secret", sa.String(16), nullable=False),
        sa.Column("procedure_code", sa.String(40), sa.ForeignKey("procedures.code"),
                  nullable=False),
        sa.Column("applicant_name", sa.Text, nullable=False),
        sa.Column("applicant_phone", sa.String(40), nullable=False, server_default=""),
        sa.Column("applicant_address", sa.Text, nullable=False, server_default=""),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("due_at", sa.BigInteger, nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("paused_since", sa.BigInteger, nullable=True),
        sa.Column("ready_at", sa.BigInteger, nullable=True),
        sa.Column("finished_at", sa.BigInteger, nullable=True),
        sa.Column("missing", sa.Text, nullable=False, server_default="[]"),
        sa.Column("pickup_counter", sa.String(16), nullable=True),
        sa.Column("received_by", sa.String(80), nullable=False, server_default=""),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_dossiers_received", "dossiers", ["received_at"])
    op.create_table(
        "dossier_history",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("dossier_id", sa.BigInteger,
                  sa.ForeignKey("dossiers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("from_stage", sa.String(32), nullable=True),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("by_user", sa.String(80), nullable=False, server_default=""),
        sa.Column("to_user", sa.String(80), nullable=False, server_default=""),
        sa.Column("due_at", sa.BigInteger, nullable=True),
        sa.Column("result", sa.String(16), nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_history_dossier", "dossier_history", ["dossier_id", "id"])
    op.create_table(
        "dossier_sequences",
        sa.Column("agency", sa.String(40), primary_key=True),
        sa.Column("day", sa.String(8), primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dossier_sequences")
    op.drop_index("ix_history_dossier", table_name="dossier_history")
    op.drop_table("dossier_history")
    op.drop_index("ix_dossiers_received", table_name="dossiers")
    op.drop_table("dossiers")
    op.drop_table("procedures")
