"""The audit log: who changed what and when. Append-only (database triggers refuse UPDATE
and DELETE, see migration 0003); readable by leaders and admins."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.engine import Engine

from appliance.store.schema import audit


def record(conn: Connection, by_user: str, action: str, *, office: str | None = None,
           target: str = "", at: int | None = None, **detail: Any) -> None:
    """One row in the caller's transaction: the change and its audit row land together."""
    conn.execute(insert(audit).values(
        at=int(time.time()) if at is None else at, office=office or "", by_user=by_user,
        action=action, target=target,
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else ""))


def entries(engine: Engine, office: str | None, limit: int = 100,
            before: int | None = None) -> list[dict[str, Any]]:
    """The newest entries (of one office, or all for ``office=None``), newest first."""
    q = select(audit).order_by(audit.c.id.desc()).limit(limit)
    if office is not None:
        q = q.where(audit.c.office == office)
    if before is not None:
        q = q.where(audit.c.id < before)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
