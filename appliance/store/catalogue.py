"""The procedure catalogue: upsert, accent-insensitive search, full records, paging."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Engine, RowMapping

from appliance.store.models import ProcedureIn
from appliance.store.schema import procedures
from appliance.store.text import clean, fold

SUMMARY_FIELDS = ("code", "name", "sector", "processing_days", "fee")
FULL_FIELDS = ("code", "name", "sector", "level", "agency", "steps", "documents",
               "conditions", "processing_days", "fee", "result", "legal_basis", "method",
               "applicant")


def sample_catalogue() -> list[ProcedureIn]:
    """The shipped sample of commune-level procedures (package data)."""
    raw = resources.files("appliance.store").joinpath("data/procedures.json").read_text("utf-8")
    return [ProcedureIn.model_validate(r) for r in json.loads(raw)["procedures"]]


def _row(p: ProcedureIn, now: int) -> dict[str, Any]:
    d = p.model_dump()
    d["steps"] = json.dumps(d["steps"], ensure_ascii=False)
    d["documents"] = json.dumps(d["documents"], ensure_ascii=False)
    d["search_text"] = fold(f"{p.code} {p.name} {p.sector}")
    d["updated_at"] = now
    return d


def upsert(conn: Connection, items: Iterable[ProcedureIn]) -> tuple[int, int]:
    """Insert new procedures, replace existing ones; (added, updated)."""
    now = int(time.time())
    rows = [_row(p, now) for p in items]
    existing = set(conn.execute(
        select(procedures.c.code).where(procedures.c.code.in_([r["code"] for r in rows]))
    ).scalars()) if rows else set()
    new = [r for r in rows if r["code"] not in existing]
    old = [r for r in rows if r["code"] in existing]
    if new:
        conn.execute(insert(procedures), new)
    for r in old:
        conn.execute(update(procedures).where(procedures.c.code == r["code"]).values(**r))
    return len(new), len(old)


def full_record(row: RowMapping) -> dict[str, Any]:
    d = {k: row[k] for k in FULL_FIELDS}
    d["steps"] = json.loads(d["steps"])
    d["documents"] = json.loads(d["documents"])
    return d


def summary(row: RowMapping) -> dict[str, Any]:
    return {k: row[k] for k in SUMMARY_FIELDS}


@dataclass(frozen=True)
class _Snapshot:
    version: str
    records: dict[str, dict[str, Any]]  # code → full record, in code order
    # (" folded code name sector ", code, name, folded sector), by name
    index: list[tuple[str, str, str, str]]


class Catalogue:
    """The catalogue, read from the database once and kept in memory until it changes.

    A commune's catalogue is a few hundred procedures: searching it in memory answers in
    microseconds on either database and costs the database nothing.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._snap: _Snapshot | None = None
        self.listeners: list[Callable[[], None]] = []

    def invalidate(self) -> None:
        """Forget the cached copy (after an import); tell whoever republishes the version."""
        self._snap = None
        for listener in self.listeners:
            listener()

    def _load(self) -> _Snapshot:
        snap = self._snap
        if snap is not None:
            return snap
        with self.engine.connect() as conn:
            rows = conn.execute(select(procedures).order_by(procedures.c.code)).mappings().all()
        digest = hashlib.sha256()
        records: dict[str, dict[str, Any]] = {}
        for r in rows:
            rec = full_record(r)
            digest.update(json.dumps(rec, ensure_ascii=False, sort_keys=True).encode())
            records[rec["code"]] = rec
        index = sorted(((f" {r['search_text']} ", r["code"], r["name"], fold(r["sector"]))
                        for r in rows), key=lambda t: (t[2], t[1]))
        snap = _Snapshot(digest.hexdigest()[:16], records, index)
        self._snap = snap
        return snap

    @property
    def version(self) -> str:
        return self._load().version

    @property
    def count(self) -> int:
        return len(self._load().records)

    def search(self, q: str, sector: str | None, limit: int, offset: int = 0, *,
               only: frozenset[str] | None = None) -> tuple[list[dict[str, Any]], int]:
        """Procedures whose folded code, name or sector hold every word of ``q``; the last
        word may be unfinished (typing). Whole words, because Vietnamese syllables are
        short: "cu tru" finds "cư trú", not "của … trước". An exact code comes first.
        ``only``: the codes an office uses (None: the whole catalogue)."""
        snap = self._load()
        q = clean(q).strip()
        words = fold(q).split()[:8]
        wanted_sector = fold(clean(sector)) if sector else None
        needles = [f" {w} " for w in words[:-1]] + [f" {w}" for w in words[-1:]]
        hits = [code for text, code, _, sec in snap.index
                if (wanted_sector is None or sec == wanted_sector)
                and (only is None or code in only)
                and all(n in text for n in needles)]
        if q in snap.records and q in hits:
            hits.remove(q)
            hits.insert(0, q)
        page = hits[offset:offset + limit]
        return [{k: snap.records[c][k] for k in SUMMARY_FIELDS} for c in page], len(hits)

    def get(self, code: str) -> dict[str, Any] | None:
        found = self._load().records.get(clean(code).strip())
        return dict(found) if found is not None else None

    def page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        return list(self._load().records.values())[offset:offset + limit]

    def all_full(self) -> Sequence[dict[str, Any]]:
        return list(self._load().records.values())
