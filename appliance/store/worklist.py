"""The desk's reads: worklists (today, mine, due today, overdue, awaiting supplement, ready
to return) and accent-insensitive search by code, name, phone or personal ID number, always
within one office. Each list is one indexed query with a LIMIT; the next page starts after
the last row shown (keyset: the sort key and the id), never at an OFFSET, and a list's size
is counted only up to COUNT_CAP ("1000+"): a page view never counts a million rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, func, or_, select

from appliance.core.dossier_code import parse_scan
from appliance.i18n import tr
from appliance.store.auth import Principal
from appliance.store.dossiers import Dossiers, ep
from appliance.store.errors import StoreError
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
COUNT_CAP = 1000
PAGE = 50

d = dossiers.c


def _columns() -> Any:
    return select(d.id, d.code, d.applicant_name, d.applicant_phone, d.applicant_id, d.stage,
                  d.received_at, d.due_at, d.ready_at, d.holder, d.received_by,
                  d.applicant_fold, procedures.c.name.label("procedure_name")).join(
        procedures, procedures.c.code == d.procedure_code)


def _like(text: str) -> Any:
    folded = fold(clean(text).strip()[:200]).replace("%", "").replace("_", "")
    return d.search_text.like(f"%{folded}%")


@dataclass(frozen=True)
class Order:
    """A list's sort: its key column, descending or not; ties broken by id (not for a
    unique key: sorting by (code, id) kept the database off the code's own index)."""
    key: Any
    desc: bool = False
    unique: bool = False

    def apply(self, q: Any, after: str | None) -> Any:
        """``q`` sorted, starting after the row the cursor ``after`` names."""
        k, i = self.key, d.id
        if after and self.unique:
            value, _ = self.parse(after)
            return q.where(k > value).order_by(k)
        if self.unique:
            return q.order_by(k)
        if after:
            value, last = self.parse(after)
            if self.desc:
                q = q.where(k <= value, or_(k < value, and_(k == value, i < last)))
            else:
                q = q.where(k >= value, or_(k > value, and_(k == value, i > last)))
        return q.order_by(k.desc(), i.desc()) if self.desc else q.order_by(k, i)

    def cursor(self, row: dict[str, Any]) -> str:
        return f"{row[self.key.name]}~{row['id']}"

    def parse(self, cursor: str) -> tuple[Any, int]:
        value, _, last = cursor.rpartition("~")
        try:
            return (int(value) if isinstance(self.key.type, Integer) else value), int(last)
        except ValueError:
            raise StoreError("bad_request", tr(
                f"Trang tiếp theo không đúng dạng: {cursor[:80]!r}",
                f"The next page's cursor is malformed: {cursor[:80]!r}")) from None


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, the cursor of the next page (None on the last), and
    the list's size counted up to COUNT_CAP (``capped``: there are more)."""
    rows: list[dict[str, Any]]
    next: str | None
    count: int | None = None
    capped: bool = False

    @property
    def count_label(self) -> str:
        return f"{self.count}+" if self.capped else str(self.count)


class Worklist:
    def __init__(self, dossiers_: Dossiers) -> None:
        self.dossiers = dossiers_

    def _page(self, q: Any, order: Order, after: str | None, limit: int) -> Page:
        rows = self._rows(order.apply(q, after), limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, order.cursor(rows[-1]) if more else None)

    def _count(self, q: Any) -> tuple[int, bool]:
        """How many rows ``q`` has, up to COUNT_CAP (and whether there are more)."""
        sub = q.with_only_columns(d.id).order_by(None).limit(COUNT_CAP + 1).subquery()
        with self.dossiers.reader.connect() as conn:
            n = int(conn.execute(select(func.count()).select_from(sub)).scalar_one())
        return min(n, COUNT_CAP), n > COUNT_CAP

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
        """The select of a worklist's first page (without LIMIT), for the benchmark."""
        q, order = self.filtered(name, who, office)
        return order.apply(q, None)

    def filtered(self, name: str, who: Principal, office: str) -> tuple[Any, Order]:
        """A worklist's select (unsorted) and its order."""
        t0, t1 = self._day()
        now = ep(self.dossiers.clock.now())
        q = _columns().where(d.office == office)
        due = Order(d.due_at)
        if name == "today":
            return (q.where(d.received_at >= t0, d.received_at < t1),
                    Order(d.received_at, desc=True))
        if name == "mine":
            return q.where(d.holder == who.name, d.stage.in_(sorted(OPEN))), due
        if name == "due_today":
            return q.where(d.stage.in_(RUNNING), d.due_at >= t0, d.due_at < t1), due
        if name == "overdue":
            return q.where(d.stage.in_(RUNNING), d.due_at < now), due
        if name == "supplement":
            return q.where(d.stage == "awaiting_supplement"), due
        if name == "ready":
            return q.where(d.stage == "ready"), Order(d.ready_at, desc=True)
        raise KeyError(name)

    def entries(self, name: str, who: Principal, office: str,
                limit: int = PAGE) -> list[dict[str, Any]]:
        return self.page(name, who, office, limit=limit).rows

    def page(self, name: str, who: Principal, office: str, after: str | None = None,
             limit: int = PAGE, count: bool = False) -> Page:
        """A page of a worklist after the cursor ``after``; with ``count``, the list's
        size up to COUNT_CAP."""
        q, order = self.filtered(name, who, office)
        page = self._page(q, order, after, limit)
        if not count:
            return page
        n, capped = self._count(q)
        return Page(page.rows, page.next, n, capped)

    def search_query(self, text: str, office: str) -> tuple[Any, bool]:
        """The select of a search box text's first page, and whether it searches names."""
        q, order, by_name = self._search(text, office)
        return order.apply(q, None), by_name

    def _search(self, text: str, office: str) -> tuple[Any, Order, bool]:
        text = clean(text).strip()[:200]
        q = _columns().where(d.office == office)
        newest = Order(d.received_at, desc=True)
        scan = parse_scan(text)
        if scan is not None:
            return q.where(d.code == scan.code), newest, False
        upper = text.upper()
        if _CODE_LIKE.match(upper) and any(c.isdigit() for c in upper) and (
                "." in upper or "-" in upper):
            return (q.where(d.code >= upper, d.code < upper + "\uffff"),
                    Order(d.code, unique=True), False)
        digits = re.sub(r"[^0-9]", "", text)
        if _DIGITS.match(text) and len(digits) == 12:
            return (q.where(or_(d.applicant_id == digits, d.applicant_phone == text)),
                    newest, False)
        if _DIGITS.match(text):
            return q.where(d.applicant_phone == text), newest, False
        return q.where(_like(text)), newest, True

    def inside_names(self, text: str, office: str, after: str | None = None,
                     limit: int = PAGE + 1) -> Any:
        """A search inside names, newest first: the ids from the index (office,
        received_at, id, search_text) alone, then their rows, so the database tests the
        text on the index's entries instead of fetching every row of the office."""
        order = Order(d.received_at, desc=True)
        ids = order.apply(select(d.id).where(d.office == office, _like(text)), after)
        return order.apply(_columns().where(d.id.in_(ids.limit(limit).scalar_subquery())),
                           None)

    def _name_prefix(self, text: str, office: str) -> Any:
        folded = fold(clean(text).strip())[:200]
        return _columns().where(d.office == office, d.applicant_fold >= folded,
                                d.applicant_fold < folded + "\uffff")

    def name_prefix_query(self, text: str, office: str) -> Any:
        """Names as officers type them, family name first: an indexed range."""
        return Order(d.applicant_fold).apply(self._name_prefix(text, office), None)

    def search(self, text: str, office: str, limit: int = PAGE) -> list[dict[str, Any]]:
        return self.search_page(text, office, limit=limit).rows

    def search_page(self, text: str, office: str, after: str | None = None,
                    limit: int = PAGE) -> Page:
        """Code, scan, ID and phone look-ups are exact; a name is first looked up as a
        prefix (indexed), then anywhere in the text (a scan of the office's dossiers).
        A cursor of the name prefix's pages starts with "p~" (so its next pages stay
        with the prefix)."""
        if not text.strip():
            return Page([], None)
        q, order, by_name = self._search(text, office)
        if not by_name:
            return self._page(q, order, after, limit)
        if after is None or after.startswith("p~"):
            prefix = self._page(self._name_prefix(text, office), Order(d.applicant_fold),
                                after[2:] if after else None, limit)
            if prefix.rows or after:
                return Page(prefix.rows, f"p~{prefix.next}" if prefix.next else None)
        rows = self._rows(self.inside_names(text, office, after, limit + 1), limit + 1)
        more = len(rows) > limit
        return Page(rows[:limit], order.cursor(rows[limit - 1]) if more else None)

    def scanned_code(self, text: str) -> str | None:
        """The dossier code of a scanned receipt (QR or Code 128), None for other text."""
        scan = parse_scan(clean(text).strip())
        return scan.code if scan else None
