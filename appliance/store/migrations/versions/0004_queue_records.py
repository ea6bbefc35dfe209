"""The hub's day records: tickets and counter openings/closings of every office.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "queue_tickets",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("office", sa.String(40), nullable=False),
        sa.Column("site", sa.String(40), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("service", sa.String(40), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False, server_default=""),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
        sa.Column("issued_hour", sa.Integer, nullable=False),
        sa.Column("first_called_at", sa.BigInteger, nullable=True),
        sa.Column("called_at", sa.BigInteger, nullable=True),
        sa.Column("finished_at", sa.BigInteger, nullable=True),
        sa.Column("counter", sa.String(16), nullable=True),
        sa.Column("officer", sa.String(40), nullable=True),
        sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rating", sa.String(20), nullable=True),
        sa.Column("rev", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("site", "day", "number", name="uq_queue_tickets_site_day_number"),
    )
    # covering: the figures of a year read the index alone (see schema.py)
    op.create_index("ix_queue_tickets_office_day", "queue_tickets", [
        "office", "day", "service", "counter", "officer", "issued_hour", "state", "rating",
        "issued_at", "first_called_at", "called_at", "finished_at"])
    op.create_index("ix_queue_tickets_day", "queue_tickets", ["day"])
    op.create_table(
        "queue_counter_events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("office", sa.String(40), nullable=False),
        sa.Column("site", sa.String(40), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("counter", sa.String(16), nullable=True),
        sa.Column("officer", sa.String(40), nullable=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("site", "day", "seq", name="uq_queue_counter_events_site_day_seq"),
    )
    op.create_index("ix_queue_counter_events_office_day", "queue_counter_events",
                    ["office", "day"])
    # a day's figures per (service, counter, officer) and its arrivals per hour, kept by
    # appliance/store/queue_summary.py (see schema.py)
    op.create_table(
        "queue_day_summary",
        sa.Column("office", sa.String(40), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("service", sa.String(40), nullable=False),
        sa.Column("counter", sa.String(16), nullable=True),
        sa.Column("officer", sa.String(40), nullable=True),
        *[sa.Column(name, sa.BigInteger, nullable=False, server_default="0")
          for name in ("issued", "served", "no_show", "expired", "wait_sum", "service_sum",
                       "service_n", "busy", "very_satisfied", "satisfied", "unsatisfied")],
        sa.Column("last_finish", sa.BigInteger, nullable=True),
        sa.Column("waits", sa.Text, nullable=True),
        sa.Column("served_waits", sa.Text, nullable=True),
    )
    op.create_index("ix_queue_day_summary_office_day", "queue_day_summary", ["office", "day"])
    op.create_index("ix_queue_day_summary_day", "queue_day_summary", ["day"])
    op.create_table(
        "queue_day_hours",
        sa.Column("office", sa.String(40), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("hour", sa.Integer, nullable=False),
        sa.Column("issued", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("office", "day", "hour", name="uq_queue_day_hours_office_day_hour"),
    )
    op.create_index("ix_queue_day_hours_day", "queue_day_hours", ["day"])


def downgrade() -> None:
    op.drop_index("ix_queue_day_hours_day", "queue_day_hours")
    op.drop_table("queue_day_hours")
    op.drop_index("ix_queue_day_summary_day", "queue_day_summary")
    op.drop_index("ix_queue_day_summary_office_day", "queue_day_summary")
    op.drop_table("queue_day_summary")
    op.drop_index("ix_queue_counter_events_office_day", "queue_counter_events")
    op.drop_table("queue_counter_events")
    op.drop_index("ix_queue_tickets_day", "queue_tickets")
    op.drop_index("ix_queue_tickets_office_day", "queue_tickets")
    op.drop_table("queue_tickets")
