"""Import and export of procedures and dossiers as JSON or CSV: all rows or none.

Every row is validated before anything is written; errors name the row and the field.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection, Engine

from appliance.store import catalogue as cat
from appliance.store.dossiers import Dossiers, ep
from appliance.store.errors import StoreError
from appliance.store.models import DossierImport, ProcedureIn
from appliance.store.schema import dossiers, history, procedures
from appliance.store.text import fold

Format = Literal["json", "csv"]
M = TypeVar("M", bound=BaseModel)
MAX_ERRORS = 20
LIST_FIELDS = {"steps", "documents", "missing"}


class ImportError_(StoreError):
    """An import refused as a whole; ``problems`` names each bad row and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("bad_request", "; ".join(problems))


def _csv_rows(data: str) -> Iterator[tuple[str, dict[str, Any]]]:
    # newline="": the csv module reads line ends itself (a lone \r is one, as in old files)
    reader = csv.DictReader(io.StringIO(data.lstrip("\ufeff"), newline=""))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportError_([f"row {reader.line_num}: not valid CSV: {exc}"]) from None
        where = f"row {reader.line_num}"
        if None in row:
            raise ImportError_([f"{where}: more cells than the header has columns"])
        item: dict[str, Any] = {}
        for k, v in row.items():
            if v is None:
                raise ImportError_([f"{where}: fewer cells than the header has columns"])
            if v == "":
                continue
            if k in LIST_FIELDS:
                try:
                    item[k] = json.loads(v)
                except json.JSONDecodeError:
                    raise ImportError_([f"{where}, field {k}: not a JSON list"]) from None
            else:
                item[k] = v
        yield where, item


def _json_rows(data: str, key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ImportError_([f"not JSON: {exc.msg} at line {exc.lineno}"]) from None
    items = doc.get(key) if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ImportError_([f"expected a list or an object with a {key!r} list"])
    for i, item in enumerate(items):
        yield f"item {i}", item


def parse(model: type[M], data: str | Iterable[Any], fmt: Format, key: str,
          max_rows: int) -> list[M]:
    """Validate every row; raise ImportError_ naming the rows and fields that are wrong."""
    if isinstance(data, str):
        rows: Iterable[tuple[str, Any]] = (_csv_rows(data) if fmt == "csv"
                                           else _json_rows(data, key))
    else:
        rows = ((f"item {i}", item) for i, item in enumerate(data))
    out: list[M] = []
    problems: list[str] = []
    for n, (where, item) in enumerate(rows):
        if n >= max_rows:
            raise ImportError_([f"too many rows: at most {max_rows} per import"])
        if not isinstance(item, dict):
            problems.append(f"{where}: not an object")
            continue
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            for e in exc.errors():
                field = ".".join(str(p) for p in e["loc"]) or "(row)"
                problems.append(f"{where}, field {field}: {e['msg']}")
        if len(problems) >= MAX_ERRORS:
            break
    if problems:
        raise ImportError_(problems)
    return out


def import_procedures(engine: Engine, items: list[ProcedureIn],
                      audited: Callable[[Connection], None] | None = None) -> tuple[int, int]:
    """(added, updated); ``audited(conn)`` writes the audit row in the same transaction."""
    codes = [p.code for p in items]
    dup = {c for c in codes if codes.count(c) > 1} if len(codes) < 5000 else set()
    if len(set(codes)) != len(codes):
        raise ImportError_([f"procedure code {c!r} appears more than once" for c in
                            sorted(dup)][:MAX_ERRORS] or ["a procedure code appears twice"])
    with engine.begin() as conn:
        counts = cat.upsert(conn, items)
        if audited is not None:
            audited(conn)
        return counts


def import_dossiers(store: Dossiers, items: list[DossierImport], office: str | None = None,
                    audited: Callable[[Connection], None] | None = None) -> int:
    """Add dossiers from another system, to ``office`` (the store's first by default);
    ``audited(conn)`` writes the audit row in the same transaction."""
    problems: list[str] = []
    seen: set[str] = set()
    for i, d in enumerate(items):
        if d.code in seen:
            problems.append(f"item {i}, field code: {d.code} appears twice in the import")
        seen.add(d.code)
        for name in ("received_at", "due_at", "ready_at", "finished_at"):
            t = getattr(d, name)
            if t is not None and t.tzinfo is None:
                problems.append(f"item {i}, field {name}: needs a UTC offset")
    if problems:
        raise ImportError_(problems[:MAX_ERRORS])
    from appliance.core.dossier_code import new_secret

    with store.write_lock, store.engine.begin() as conn:
        known = set(conn.execute(select(procedures.c.code)).scalars())
        for i, d in enumerate(items):
            if d.procedure_code not in known:
                problems.append(f"item {i}, field procedure_code: no procedure "
                                f"{d.procedure_code!r}")
        existing: set[str] = set()
        codes = sorted(seen)
        for k in range(0, len(codes), 500):
            existing.update(conn.execute(select(dossiers.c.code).where(
                dossiers.c.code.in_(codes[k:k + 500]))).scalars())
        for i, d in enumerate(items):
            if d.code in existing:
                problems.append(f"item {i}, field code: dossier {d.code} already exists")
        if problems:
            raise ImportError_(problems[:MAX_ERRORS])
        days = dict(conn.execute(select(procedures.c.code, procedures.c.processing_days)).all())
        now = ep(store.clock.now())
        start = int(conn.execute(select(func.coalesce(func.max(dossiers.c.id), 0))).scalar_one())
        drows, hrows = [], []
        for n, d in enumerate(items, start=start + 1):
            due = d.due_at or store.cal.due_at(d.received_at, int(days[d.procedure_code]))
            drows.append({
                "id": n, "code": d.code, "secret": d.secret or new_secret(),
                "procedure_code": d.procedure_code, "applicant_name": d.applicant_name,
                "applicant_phone": d.applicant_phone, "applicant_address": d.applicant_address,
                "received_at": ep(d.received_at), "due_at": ep(due), "stage": d.stage,
                "paused_since": now if d.stage == "awaiting_supplement" else None,
                "ready_at": ep(d.ready_at) if d.ready_at else None,
                "finished_at": ep(d.finished_at) if d.finished_at else None,
                "missing": json.dumps(d.missing, ensure_ascii=False),
                "pickup_counter": d.pickup_counter, "received_by": "import", "note": d.note,
                "updated_at": now, "office": office or store.settings.agency,
                "search_text": fold(f"{d.code} {d.applicant_name} {d.applicant_phone}"),
                "applicant_fold": fold(d.applicant_name)[:200],
            })
            hrows.append({"dossier_id": n, "at": now, "from_stage": None, "stage": d.stage,
                          "by_user": "import", "to_user": "", "due_at": ep(due),
                          "result": None, "note": "nhập từ hệ thống khác"})
        bulk_insert(conn, drows, hrows)
        if audited is not None:
            audited(conn)
    store._changed()
    return len(items)


def bulk_insert(conn: Any, drows: list[dict[str, Any]], hrows: list[dict[str, Any]],
                batch: int = 20000) -> None:
    """Fast multi-row inserts (rows carry explicit ids); bumps PostgreSQL's id sequence."""
    for k in range(0, len(drows), batch):
        conn.execute(insert(dossiers), drows[k:k + batch])
    for k in range(0, len(hrows), batch):
        conn.execute(insert(history), hrows[k:k + batch])
    if conn.dialect.name == "postgresql" and drows:
        conn.execute(text("SELECT setval(pg_get_serial_sequence('dossiers', 'id'), "
                          "(SELECT max(id) FROM dossiers))"))


def export_procedures(engine: Engine, fmt: Format) -> str:
    rows = cat.Catalogue(engine).all_full()
    return _dump(rows, fmt, list(cat.FULL_FIELDS), "procedures")


def export_dossiers(store: Dossiers, fmt: Format) -> str:
    rows = list(store.export())
    fields = ["code", "secret", "procedure_code", "applicant_name", "applicant_phone",
              "applicant_address", "received_at", "due_at", "stage", "ready_at", "finished_at",
              "pickup_counter", "missing", "note"]
    return _dump(rows, fmt, fields, "dossiers")


def _dump(rows: Iterable[dict[str, Any]], fmt: Format, fields: list[str], key: str) -> str:
    if fmt == "json":
        return json.dumps({key: list(rows)}, ensure_ascii=False, indent=1)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (json.dumps(v, ensure_ascii=False) if k in LIST_FIELDS
                        else ("" if v is None else v)) for k, v in r.items() if k in fields})
    return buf.getvalue()


