"""A day's dossier figures kept beside the dossiers: per (office, local day, procedure,
channel, measure) a count, and the same per local month (a year's report reads twelve
months of rows, not 250 days of them: with a hundred dossiers a day spread over fifty
procedures, a day's rows are hardly fewer than its dossiers). Kept by database triggers
(migration 0006) in the same transaction as every insert, update or delete of a dossier
and every step added to its history — whichever code writes it (the desk, the API, an
import, a bulk load).

The measures, each counted on the local day it happened (docs/reports.md):

- ``received``: on the day of ``received_at``;
- ``early`` / ``on_time`` / ``late``: a dossier whose stage is now ``ready`` or
  ``returned``, on the day of its ``ready_at``, judged against its appointment as the
  desk does (early when the result's local date is before the appointment's);
- ``refused`` / ``stopped`` / ``withdrawn``: a dossier that ended so, on the day of its
  ``finished_at``; ``returned_post``: returned by post, on that day;
- ``supplement_asked`` / ``passed_on``: a history step into ``awaiting_supplement`` /
  ``liaison``, on the day of the step.

A change subtracts the dossier's old contributions (its old row) and adds its new ones, so
the counts always equal what a GROUP BY over the raw rows gives (tests/
test_reports_dossier_summary.py checks it on random data, on both databases). History is
append-only (nothing in the store edits or deletes a step); a dossier moved to another
office, procedure or channel carries its steps with it.

The local day is whole days of (epoch + 7 h): Vietnam keeps no summer time, so one
offset holds for every date (the reports' calendar, appliance/clock.VN_TZ).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

OFFSET_S = 7 * 3600
STEPS = {"awaiting_supplement": "supplement_asked", "liaison": "passed_on"}
# (table, its period column): the day's rows and the month's
GRAINS = (("dossier_day_summary", "day"), ("dossier_month_summary", "month"))


def _key(grain: str) -> str:
    return f"office, {grain}, procedure_code, channel, measure"


def _upsert(table: str, grain: str) -> str:
    return f" ON CONFLICT ({_key(grain)}) DO UPDATE SET n = {table}.n + excluded.n"


def _when(dialect: str, ts: str, grain: str) -> str:
    """The local day ('YYYY-MM-DD') or month ('YYYY-MM') of the epoch seconds ``ts``."""
    if dialect == "postgresql":
        fmt = "YYYY-MM-DD" if grain == "day" else "YYYY-MM"
        return f"to_char(DATE '1970-01-01' + (({ts} + {OFFSET_S}) / 86400)::int, '{fmt}')"
    fmt = "%Y-%m-%d" if grain == "day" else "%Y-%m"
    return f"strftime('{fmt}', {ts} + {OFFSET_S}, 'unixepoch')"


def _branches(dialect: str, r: str, grain: str) -> list[tuple[str, str, str]]:
    """(day or month, measure, condition) of each contribution of the dossier row ``r``."""
    early = f"({r}.ready_at + {OFFSET_S}) / 86400 < ({r}.due_at + {OFFSET_S}) / 86400"
    outcome = (f"CASE WHEN {early} THEN 'early' WHEN {r}.ready_at <= {r}.due_at "
               f"THEN 'on_time' ELSE 'late' END")
    return [
        (_when(dialect, f"{r}.received_at", grain), "'received'", "1 = 1"),
        (_when(dialect, f"{r}.ready_at", grain), outcome,
         f"{r}.stage IN ('ready', 'returned') AND {r}.ready_at IS NOT NULL"),
        (_when(dialect, f"{r}.finished_at", grain), f"{r}.stage",
         f"{r}.stage IN ('refused', 'stopped', 'withdrawn') AND {r}.finished_at IS NOT NULL"),
        (_when(dialect, f"{r}.finished_at", grain), "'returned_post'",
         f"{r}.stage = 'returned' AND {r}.return_method = 'post' "
         f"AND {r}.finished_at IS NOT NULL"),
    ]


def _step_measure(h: str) -> str:
    return (f"CASE {h}.stage WHEN 'awaiting_supplement' THEN 'supplement_asked' "
            f"ELSE 'passed_on' END")


def _row_facts(dialect: str, r: str, sign: int) -> str:
    """The upserts adding ``sign`` × the contributions of the trigger's row ``r``."""
    out = []
    for table, grain in GRAINS:
        parts = [f"SELECT {r}.office AS office, {when} AS {grain}, {r}.procedure_code AS "
                 f"procedure_code, {r}.channel AS channel, {measure} AS measure, {sign} AS n "
                 f"WHERE {cond}" for when, measure, cond in _branches(dialect, r, grain)]
        # "WHERE 1 = 1": SQLite's parser needs a WHERE between a SELECT and ON CONFLICT
        out.append(f"INSERT INTO {table} ({_key(grain)}, n) SELECT * FROM ("
                   + " UNION ALL ".join(parts) + ") AS f WHERE 1 = 1" + _upsert(table, grain))
    return "; ".join(out)


def _row_steps(dialect: str, r: str, sign: int) -> str:
    """The upserts adding ``sign`` × the history steps of the dossier ``r``."""
    out = []
    for table, grain in GRAINS:
        when = _when(dialect, "h.at", grain)
        out.append(
            f"INSERT INTO {table} ({_key(grain)}, n) SELECT {r}.office, {when}, "
            f"{r}.procedure_code, {r}.channel, {_step_measure('h')}, {sign} * count(*) "
            f"FROM dossier_history h WHERE h.dossier_id = {r}.id "
            f"AND h.stage IN ('awaiting_supplement', 'liaison') GROUP BY 2, 5"
            + _upsert(table, grain))
    return "; ".join(out)


def _new_step(dialect: str) -> str:
    """The upserts adding the step NEW (a history row) to its dossier's office and day."""
    return "; ".join(
        f"INSERT INTO {table} ({_key(grain)}, n) SELECT d.office, "
        f"{_when(dialect, 'NEW.at', grain)}, d.procedure_code, d.channel, "
        f"{_step_measure('NEW')}, 1 FROM dossiers d WHERE d.id = NEW.dossier_id"
        + _upsert(table, grain) for table, grain in GRAINS)


_WATCHED = ("office, procedure_code, channel, stage, received_at, ready_at, finished_at, "
            "due_at, return_method")
_MOVED = ("OLD.office {op} NEW.office OR OLD.procedure_code {op} NEW.procedure_code "
          "OR OLD.channel {op} NEW.channel")


def _sqlite_triggers() -> list[str]:
    d = "sqlite"
    return [
        f"CREATE TRIGGER dossier_summary_insert AFTER INSERT ON dossiers BEGIN "
        f"{_row_facts(d, 'NEW', 1)}; END",
        f"CREATE TRIGGER dossier_summary_update AFTER UPDATE OF {_WATCHED} ON dossiers BEGIN "
        f"{_row_facts(d, 'OLD', -1)}; {_row_facts(d, 'NEW', 1)}; END",
        f"CREATE TRIGGER dossier_summary_move AFTER UPDATE OF office, procedure_code, channel "
        f"ON dossiers WHEN {_MOVED.format(op='IS NOT')} BEGIN "
        f"{_row_steps(d, 'OLD', -1)}; {_row_steps(d, 'NEW', 1)}; END",
        f"CREATE TRIGGER dossier_summary_delete BEFORE DELETE ON dossiers BEGIN "
        f"{_row_facts(d, 'OLD', -1)}; {_row_steps(d, 'OLD', -1)}; END",
        f"CREATE TRIGGER dossier_summary_step AFTER INSERT ON dossier_history "
        f"WHEN NEW.stage IN ('awaiting_supplement', 'liaison') BEGIN {_new_step(d)}; END",
    ]


def _postgresql_triggers() -> list[str]:
    d = "postgresql"
    return [
        f"""CREATE FUNCTION dossier_summary_dossiers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    {_row_facts(d, 'OLD', -1)};
    {_row_steps(d, 'OLD', -1)};
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    {_row_facts(d, 'OLD', -1)};
    IF {_MOVED.format(op='IS DISTINCT FROM')} THEN
      {_row_steps(d, 'OLD', -1)};
      {_row_steps(d, 'NEW', 1)};
    END IF;
  END IF;
  {_row_facts(d, 'NEW', 1)};
  RETURN NEW;
END $$""",
        f"""CREATE FUNCTION dossier_summary_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_new_step(d)};
  RETURN NEW;
END $$""",
        f"CREATE TRIGGER dossier_summary_write AFTER INSERT OR UPDATE OF {_WATCHED} "
        f"ON dossiers FOR EACH ROW EXECUTE FUNCTION dossier_summary_dossiers()",
        "CREATE TRIGGER dossier_summary_delete BEFORE DELETE ON dossiers "
        "FOR EACH ROW EXECUTE FUNCTION dossier_summary_dossiers()",
        "CREATE TRIGGER dossier_summary_step AFTER INSERT ON dossier_history FOR EACH ROW "
        "WHEN (NEW.stage IN ('awaiting_supplement', 'liaison')) "
        "EXECUTE FUNCTION dossier_summary_step()",
    ]


def install(conn: Connection) -> None:
    """Create the triggers (migration 0006), then count every dossier already stored."""
    pg = conn.dialect.name == "postgresql"
    for stmt in _postgresql_triggers() if pg else _sqlite_triggers():
        conn.exec_driver_sql(stmt)
    backfill(conn)


def uninstall(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for t, table in (("dossier_summary_write", "dossiers"),
                         ("dossier_summary_delete", "dossiers"),
                         ("dossier_summary_step", "dossier_history")):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {t} ON {table}")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS dossier_summary_dossiers()")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS dossier_summary_step()")
        return
    for t in ("insert", "update", "move", "delete", "step"):
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS dossier_summary_{t}")


def backfill(conn: Connection) -> None:
    """Count every stored dossier and step again from scratch (the same rules as the
    triggers, grouped)."""
    dialect = conn.dialect.name
    for table, grain in GRAINS:
        conn.exec_driver_sql(f"DELETE FROM {table}")
        for when, measure, cond in _branches(dialect, "d", grain):
            conn.exec_driver_sql(
                f"INSERT INTO {table} ({_key(grain)}, n) SELECT d.office, {when}, "
                f"d.procedure_code, d.channel, {measure}, count(*) FROM dossiers d "
                f"WHERE {cond} GROUP BY 1, 2, 3, 4, 5" + _upsert(table, grain))
        when = _when(dialect, "h.at", grain)
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({_key(grain)}, n) SELECT d.office, {when}, "
            f"d.procedure_code, d.channel, {_step_measure('h')}, count(*) "
            f"FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id "
            f"WHERE h.stage IN ('awaiting_supplement', 'liaison') GROUP BY 1, 2, 3, 4, 5"
            + _upsert(table, grain))
