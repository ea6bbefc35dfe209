"""Desk benchmark: worklists, search and Mẫu 01 over many offices, beside a bare select.

    .venv/bin/python bench/bench_desk.py            # quick: 20,000 dossiers, 5 offices
    .venv/bin/python bench/bench_desk.py --full     # 1,000,000 dossiers across 50 offices
        [--dossiers N] [--offices N] [--db sqlite|postgresql|both] [--samples 200]

For each database: bulk-load N dossiers spread over the offices with the raw driver (COPY
on PostgreSQL; timed), then measure in
the same run, server time inside the store process (no HTTP):
  * a bare indexed select (code = ?) with the raw driver: the floor,
  * each worklist (today, mine, due today, overdue, awaiting supplement, ready): p50/p99,
    "mine" of an officer holding nothing, a next page (keyset), a bounded count,
  * search by name without accents (a prefix; inside names; a name not there), by phone,
    by personal ID, by code prefix: p50/p99,
  * every worklist tab and every kind of search as a page through the app (TestClient,
    in process; the session and the template included): p50/p99,
  * the board figures of one office (published per site over MQTT),
  * Mẫu 01 PDF generation: p50/p99, beside a bare one-line fpdf page,
  * the process's RSS (now and peak).
Goals from the issue: p99 ≤ 150 ms for the page and search, ≤ 300 ms for Mẫu 01.
Not a test: it only prints.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import ms, pct  # noqa: E402

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Đức", "Thanh", "Quốc"]
GIVEN = ["An", "Bình", "Cường", "Dung", "Hà", "Hải", "Hoa", "Hùng", "Lan", "Long", "Mai",
         "Nam", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Tuấn", "Tuyết", "Việt"]
STAGES = ["received", "processing", "awaiting_supplement", "liaison", "ready", "returned",
          "returned", "returned"]


def office_code(i: int) -> str:
    return f"000.00.{i:02d}.H{i:02d}"


COLUMNS = ("id", "code", "secret", "procedure_code", "applicant_name", "applicant_phone",
           "applicant_id", "received_at", "due_at", "stage", "ready_at", "finished_at",
           "missing", "received_by", "holder", "updated_at", "office", "search_text",
           "book_entry", "applicant_fold")
HISTORY = ("dossier_id", "at", "stage", "action", "by_user", "due_at")


def rows(store: Any, n: int, offices: int, seed: int = 7) -> Any:
    """(dossier, history row) tuples, generated as they are loaded (no million-row list)."""
    from functools import lru_cache

    from sqlalchemy import select

    from appliance.store.schema import procedures
    from appliance.store.text import fold

    rng = random.Random(seed)
    now = int(store.dossiers.clock.now().timestamp())
    with store.engine.begin() as conn:
        procs = [(c, int(d)) for c, d in conn.execute(
            select(procedures.c.code, procedures.c.processing_days))]
    folded = lru_cache(maxsize=None)(fold)
    day_of = lru_cache(maxsize=None)(lambda d: time.strftime("%y%m%d", time.gmtime(d * 86400)))
    codes = [office_code(i) for i in range(offices)]
    names = [f"{f} {m} {g}" for f in FAMILY for m in MIDDLE for g in GIVEN]
    # two 64-bit draws a row, cut into the fields (random.choice per field was most of
    # the load's time)
    for k in range(n):
        a, b = rng.getrandbits(64), rng.getrandbits(64)
        o = codes[k % offices]
        received = now - a % (365 * 86400)
        proc, days = procs[(a >> 25) % len(procs)]
        due = received + max(1, days) * 86400
        stage = STAGES[(a >> 35) % len(STAGES)]
        name = names[(a >> 40) % len(names)]
        phone = f"09{b % 10**8:08d}"
        cccd = f"0{(b >> 27) % 10**11:011d}"
        code = f"{o}-{day_of(received // 86400)}-{k // offices % 10000:04d}" \
               f"{k // offices // 10000}"
        f = folded(name)
        yield ((k + 1, code, "ABCDEF", proc, name, phone, cccd, received, due, stage,
                due - 3600 if stage in ("ready", "returned") else None,
                due if stage == "returned" else None, "[]", f"canbo{k % offices}",
                f"xuly{k % offices}" if stage == "processing" else "", received, o,
                f"{code.lower()} {f} {phone} {cccd}", k + 1, f),
               (k + 1, received, "received", "received", f"canbo{k % offices}", due))


def fill(store: Any, n: int, offices: int) -> float:
    """Bulk-load n dossiers (and their first history rows) across ``offices`` with the raw
    driver: COPY on PostgreSQL, one executemany per 50,000 rows on SQLite (synchronous off
    while loading). Returns seconds."""
    for i in range(offices):
        store.offices.put(office_code(i), f"Trung tâm Phục vụ hành chính công số {i}",
                          f"UBND phường {i}", f"Phường {i}")
    from appliance.store.schema import dossiers

    t0 = time.perf_counter()
    # the indexes are built once over the loaded rows, not kept up row by row
    with store.engine.begin() as conn:
        for ix in dossiers.indexes:
            ix.drop(conn)
    url = store.engine.url
    if url.get_backend_name() == "sqlite":
        import itertools
        import sqlite3

        lite = sqlite3.connect(str(url.database), isolation_level=None)
        lite.execute("PRAGMA synchronous=OFF")
        dq = (f"INSERT INTO dossiers ({', '.join(COLUMNS)}) VALUES "
              f"({', '.join('?' * len(COLUMNS))})")
        hq = (f"INSERT INTO dossier_history ({', '.join(HISTORY)}) VALUES "
              f"({', '.join('?' * len(HISTORY))})")
        it = rows(store, n, offices)
        made = 0
        while batch := list(itertools.islice(it, 50000)):
            lite.execute("BEGIN")
            lite.executemany(dq, [d for d, _ in batch])
            lite.executemany(hq, [h for _, h in batch])
            lite.execute("COMMIT")
            made += len(batch)
            print(f"  {made} dossiers", end="\r", flush=True)
        lite.close()
    else:
        import psycopg

        with psycopg.connect(f"host={url.host} port={url.port} user={url.username} "
                             f"dbname={url.database}") as conn, conn.cursor() as cur:
            # two passes over the same seeded rows: the history's foreign key needs its
            # dossiers first, and a million rows are not worth keeping in memory
            with cur.copy(f"COPY dossiers ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for made, (d, _) in enumerate(rows(store, n, offices), 1):
                    copy.write_row(d)
                    if made % 50000 == 0:
                        print(f"  {made} dossiers", end="\r", flush=True)
            with cur.copy(f"COPY dossier_history ({', '.join(HISTORY)}) FROM STDIN") as copy:
                for _, h in rows(store, n, offices):
                    copy.write_row(h)
            cur.execute("SELECT setval(pg_get_serial_sequence('dossiers', 'id'), %s)", (n,))
            conn.commit()
    loaded = time.perf_counter() - t0
    with store.engine.begin() as conn:
        for ix in sorted(dossiers.indexes, key=lambda ix: str(ix.name)):
            ix.create(conn)
        conn.exec_driver_sql("ANALYZE")
    if url.get_backend_name() != "sqlite":
        # what autovacuum does after a load (PostgreSQL 13+ vacuums after inserts too):
        # the visibility map that lets a search read an index alone
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE dossiers")
    print(f"  rows loaded in {loaded:.1f} s, indexes built in "
          f"{time.perf_counter() - t0 - loaded:.1f} s")
    return time.perf_counter() - t0


def rss_mb() -> float:
    """The process's resident memory now (not its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(fn: Any, samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def line(label: str, xs: list[float], base: float) -> dict[str, float]:
    p50, p99 = pct(xs, 50), pct(xs, 99)
    print(f"  {label:<40} p50 {ms(p50):>10}  p99 {ms(p99):>10}  ({p99 / base:7.1f}× bare p99)")
    return {"p50_ms": p50 * 1000, "p99_ms": p99 * 1000}


def bare_select(store: Any, codes: list[str]) -> list[float]:
    url = store.engine.url
    if url.get_backend_name() == "sqlite":
        import sqlite3

        lite = sqlite3.connect(str(url.database))
        q = "SELECT * FROM dossiers WHERE code = ?"
        xs = timed(lambda: lite.execute(q, (random.choice(codes),)).fetchone(), len(codes))
        lite.close()
        return xs
    import psycopg

    with psycopg.connect(f"host={url.host} port={url.port} user={url.username} "
                         f"dbname={url.database}", autocommit=True) as conn:
        return timed(lambda: conn.execute("SELECT * FROM dossiers WHERE code = %s",
                                          (random.choice(codes),)).fetchone(), len(codes))


def run(db_url: str, n: int, offices: int, samples: int,
        explain: bool = False) -> dict[str, Any]:
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from appliance.config.store import StoreSection
    from appliance.store.api import create_app
    from appliance.store.auth import Principal
    from appliance.store.core import open_store
    from appliance.store.forms.receipt import receipt_pdf
    from appliance.store.schema import dossiers
    from appliance.store.web.printing import context

    tmp = Path(tempfile.mkdtemp(prefix="bench-desk-"))
    store = open_store(StoreSection(), data_path=tmp, base_dir=tmp, url=db_url)
    rss_at_open = rss_mb()
    from sqlalchemy import func

    with store.engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(dossiers)).scalar_one()
    print(f"{store.engine.dialect.name}: {n} dossiers, {offices} offices")
    if have:  # a database kept from an earlier run (--sqlite-file)
        print(f"  reusing {have} dossiers already in the database")
    else:
        fill_s = fill(store, n, offices)
        print(f"  bulk insert: {fill_s:.1f} s ({n / fill_s:,.0f} dossiers/s)")
    o = office_code(min(3, offices - 1))
    with store.engine.connect() as conn:
        sample = conn.execute(select(dossiers.c.code, dossiers.c.applicant_phone,
                                     dossiers.c.applicant_id).where(dossiers.c.office == o)
                              .limit(samples)).all()
    codes = [r[0] for r in sample]
    base = bare_select(store, codes)
    base99 = pct(base, 99)
    print(f"  {'bare indexed select (code = ?)':<40} p50 {ms(pct(base, 50)):>10}  "
          f"p99 {ms(base99):>10}")
    who = Principal("xuly3", "processor", o)
    out: dict[str, Any] = {"db": store.engine.dialect.name, "dossiers": n, "offices": offices}
    for name in ("today", "mine", "due_today", "overdue", "supplement", "ready"):
        out[f"worklist_{name}"] = line(f"worklist {name}", timed(
            lambda name=name: store.worklist.entries(name, who, o), samples), base99)
    nobody = Principal("nobody", "staff", o)
    out["worklist_mine_none"] = line("worklist mine (holds nothing)", timed(
        lambda: store.worklist.entries("mine", nobody, o), samples), base99)
    second = store.worklist.page("overdue", who, o).next
    out["worklist_overdue_page2"] = line("worklist overdue, next page (keyset)", timed(
        lambda: store.worklist.page("overdue", who, o, second), samples), base99)
    out["worklist_count"] = line("overdue + bounded count (≤ 1000+)", timed(
        lambda: store.worklist.page("overdue", who, o, count=True), samples), base99)
    rng = random.Random(1)
    for label, make in (("search inside names (van tuan)", lambda: rng.choice(
            ["van tuan", "thi hoa", "minh long", "ngoc mai"])),
                        ("search a name not there", lambda: rng.choice(
            ["khong co ai", "zzz yyy"])),
                        ("search name (no accents)", lambda: rng.choice(
            ["nguyen van an", "tran thi hoa", "le minh tuan", "pham ngoc lan"])),
                        ("search phone", lambda: rng.choice(sample)[1]),
                        ("search CCCD", lambda: rng.choice(sample)[2]),
                        ("search code prefix", lambda: rng.choice(codes)[:-3])):
        out[label] = line(label, timed(lambda make=make: store.worklist.search(make(), o),
                                       samples), base99)
    if explain:
        plans(store, who, o, sample)
    store.users.set_user("bench", "staff", password="mat-khau-bench", office=o)
    client = TestClient(create_app(store))
    import re

    token = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/login").text)
    assert token is not None
    r = client.post("/login", data={"username": "bench", "password": "mat-khau-bench",
                                    "csrf": token.group(1)})
    assert r.url.path == "/worklist", "bench: log-in failed"
    for name in ("today", "mine", "due_today", "overdue", "supplement", "ready"):
        out[f"page_{name}"] = line(f"page /worklist?list={name}", timed(
            lambda name=name: ok(client.get("/worklist", params={"list": name})),
            samples), base99)
    for label, make in (("name", lambda: rng.choice(
            ["nguyen van an", "tran thi hoa", "le minh tuan", "pham ngoc lan"])),
                        ("phone", lambda: rng.choice(sample)[1]),
                        ("CCCD", lambda: rng.choice(sample)[2]),
                        ("code", lambda: rng.choice(codes)[:-3])):
        out[f"page_search_{label}"] = line(f"page /search by {label}", timed(
            lambda make=make: ok(client.get("/search", params={"q": make()})),
            samples), base99)
    # the board of one office (what the store publishes per site, and answers dossier.board)
    out["board_office"] = line("board figures of one office", timed(
        lambda: store.dossiers.board(30, o), max(10, samples // 10)), base99)
    # a different dossier each time (its codes are not the ones just drawn)
    ctxs = [context(store, d) for d in map(store.dossiers.get, codes[:50]) if d is not None]
    turn = iter(range(10**9))
    t0 = time.perf_counter()
    receipt_pdf(ctxs[0])
    print(f"  {'Mẫu 01, first of the process (fonts)':<40} {ms(time.perf_counter() - t0):>14}")
    blank = timed(bare_pdf, 20)
    print(f"  {'bare fpdf page (core font, one line)':<40} p50 {ms(pct(blank, 50)):>10}  "
          f"p99 {ms(pct(blank, 99)):>10}")
    cpu: list[float] = []

    def receipt() -> None:
        c0 = time.process_time()
        receipt_pdf(ctxs[next(turn) % len(ctxs)])
        cpu.append(time.process_time() - c0)

    out["mau01_pdf"] = line("Mẫu 01 PDF (2 copies)", timed(receipt, max(50, samples // 2)),
                            base99)
    out["mau01_pdf_cpu"] = line("Mẫu 01 PDF, CPU time of the process", cpu, base99)
    print(f"  {'':<40} ({out['mau01_pdf']['p99_ms'] / 1000 / pct(blank, 99):.1f}× the bare "
          f"fpdf page's p99)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    now_mb = rss_mb()
    print(f"  RSS of this process (the store with its web app, after the runs): "
          f"{now_mb:.0f} MB now, {peak:.0f} MB peak (loading included); "
          f"{rss_at_open:.0f} MB after opening the store")
    out.update(rss_mb=now_mb, rss_peak_mb=peak, rss_open_mb=rss_at_open)
    store.close()
    return out


def plans(store: Any, who: Any, office: str, sample: Any) -> None:
    """The database's plan of each worklist and search query (EXPLAIN QUERY PLAN on
    SQLite, EXPLAIN ANALYZE on PostgreSQL), as the page runs it."""
    from appliance.store.worklist import LISTS

    wl = store.worklist
    queries = [(f"worklist {n}", wl.query(n, who, office).limit(51)) for n in LISTS]
    queries += [(f"search {t!r}", wl.search_query(t, office)[0].limit(51))
                for t in (sample[0][1], sample[0][2], sample[0][0][:-3])]
    queries.append(("search name prefix", wl.name_prefix_query("nguyen van an", office)
                    .limit(51)))
    queries.append(("search inside names", wl.inside_names("van tuan", office)))
    sqlite = store.engine.dialect.name == "sqlite"
    with store.engine.connect() as conn:
        for label, q in queries:
            sql = str(q.compile(store.engine, compile_kwargs={"literal_binds": True}))
            head = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, COSTS OFF) "
            plan = conn.exec_driver_sql(head + sql).all()
            print(f"  -- {label}")
            for r in plan:
                print("     " + (str(r[-1]) if sqlite else str(r[0])))


def ok(r: Any) -> None:
    """A page that failed would be timed as fast: refuse it."""
    if r.status_code != 200:
        raise SystemExit(f"bench: {r.url} answered {r.status_code}")


def bare_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "Giay tiep nhan ho so")
    return bytes(pdf.output())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true",
                    help="the issue's scale: 1,000,000 dossiers across 50 offices")
    ap.add_argument("--dossiers", type=int, default=None, help="default 20000 (quick)")
    ap.add_argument("--offices", type=int, default=None, help="default 5 (quick)")
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--explain", action="store_true", help="print each query's plan")
    ap.add_argument("--sqlite-file", type=Path, help="keep (or reuse) the SQLite database here")
    args = ap.parse_args()
    if args.dossiers is None:
        args.dossiers = 1_000_000 if args.full else 20_000
    if args.offices is None:
        args.offices = 50 if args.full else 5
    results = []
    if args.db in ("sqlite", "both"):
        path = args.sqlite_file or Path(tempfile.mkdtemp(prefix="bench-desk-db-"),
                                        "store.sqlite3")
        results.append(run(f"sqlite:///{path}", args.dossiers, args.offices, args.samples,
                           args.explain))
    if args.db in ("postgresql", "both"):
        from tests.pg import PgServer

        pg = PgServer()
        pg.start()
        try:
            results.append(run(pg.new_database(), args.dossiers, args.offices, args.samples,
                               args.explain))
        finally:
            pg.stop()
    Path(tempfile.gettempdir(), "bench_desk.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
