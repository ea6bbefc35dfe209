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
    UniqueConstraint,
)

metadata = MetaData()


def _serial_id() -> Column[int]:
    """The row number SQLite and PostgreSQL both count up (BIGINT, INTEGER on SQLite so
    it is the rowid)."""
    return Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                  autoincrement=True)


def _office_day(*, site: bool = False) -> list[Column[str]]:
    """The keys of an office's day records (and the hub's site that sent them)."""
    return [Column("office", String(40), nullable=False),
            *([Column("site", String(40), nullable=False)] if site else []),
            Column("day", String(10), nullable=False)]

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
    _serial_id(),
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
    # the desk (migration 0003): the office (agency code) the dossier belongs to, the rest
    # of the receipt's fields, who holds it now, and folded text for accent-blind search
    Column("office", String(40), nullable=False, server_default=""),
    Column("applicant_id", String(12), nullable=False, server_default=""),
    Column("applicant_email", String(200), nullable=False, server_default=""),
    Column("channel", String(16), nullable=False, server_default="counter"),
    Column("sets", Integer, nullable=False, server_default="1"),
    Column("fee_due", BigInteger, nullable=False, server_default="0"),
    Column("fee_paid", BigInteger, nullable=False, server_default="0"),
    Column("return_method", String(16), nullable=False, server_default="counter"),
    Column("return_address", Text, nullable=False, server_default=""),
    Column("documents", Text, nullable=False, server_default="[]"),
    Column("book_entry", Integer, nullable=True),
    Column("holder", String(200), nullable=False, server_default=""),
    Column("step_due", BigInteger, nullable=True),
    Column("search_text", Text, nullable=False, server_default=""),
    # the applicant's name folded ("nguyen thi anh tuyet"): an indexed prefix search
    Column("applicant_fold", String(200), nullable=False, server_default=""),
)
Index("ix_dossiers_stage_ready", dossiers.c.stage, dossiers.c.ready_at)
# migration 0007: an office's dossiers newest first (id breaks ties: the keyset of the
# pages) with the folded text, so a search inside names reads the index, not the rows
Index("ix_dossiers_office_received_text", dossiers.c.office, dossiers.c.received_at,
      dossiers.c.id, dossiers.c.search_text)
# worklists walk an office's dossiers in due order and stop at the page's LIMIT
Index("ix_dossiers_office_due", dossiers.c.office, dossiers.c.due_at, dossiers.c.stage)
Index("ix_dossiers_office_stage_ready", dossiers.c.office, dossiers.c.stage, dossiers.c.ready_at)
Index("ix_dossiers_office_name", dossiers.c.office, dossiers.c.applicant_fold)
# migration 0005: open dossiers by due date (overdue counts of the board, the worklists)
Index("ix_dossiers_office_stage_due", dossiers.c.office, dossiers.c.stage, dossiers.c.due_at)
# migration 0007: "mine" in due order (an officer holding nothing: one index probe)
Index("ix_dossiers_office_holder_due", dossiers.c.office, dossiers.c.holder, dossiers.c.due_at)
Index("ix_dossiers_applicant_id", dossiers.c.applicant_id)
Index("ix_dossiers_phone", dossiers.c.applicant_phone)
Index("ix_dossiers_received", dossiers.c.received_at)
Index("ix_dossiers_finished", dossiers.c.finished_at)

history = Table(
    "dossier_history",
    metadata,
    _serial_id(),
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
    # the desk: what was done (handover, supplement, extend, ...), to which department or
    # agency, whether the note may be shown to the public (notes are internal by default)
    Column("action", String(32), nullable=False, server_default=""),
    Column("to_unit", Text, nullable=False, server_default=""),
    Column("public", Integer, nullable=False, server_default="0"),
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
    # the desk: full name printed on forms, office, keypad officer code, lock-out
    Column("full_name", Text, nullable=False, server_default=""),
    Column("office", String(40), nullable=True),
    Column("officer_code", String(16), nullable=False, server_default=""),
    Column("active", Integer, nullable=False, server_default="1"),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", BigInteger, nullable=True),
)

offices = Table(
    "offices",
    metadata,
    Column("code", String(40), primary_key=True),  # the agency's electronic identifier code
    Column("name", Text, nullable=False),  # e.g. Trung tâm Phục vụ hành chính công phường X
    Column("agency_name", Text, nullable=False, server_default=""),  # e.g. UBND phường X
    Column("place", Text, nullable=False, server_default=""),  # e.g. Phường X (date line)
    Column("created_at", BigInteger, nullable=False),
    # migration 0005: the MQTT site whose lobby boards show this office's figures
    Column("site", String(64), nullable=True),
)

# migration 0005: the procedures an office uses (none listed = the whole catalogue) and its
# counters (where a result is collected; none listed = any counter name)
office_procedures = Table(
    "office_procedures",
    metadata,
    Column("office", String(40), ForeignKey("offices.code", ondelete="CASCADE"),
           primary_key=True),
    Column("procedure_code", String(40), ForeignKey("procedures.code"), primary_key=True),
)

office_counters = Table(
    "office_counters",
    metadata,
    Column("office", String(40), ForeignKey("offices.code", ondelete="CASCADE"),
           primary_key=True),
    Column("counter", String(16), primary_key=True),
    Column("name", Text, nullable=False, server_default=""),
)

# log-in sessions (a hash of the cookie's token: a copy of the database opens no session)
sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("name", String(80), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)
Index("ix_sessions_name", sessions.c.name)

store_keys = Table(
    "store_keys",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(128), nullable=False),
)

audit = Table(
    "audit_log",
    metadata,
    _serial_id(),
    Column("at", BigInteger, nullable=False),
    Column("office", String(40), nullable=False, server_default=""),
    Column("by_user", String(80), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(80), nullable=False, server_default=""),
    Column("detail", Text, nullable=False, server_default=""),
)
Index("ix_audit_office_id", audit.c.office, audit.c.id)

# ---- the hub's day records (migration 0004): every office's queue history ----------------
# One row per ticket of an office day (the latest version the hub shipped: ``rev``), with
# its times in epoch seconds and the local hour it was issued (arrivals per hour of day).
queue_tickets = Table(
    "queue_tickets",
    metadata,
    _serial_id(),
    *_office_day(site=True),
    Column("number", String(16), nullable=False),
    Column("service", String(40), nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("state", String(16), nullable=False),
    Column("origin", String(16), nullable=False, server_default=""),
    Column("issued_at", BigInteger, nullable=False),
    Column("issued_hour", Integer, nullable=False),
    Column("first_called_at", BigInteger, nullable=True),
    Column("called_at", BigInteger, nullable=True),
    Column("finished_at", BigInteger, nullable=True),
    Column("counter", String(16), nullable=True),
    Column("officer", String(40), nullable=True),
    Column("calls", Integer, nullable=False, server_default="0"),
    Column("rating", String(20), nullable=True),
    Column("rev", BigInteger, nullable=False),
    # migration 0006: the priority category the ticket was issued under (elderly, disabled,
    # pregnant, ...: ticket.issue's ``category``), when the hub recorded one
    Column("category", String(80), nullable=True),
    UniqueConstraint("site", "day", "number", name="uq_queue_tickets_site_day_number"),
)
# reports read an office's days in a range: a covering index (every column the figures
# count), so a year is one sequential read of the index, not 75,000 lookups in the table
_QT = queue_tickets.c
Index("ix_queue_tickets_office_day", _QT.office, _QT.day, _QT.service, _QT.counter,
      _QT.officer, _QT.issued_hour, _QT.state, _QT.rating, _QT.issued_at, _QT.first_called_at,
      _QT.called_at, _QT.finished_at)

# Counter openings and closings (and the day's turnover, which closes every counter).
queue_counter_events = Table(
    "queue_counter_events",
    metadata,
    _serial_id(),
    *_office_day(site=True),
    Column("seq", BigInteger, nullable=False),
    Column("type", String(20), nullable=False),
    Column("counter", String(16), nullable=True),
    Column("officer", String(40), nullable=True),
    Column("at", BigInteger, nullable=False),
    UniqueConstraint("site", "day", "seq", name="uq_queue_counter_events_site_day_seq"),
)
Index("ix_queue_counter_events_office_day", queue_counter_events.c.office,
      queue_counter_events.c.day)
# a province's figures read every office's days in a range
Index("ix_queue_tickets_day", queue_tickets.c.day)

# A day's queue figures per (service, counter, officer), and its arrivals per hour: kept by
# appliance/store/queue_summary.py whenever a day's tickets arrive, so a year's report
# reads some 6,000 summed rows instead of 75,000 tickets (with each row's waits, so the
# 90th percentile stays exact).
queue_day_summary = Table(
    "queue_day_summary",
    metadata,
    *_office_day(),
    Column("service", String(40), nullable=False),
    Column("counter", String(16), nullable=True),
    Column("officer", String(40), nullable=True),
    *[Column(name, BigInteger, nullable=False, server_default="0")
      for name in ("issued", "served", "no_show", "expired", "wait_sum", "service_sum",
                   "service_n", "busy", "very_satisfied", "satisfied", "unsatisfied")],
    Column("last_finish", BigInteger, nullable=True),  # at a counter: its last finish
    # the waits (seconds) of the called tickets, and of the served ones, "," separated:
    # the exact percentile and service level without reading every ticket
    Column("waits", Text, nullable=True),
    Column("served_waits", Text, nullable=True),
)
Index("ix_queue_day_summary_office_day", queue_day_summary.c.office, queue_day_summary.c.day)
Index("ix_queue_day_summary_day", queue_day_summary.c.day)
queue_day_hours = Table(
    "queue_day_hours",
    metadata,
    *_office_day(),
    Column("hour", Integer, nullable=False),
    Column("issued", BigInteger, nullable=False),
    UniqueConstraint("office", "day", "hour", name="uq_queue_day_hours_office_day_hour"),
)
Index("ix_queue_day_hours_day", queue_day_hours.c.day)

# migration 0006: tickets issued and served per priority category of an office day
# (rebuilt with the day's summary, appliance/store/queue_summary.py).
queue_day_categories = Table(
    "queue_day_categories",
    metadata,
    Column("office", String(40), nullable=False),
    Column("day", String(10), nullable=False),
    Column("category", String(80), nullable=False),
    Column("issued", BigInteger, nullable=False),
    Column("served", BigInteger, nullable=False),
    UniqueConstraint("office", "day", "category", name="uq_queue_day_categories"),
)
Index("ix_queue_day_categories_day", queue_day_categories.c.day)

# migration 0006: a day's dossier figures per (office, local day, procedure, channel,
# measure), kept by database triggers on dossiers and dossier_history
# (appliance/store/dossier_summary.py), so a year's report reads summed rows, not 25,000
# dossiers and their history.


def _dossier_summary(period: str, width: int) -> Table:
    """The day and the month tables differ only in the period column."""
    table = Table(
        f"dossier_{period}_summary",
        metadata,
        Column("office", String(40), nullable=False),
        Column(period, String(width), nullable=False),
        Column("procedure_code", String(40), nullable=False),
        Column("channel", String(16), nullable=False),
        Column("measure", String(24), nullable=False),
        Column("n", BigInteger, nullable=False),
        UniqueConstraint("office", period, "procedure_code", "channel", "measure",
                         name=f"uq_dossier_{period}_summary"),
    )
    Index(f"ix_dossier_{period}_summary_{period}", table.c[period])
    return table


dossier_day_summary = _dossier_summary("day", 10)
# the same per local month ('YYYY-MM'): the whole months of a long period read these
dossier_month_summary = _dossier_summary("month", 7)
