"""Staff accounts; indexes for the lobby board's ready list and the monthly figures.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("password_hash", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_dossiers_stage_ready", "dossiers", ["stage", "ready_at"])
    op.create_index("ix_dossiers_finished", "dossiers", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_dossiers_finished", table_name="dossiers")
    op.drop_index("ix_dossiers_stage_ready", table_name="dossiers")
    op.drop_table("users")
