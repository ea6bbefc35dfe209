"""Reports benchmark: the report page, its figures and the XLSX export over a year of one
busy office (SQLite) and over a province of 100 offices (PostgreSQL), beside a bare
indexed select of the same database in the same run.

    .venv/bin/python bench/bench_reports.py [--quick] [--db sqlite|postgresql|both]
        [--days 250] [--offices 100] [--province-days 22] [--tickets 300] [--dossiers 100]
        [--samples 20]

One office: ``--days`` working days of ``--tickets`` tickets and ``--dossiers`` dossiers
each (default a year: 250 days, 75,000 tickets, 25,000 dossiers), the year's report.
Province: ``--offices`` offices × ``--province-days`` days, the province's report of that
month. Each: the page (through the app, in process: TestClient) and the XLSX, p50/p99.
Goals from the issue: ≤ 500 ms for a year of one office, ≤ 2 s for the province.
``--quick`` (a month of one office, 10 offices × 5 days, 5 samples) keeps it under a
minute. Not a test: it only prints.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_desk import bare_select, line, timed  # noqa: E402
from bench.common import ms, pct  # noqa: E402

FIRST_DAY = date(2026, 1, 5)
CATEGORIES = ["Người cao tuổi", "Người khuyết tật", "Phụ nữ mang thai", "Trẻ em dưới 6 tuổi"]
RATINGS = ["very_satisfied", "satisfied", "satisfied", "unsatisfied", None, None]


def working_days(n: int) -> list[date]:
    out: list[date] = []
    d = FIRST_DAY
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def fill(store: Any, offices: list[str], days: list[date], tickets: int, dossiers_n: int,
         seed: int = 3) -> tuple[float, list[str]]:
    """Bulk-insert the records and dossiers; seconds taken and some dossier codes."""
    from sqlalchemy import select

    from appliance.clock import VN_TZ
    from appliance.store.queue_summary import rebuild_days
    from appliance.store.schema import dossiers, procedures, queue_counter_events, queue_tickets

    rng = random.Random(seed)
    with store.engine.begin() as conn:
        procs = [(c, int(d)) for c, d in conn.execute(
            select(procedures.c.code, procedures.c.processing_days))]
    for o in offices:
        store.offices.put(o, f"Trung tâm Phục vụ hành chính công {o}", f"UBND {o}", o)
    t0 = time.perf_counter()
    codes: list[str] = []
    did = 0
    for oi, office in enumerate(offices):
        office_rows: list[list[dict[str, Any]]] = [[], [], []]
        for d in days:
            t_rows, e_rows, d_rows = [], [], []
            open_at = int(datetime(d.year, d.month, d.day, 7, 30, tzinfo=VN_TZ).timestamp())
            for c in ("1", "2", "3", "4", "5", "6"):
                e_rows += [{"office": office, "site": f"s{oi}", "day": d.isoformat(),
                            "seq": int(c) * 2 + k, "type": t, "counter": c,
                            "officer": f"CB{c}", "at": open_at + k * 9 * 3600}
                           for k, t in enumerate(("counter.opened", "counter.closed"))]
            for i in range(tickets):
                issued = open_at + rng.randrange(0, 9 * 3600)
                wait = int(rng.expovariate(1 / 600))
                svc = rng.randrange(300, 900)
                c = str(rng.randrange(1, 7))
                state = rng.choices(["finished", "no_show", "expired"], [90, 6, 4])[0]
                called = issued + wait if state != "expired" else None
                t_rows.append({
                    "office": office, "site": f"s{oi}", "day": d.isoformat(),
                    "number": f"{'ABCD'[i % 4]}{i:03d}", "service": "ABCD"[i % 4],
                    "priority": int(i % 9 == 0), "state": state, "origin": "hub",
                    "category": CATEGORIES[i % 4] if i % 9 == 0 else None,
                    "issued_at": issued, "issued_hour": (issued - open_at) // 3600 + 7,
                    "first_called_at": called, "called_at": called,
                    "finished_at": called + svc if called else None,
                    "counter": c if called else None, "officer": f"CB{c}" if called else None,
                    "calls": 1, "rating": rng.choice(RATINGS) if state == "finished" else None,
                    "rev": i})
            for _ in range(dossiers_n):
                did += 1
                proc, pdays = rng.choice(procs)
                received = open_at + rng.randrange(0, 9 * 3600)
                due = received + max(1, pdays) * 86400
                done = received + rng.randrange(3600, max(2, pdays + 2) * 86400)
                stage = rng.choice(["returned", "returned", "ready", "processing",
                                    "awaiting_supplement", "refused"])
                code = f"{office}-{d:%y%m%d}-{did:06d}"
                codes.append(code)
                d_rows.append({
                    "id": did, "code": code, "secret": "ABCDEF", "procedure_code": proc,
                    "applicant_name": "Nguyễn Văn An", "received_at": received, "due_at": due,
                    "stage": stage, "office": office,
                    "channel": rng.choice(["counter", "counter", "online", "post"]),
                    "ready_at": done if stage in ("ready", "returned") else None,
                    "finished_at": done if stage in ("returned", "refused") else None,
                    "paused_since": done if stage == "awaiting_supplement" else None,
                    "updated_at": received, "search_text": "", "applicant_fold": ""})
            office_rows[0] += t_rows
            office_rows[1] += e_rows
            office_rows[2] += d_rows
        with store.engine.begin() as conn:
            for table, rows in zip((queue_tickets, queue_counter_events, dossiers),
                                   office_rows, strict=True):
                bulk_load(conn, table, rows)
            # the days' summaries, as records.put keeps them when the hub's records arrive
            # (the dossiers' are kept by the database's triggers as the rows go in)
            rebuild_days(conn, office, [d.isoformat() for d in days])
    return time.perf_counter() - t0, codes


def bulk_load(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Rows into ``table``: PostgreSQL's COPY (row triggers still fire), else one
    executemany insert."""
    from sqlalchemy import insert

    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    cols = list(rows[0])
    cursor = conn.connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in cols])
    if "id" in cols:  # explicit ids: the sequence moves past them
        conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                             f"(SELECT max(id) FROM {table.name}))")


def bare_ticket_select(store: Any, office: str | None, days: list[date], n: int,
                       whole: bool = False) -> list[float]:
    """The floor: an indexed select of a day's ticket rows (``whole``: of every day of the
    period; ``office`` None: of every office) with the raw driver."""
    url = store.engine.url
    q = "SELECT * FROM queue_tickets WHERE day >= {p} AND day <= {p}"
    args: list[str] = []
    if office is not None:
        q += " AND office = {p}"
        args = [office]

    def pick() -> list[str]:
        if whole:
            return [days[0].isoformat(), days[-1].isoformat(), *args]
        d = random.choice(days).isoformat()
        return [d, d, *args]

    if url.get_backend_name() == "sqlite":
        import sqlite3

        lite = sqlite3.connect(str(url.database))
        xs = timed(lambda: lite.execute(q.format(p="?"), pick()).fetchall(), n)
        lite.close()
        return xs
    import psycopg

    with psycopg.connect(f"host={url.host} port={url.port} user={url.username} "
                         f"dbname={url.database}", autocommit=True) as conn:
        return timed(lambda: conn.execute(q.format(p="%s"), pick()).fetchall(), n)


def measure(store: Any, label: str, query: str, samples: int, base: float,
            admin: bool) -> None:
    from fastapi.testclient import TestClient

    from appliance.store.api import create_app
    from tests.desk_helpers import log_in

    with TestClient(create_app(store)) as client:
        log_in(client, "quantri" if admin else "lanhdao")
        for path in ("/reports", "/reports/export.xlsx"):
            r = client.get(f"{path}?{query}")
            assert r.status_code == 200, r.text[:300]
            xs = timed(lambda p=path: client.get(f"{p}?{query}"), samples)
            line(f"{label}: {path}", xs, base)


def run(url: str, args: argparse.Namespace, province: bool) -> None:
    from appliance.config.store import StoreSection
    from appliance.store.core import open_store
    from tests.desk_helpers import PASSWORD

    tmp = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    store = open_store(StoreSection(), data_path=tmp, base_dir=tmp, url=url)
    kind = url.split(":")[0]
    if province:
        offices = [f"000.00.{i:02d}.P{i:02d}" for i in range(args.offices)]
        days = working_days(args.province_days)
    else:
        offices = [store.settings.agency_code]
        days = working_days(args.days)
    secs, codes = fill(store, offices, days, args.tickets, args.dossiers)
    n_t = len(offices) * len(days) * args.tickets
    print(f"\n{kind}: {len(offices)} office(s) × {len(days)} days = {n_t:,} tickets, "
          f"{len(codes):,} dossiers (filled in {secs:.1f} s)")
    store.users.set_user("lanhdao", "leader", password=PASSWORD, office=offices[0])
    store.users.set_user("quantri", "admin", password=PASSWORD, office=None)
    base_d = bare_select(store, random.sample(codes, min(len(codes), 200)))
    base_t = bare_ticket_select(store, offices[0], days, 200)
    print(f"  {'bare indexed select (dossier code = ?)':<40} p50 {ms(pct(base_d, 50)):>10}  "
          f"p99 {ms(pct(base_d, 99)):>10}")
    print(f"  {'bare indexed select (a day of tickets)':<40} p50 {ms(pct(base_t, 50)):>10}  "
          f"p99 {ms(pct(base_t, 99)):>10}")
    whole = bare_ticket_select(store, None if province else offices[0], days, 3, whole=True)
    print(f"  {'bare select of the whole period':<40} p50 {ms(pct(whole, 50)):>10}  "
          f"p99 {ms(pct(whole, 99)):>10}  (every ticket row the report counts)")
    base = pct(base_t, 99)
    q = f"kind=range&at={days[0]}&until={days[-1]}"
    measure(store, "province" if province else "office", q, args.samples, base,
            admin=province)
    store.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--days", type=int, default=250)
    ap.add_argument("--offices", type=int, default=100)
    ap.add_argument("--province-days", type=int, default=22)
    ap.add_argument("--tickets", type=int, default=300)
    ap.add_argument("--dossiers", type=int, default=100)
    ap.add_argument("--samples", type=int, default=20)
    args = ap.parse_args()
    if args.quick:
        args.days, args.offices, args.province_days, args.samples = 22, 10, 5, 5
    if args.db in ("sqlite", "both"):
        run(f"sqlite:///{tempfile.mkdtemp(prefix='bench-reports-db-')}/store.sqlite3", args,
            province=False)
    if args.db in ("postgresql", "both"):
        from tests.pg import PgServer

        pg = PgServer()
        pg.start()
        try:
            run(pg.new_database(), args, province=True)
        finally:
            pg.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
