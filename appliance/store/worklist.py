"""The desk's reads: worklists (today, mine, due today, overdue, awaiting supplement, ready
to return) and accent-insensitive search by code, name, phone or personal ID number, always
within one office. Each list is one indexed query with a LIMIT."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from appliance.core.dossier_code import parse_scan
from appliance.store.auth import Principal
from appliance.store.dossiers import Dossiers, ep
from appliance.store.schema import dossiers, procedures
from appliance.store.stages import LABELS, OPEN
from appliance.store.text import clean, fold

LISTS = {
    "today": "Tiếp nhận hôm nay",
    "mine": "Hồ sơ của tôi",
    "due_today": "Đến hạn hôm nay",
    "overdue": "Quá hạn",
    "supplement": "Chờ bổ sung",
    "ready": "Chờ trả kết quả",
}
RUNNING = sorted(OPEN - {"awaiting_supplement"})
_CODE_LIKE = re.compile(r"^[0-9A-Z][0-9A-Z.\-]{4,59}$")
_DIGITS = re.compile(r"^[0-9 +().-]{3,40}$")

d = dossiers.c


def _columns() -> Any:
    return select(d.code, d.applicant_name, d.applicant_phone, d.applicant_id, d.stage,
                  d.received_at, d.due_at, d.holder, d.received_by,
                  procedures.c.name.label("procedure_name")).join(
        procedures, procedures.c.code == d.procedure_code)


class Worklist:
    def __init__(self, dossiers_: Dossiers) -> None:
        self.dossiers = dossiers_

    def _rows(self, q: Any, limit: int) -> list[dict[str, Any]]:
        ds = self.dossiers
        now = ds.clock.now()
        out = []
        with ds.reader.connect() as conn:
            for r in conn.execute(q.limit(limit)).mappings():
                due = ds._dt(r["due_at"])
                out.append({**r, "stage_label": LABELS[r["stage"]],
                            "received": ds._dt(r["received_at"]), "due": due,
                            "overdue": r["stage"] in OPEN and due < now})
        return out

    def _day(self) -> tuple[int, int]:
        cal = self.dossiers.cal
        local = cal.local(self.dossiers.clock.now())
        day0 = datetime.combine(local.date(), datetime.min.time(), cal.tz)  # type: ignore[arg-type]
        return ep(day0), ep(day0 + timedelta(days=1))

    def query(self, name: str, who: Principal, office: str) -> Any:
        """The select of a worklist (without LIMIT), for the page and the benchmark."""
        t0, t1 = self._day()
        now = ep(self.dossiers.clock.now())
        q = _columns().where(d.office == office)
        if name == "today":
            return q.where(d.received_at >= t0, d.received_at < t1).order_by(
                d.received_at.desc())
        if name == "mine":
            return q.where(d.holder == who.name, d.stage.in_(sorted(OPEN))).order_by(d.due_at)
        if name == "due_today":
            return q.where(d.stage.in_(RUNNING), d.due_at >= t0, d.due_at < t1).order_by(
                d.due_at)
        if name == "overdue":
            return q.where(d.stage.in_(RUNNING), d.due_at < now).order_by(d.due_at)
        if name == "supplement":
            return q.where(d.stage == "awaiting_supplement").order_by(d.due_at)
        if name == "ready":
            return q.where(d.stage == "ready").order_by(d.ready_at.desc())
        raise KeyError(name)

    def entries(self, name: str, who: Principal, office: str,
                limit: int = 50) -> list[dict[str, Any]]:
        return self._rows(self.query(name, who, office), limit)

    def search_query(self, text: str, office: str) -> tuple[Any, bool]:
        """The select for a search box text, and whether it searches names."""
        text = clean(text).strip()[:200]
        q = _columns().where(d.office == office)
        scan = parse_scan(text)
        if scan is not None:
            return q.where(d.code == scan.code), False
        upper = text.upper()
        if _CODE_LIKE.match(upper) and any(c.isdigit() for c in upper) and (
                "." in upper or "-" in upper):
            return q.where(d.code >= upper, d.code < upper + "\uffff").order_by(d.code), False
        digits = re.sub(r"[^0-9]", "", text)
        if _DIGITS.match(text) and len(digits) == 12:
            return q.where(or_(d.applicant_id == digits, d.applicant_phone == text)
                           ).order_by(d.received_at.desc()), False
        if _DIGITS.match(text):
            return q.where(d.applicant_phone == text).order_by(d.received_at.desc()), False
        folded = fold(text).replace("%", "").replace("_", "")
        return q.where(d.search_text.like(f"%{folded}%")).order_by(
            d.received_at.desc()), True

    def name_prefix_query(self, text: str, office: str) -> Any:
        """Names as officers type them, family name first: an indexed range."""
        folded = fold(clean(text))[:200]
        return _columns().where(d.office == office, d.applicant_fold >= folded,
                                d.applicant_fold < folded + "\uffff").order_by(d.applicant_fold)

    def search(self, text: str, office: str, limit: int = 50) -> list[dict[str, Any]]:
        """Code, scan, ID and phone look-ups are exact; a name is first looked up as a
        prefix (indexed), then anywhere in the text (a scan of the office's dossiers)."""
        if not text.strip():
            return []
        q, by_name = self.search_query(text, office)
        if by_name:
            found = self._rows(self.name_prefix_query(text, office), limit)
            if found:
                return found
        return self._rows(q, limit)

    def scanned_code(self, text: str) -> str | None:
        """The dossier code of a scanned receipt (QR or Code 128), None for other text."""
        scan = parse_scan(clean(text).strip())
        return scan.code if scan else None
