"""Report summaries: each office day's and month's dossier figures (kept by triggers,
counted now for the dossiers already stored), the ticket's priority category and a day's
tickets per category (none for the tickets stored before: they had no category).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from appliance.store import dossier_summary

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queue_tickets") as b:
        b.add_column(sa.Column("category", sa.String(80), nullable=True))
    op.create_table(
        "queue_day_categories",
        sa.Column("office", sa.String(40), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("category", sa.String(80), nullable=False),
        sa.Column("issued", sa.BigInteger, nullable=False),
        sa.Column("served", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("office", "day", "category", name="uq_queue_day_categories"),
    )
    op.create_index("ix_queue_day_categories_day", "queue_day_categories", ["day"])
    op.create_table(
        "dossier_day_summary",
        sa.Column("office", sa.String(40), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("procedure_code", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("measure", sa.String(24), nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("office", "day", "procedure_code", "channel", "measure",
                            name="uq_dossier_day_summary"),
    )
    op.create_index("ix_dossier_day_summary_day", "dossier_day_summary", ["day"])
    op.create_table(
        "dossier_month_summary",
        sa.Column("office", sa.String(40), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("procedure_code", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("measure", sa.String(24), nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("office", "month", "procedure_code", "channel", "measure",
                            name="uq_dossier_month_summary"),
    )
    op.create_index("ix_dossier_month_summary_month", "dossier_month_summary", ["month"])
    # the triggers, then every dossier already stored counted once (the tickets stored
    # before 0006 have no category: nothing to count for them)
    dossier_summary.install(op.get_bind())


def downgrade() -> None:
    dossier_summary.uninstall(op.get_bind())
    op.drop_index("ix_dossier_month_summary_month", "dossier_month_summary")
    op.drop_table("dossier_month_summary")
    op.drop_index("ix_dossier_day_summary_day", "dossier_day_summary")
    op.drop_table("dossier_day_summary")
    op.drop_index("ix_queue_day_categories_day", "queue_day_categories")
    op.drop_table("queue_day_categories")
    with op.batch_alter_table("queue_tickets") as b:
        b.drop_column("category")
