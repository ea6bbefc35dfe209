"""Does the time of a dossier lookup tell whether its code exists? (issue 14, point 7)

For dossiers with 1, 5 and 62 history rows, times ``Dossiers.lookup`` with the right code
and a wrong secret against an unknown code (interleaved, so drift hits both alike), and,
as the baseline measured in the same run, a bare indexed SELECT of one dossier row.

    .venv/bin/python bench/bench_lookup_timing.py [--n 3000]

Goal: wrong secret − unknown code within noise (a few µs), whatever the history size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from appliance.clock import VN_TZ, ManualClock  # noqa: E402
from appliance.config.store import StoreSection  # noqa: E402
from appliance.store.core import open_store  # noqa: E402
from appliance.store.models import DossierIn  # noqa: E402
from appliance.store.schema import dossiers, history  # noqa: E402


def _median_us(fn: object, n: int) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    n = ap.parse_args().n
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(datetime(2026, 11, 30, 9, 0, tzinfo=VN_TZ))
        store = open_store(StoreSection(), data_path=Path(tmp), base_dir=Path(tmp), clock=clock)
        dos = store.dossiers
        with store.engine.connect() as conn:
            base = _median_us(lambda: conn.execute(
                select(dossiers.c.id).where(dossiers.c.code == "NONE")).all(), n)
        print(f"baseline: bare indexed SELECT {base:.1f} µs")
        for rows in (1, 5, 62):
            d = dos.create(DossierIn(procedure_code="1.001022", applicant_name="Nguyễn Văn An",
                                     applicant_phone="0912345678"), "bench")
            with store.engine.begin() as conn:
                did = conn.execute(text("SELECT id FROM dossiers WHERE code = :c"),
                                   {"c": d["code"]}).scalar_one()
                extra = [{"dossier_id": did, "at": 1796000000 + i, "stage": "received",
                          "note": f"note {i}", "by_user": "bench"} for i in range(rows - 1)]
                if extra:
                    conn.execute(insert(history), extra)
            unknown = d["code"][:-4] + "9999"
            wrong, missing = [], []
            for _ in range(5):  # interleave rounds: drift hits both alike
                wrong.append(_median_us(lambda c=d["code"]: dos.lookup(c, "WRONG1"), n // 5))
                missing.append(_median_us(lambda c=unknown: dos.lookup(c, "WRONG1"), n // 5))
            right = _median_us(lambda c=d["code"], s=d["secret"]: dos.lookup(c, s), n // 5)
            w, m = statistics.median(wrong), statistics.median(missing)
            print(f"{rows:>3} history rows: wrong secret {w:7.1f} µs, unknown code {m:7.1f} µs,"
                  f" difference {w - m:+6.1f} µs ({(w - m) / base:+.2f} × baseline); "
                  f"right secret {right:7.1f} µs")
        store.close()


if __name__ == "__main__":
    main()
