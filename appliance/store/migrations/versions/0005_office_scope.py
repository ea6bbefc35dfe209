"""Many offices, one store: each office's procedures in use, its counters and the MQTT site
whose boards show its figures; log-in sessions kept in the database (they survive a
restart) and the key the forms' CSRF tokens are signed with.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the board's overdue counts and the overdue worklist: open dossiers of an office by
    # due date, without walking its closed ones
    op.create_index("ix_dossiers_office_stage_due", "dossiers", ["office", "stage", "due_at"])
    with op.batch_alter_table("offices") as b:
        b.add_column(sa.Column("site", sa.String(64), nullable=True))
    op.create_table(
        "office_procedures",
        sa.Column("office", sa.String(40), sa.ForeignKey("offices.code", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("procedure_code", sa.String(40), sa.ForeignKey("procedures.code"),
                  primary_key=True),
    )
    op.create_table(
        "office_counters",
        sa.Column("office", sa.String(40), sa.ForeignKey("offices.code", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("counter", sa.String(16), primary_key=True),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sessions_name", "sessions", ["name"])
    op.create_table(
        "store_keys",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_index("ix_dossiers_office_stage_due", table_name="dossiers")
    op.drop_table("store_keys")
    op.drop_index("ix_sessions_name", table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("office_counters")
    op.drop_table("office_procedures")
    with op.batch_alter_table("offices") as b:
        b.drop_column("site")
