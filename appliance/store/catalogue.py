"""The procedure catalogue: upsert, accent-insensitive search, full records, paging."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from typing import Any

from sqlalchemy import Connection, case, func, insert, literal, select, update
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


class Catalogue:
    """Reads of the catalogue; the summary list is cached and reloaded when it changes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._version: str | None = None
        self._count = 0
        self.listeners: list[Callable[[], None]] = []

    def invalidate(self) -> None:
        """Forget the cached version (after an import); tell whoever republishes it."""
        self._version = None
        for listener in self.listeners:
            listener()

    def _refresh(self) -> None:
        if self._version is not None:
            return
        with self.engine.connect() as conn:
            rows = conn.execute(select(procedures).order_by(procedures.c.code)).mappings().all()
        digest = hashlib.sha256()
        for r in rows:
            digest.update(json.dumps(full_record(r), ensure_ascii=False,
                                     sort_keys=True).encode())
        self._count = len(rows)
        self._version = digest.hexdigest()[:16]

    @property
    def version(self) -> str:
        self._refresh()
        assert self._version is not None
        return self._version

    @property
    def count(self) -> int:
        self._refresh()
        return self._count

    def search(self, q: str, sector: str | None, limit: int,
               offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Procedures whose folded code, name or sector hold every word of ``q``; the last
        word may be unfinished (typing). Whole words, because Vietnamese syllables are
        short: "cu tru" finds "cư trú", not "của … trước"."""
        q, sector = clean(q), clean(sector) if sector else None
        words = fold(q).split()[:8]
        cond: list[Any] = []
        spaced = literal(" ") + procedures.c.search_text + literal(" ")
        for i, w in enumerate(words):
            escaped = w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            tail = "%" if i == len(words) - 1 else " %"
            cond.append(spaced.like(f"% {escaped}{tail}", escape="\\"))
        if sector:
            cond.append(func.lower(procedures.c.sector) == sector.lower())
        # an exact code first, then by name
        rank = case((procedures.c.code == q.strip(), 0), else_=1)
        cols = [procedures.c[k] for k in SUMMARY_FIELDS]
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(procedures)
                                 .where(*cond)).scalar_one()
            rows = conn.execute(
                select(*cols).where(*cond).order_by(rank, procedures.c.name)
                .limit(limit).offset(offset)
            ).mappings().all() if total else []
        return [summary(r) for r in rows], int(total)

    def get(self, code: str) -> dict[str, Any] | None:
        code = clean(code)
        with self.engine.connect() as conn:
            row = conn.execute(select(procedures).where(procedures.c.code == code)
                               ).mappings().first()
        return full_record(row) if row else None

    def page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(procedures).order_by(procedures.c.code)
                                .offset(offset).limit(limit)).mappings().all()
        return [full_record(r) for r in rows]

    def all_full(self) -> Sequence[dict[str, Any]]:
        return self.page(0, 1_000_000)
