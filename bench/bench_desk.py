"""Desk benchmark: worklists, search and Mẫu 01 over many offices, beside a bare select.

    .venv/bin/python bench/bench_desk.py [--dossiers 1000000] [--offices 50]
                                         [--db sqlite|postgresql|both] [--samples 200]

For each database: bulk-insert N dossiers spread over the offices (timed), then measure in
the same run, server time inside the store process (no HTTP):
  * a bare indexed select (code = ?) with the raw driver: the floor,
  * each worklist (today, mine, due today, overdue, awaiting supplement, ready): p50/p99,
  * search by name without accents, by phone, by personal ID, by code prefix: p50/p99,
  * the desk's worklist page rendered through the app (TestClient, in process): p50/p99,
  * Mẫu 01 PDF generation: p50/p99,
  * the process's peak RSS.
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


def fill(store: Any, n: int, offices: int, seed: int = 7) -> float:
    """Bulk-insert n dossiers (history rows too) across ``offices``; returns seconds."""
    from sqlalchemy import insert, select

    from appliance.store.schema import dossiers, history, procedures
    from appliance.store.text import fold

    rng = random.Random(seed)
    now = int(store.dossiers.clock.now().timestamp())
    with store.engine.begin() as conn:
        procs = [(c, int(d)) for c, d in conn.execute(
            select(procedures.c.code, procedures.c.processing_days))]
    for i in range(offices):
        store.offices.put(office_code(i), f"Trung tâm Phục vụ hành chính công số {i}",
                          f"UBND phường {i}", f"Phường {i}")
    t0 = time.perf_counter()
    batch = 20000
    made = 0
    while made < n:
        drows, hrows = [], []
        for k in range(made, min(n, made + batch)):
            o = k % offices
            received = now - rng.randrange(0, 365 * 86400)
            proc, days = rng.choice(procs)
            due = received + max(1, days) * 86400
            stage = rng.choice(STAGES)
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            phone = f"09{rng.randrange(10**8):08d}"
            cccd = f"0{rng.randrange(10**11):011d}"
            day = time.strftime("%y%m%d", time.gmtime(received))
            code = f"{office_code(o)}-{day}-{k // offices % 10000:04d}{k // offices // 10000}"
            drows.append({
                "id": k + 1, "code": code, "secret": "ABCDEF", "procedure_code": proc,
                "applicant_name": name, "applicant_phone": phone, "applicant_id": cccd,
                "received_at": received, "due_at": due, "stage": stage,
                "ready_at": due - 3600 if stage in ("ready", "returned") else None,
                "finished_at": due if stage == "returned" else None, "missing": "[]",
                "received_by": f"canbo{o}", "holder": f"xuly{o}" if stage == "processing" else "",
                "updated_at": received, "office": office_code(o),
                "search_text": fold(f"{code} {name} {phone} {cccd}"), "book_entry": k + 1,
                "applicant_fold": fold(name)})
            hrows.append({"dossier_id": k + 1, "at": received, "stage": "received",
                          "action": "received", "by_user": f"canbo{o}", "due_at": due})
        with store.engine.begin() as conn:
            conn.execute(insert(dossiers), drows)
            conn.execute(insert(history), hrows)
        made += len(drows)
        print(f"  {made} dossiers", end="\r", flush=True)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - t0


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


def run(db_url: str, n: int, offices: int, samples: int) -> dict[str, Any]:
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
    from sqlalchemy import func

    with store.engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(dossiers)).scalar_one()
    print(f"{store.engine.dialect.name}: {n} dossiers, {offices} offices")
    if have:  # a database kept from an earlier run (--sqlite-file)
        print(f"  reusing {have} dossiers already in the database")
    else:
        fill_s = fill(store, n, offices)
        print(f"  bulk insert: {fill_s:.1f} s ({n / fill_s:,.0f} dossiers/s)")
    o = office_code(3)
    with store.engine.connect() as conn:
        rows = conn.execute(select(dossiers.c.code, dossiers.c.applicant_phone,
                                   dossiers.c.applicant_id).where(dossiers.c.office == o)
                            .limit(samples)).all()
    codes = [r[0] for r in rows]
    base = bare_select(store, codes)
    base99 = pct(base, 99)
    print(f"  {'bare indexed select (code = ?)':<40} p50 {ms(pct(base, 50)):>10}  "
          f"p99 {ms(base99):>10}")
    who = Principal("xuly3", "processor", o)
    out: dict[str, Any] = {"db": store.engine.dialect.name, "dossiers": n, "offices": offices}
    for name in ("today", "mine", "due_today", "overdue", "supplement", "ready"):
        out[f"worklist_{name}"] = line(f"worklist {name}", timed(
            lambda name=name: store.worklist.entries(name, who, o), samples), base99)
    rng = random.Random(1)
    for label, make in (("search name (no accents)", lambda: rng.choice(
            ["nguyen van an", "tran thi hoa", "le minh tuan", "pham ngoc lan"])),
                        ("search phone", lambda: rng.choice(rows)[1]),
                        ("search CCCD", lambda: rng.choice(rows)[2]),
                        ("search code prefix", lambda: rng.choice(codes)[:-3])):
        out[label] = line(label, timed(lambda make=make: store.worklist.search(make(), o),
                                       samples), base99)
    store.users.set_user("bench", "staff", password="mat-khau-bench", office=o)
    client = TestClient(create_app(store))
    import re

    token = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/login").text)
    assert token is not None
    r = client.post("/login", data={"username": "bench", "password": "mat-khau-bench",
                                    "csrf": token.group(1)})
    assert r.url.path == "/worklist", "bench: log-in failed"
    out["page_worklist"] = line("worklist page (HTTP in process)", timed(
        lambda: client.get("/worklist?list=overdue"), samples), base99)
    out["page_search"] = line("search page (HTTP in process)", timed(
        lambda: client.get("/search?q=nguyen van an"), samples), base99)
    d = store.dossiers.get(codes[0])
    assert d is not None
    ctx = context(store, d)
    out["mau01_pdf"] = line("Mẫu 01 PDF (2 copies)", timed(lambda: receipt_pdf(ctx),
                                                           max(20, samples // 5)), base99)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of this process (store + generator): {rss:.0f} MB")
    out["rss_mb"] = rss
    store.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dossiers", type=int, default=1_000_000)
    ap.add_argument("--offices", type=int, default=50)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--sqlite-file", type=Path, help="keep (or reuse) the SQLite database here")
    args = ap.parse_args()
    results = []
    if args.db in ("sqlite", "both"):
        path = args.sqlite_file or Path(tempfile.mkdtemp(prefix="bench-desk-db-"),
                                        "store.sqlite3")
        results.append(run(f"sqlite:///{path}", args.dossiers, args.offices, args.samples))
    if args.db in ("postgresql", "both"):
        from tests.pg import PgServer

        pg = PgServer()
        pg.start()
        try:
            results.append(run(pg.new_database(), args.dossiers, args.offices, args.samples))
        finally:
            pg.stop()
    Path(tempfile.gettempdir(), "bench_desk.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
