"""Offices sharing one store: each is an agency (its electronic identifier code), with the
names printed on its forms, the procedures it uses, its counters and the MQTT site whose
lobby boards show its figures. The store's own [store] settings describe the first office.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine, RowMapping

from appliance.config.store import StoreSection
from appliance.store.errors import StoreError
from appliance.store.schema import (
    dossiers,
    office_counters,
    office_procedures,
    offices,
    procedures,
    users,
)


@dataclass(frozen=True)
class Office:
    code: str
    name: str
    agency_name: str
    place: str
    site: str | None = None


class Offices:
    def __init__(self, engine: Engine, settings: StoreSection) -> None:
        self.engine = engine
        place = settings.agency_name.removeprefix("UBND ").strip()
        self.default = Office(settings.agency_code, settings.office_name, settings.agency_name,
                              place[:1].upper() + place[1:])
        self._cache: dict[str, Office] = {}
        # procedures in use (None: the whole catalogue) and counters, per office: read on
        # every receive and board, changed by an admin now and then
        self._procs: dict[str, frozenset[str] | None] = {}
        self._counters: dict[str, list[tuple[str, str]]] = {}
        self._sites: dict[str, str] | None = None
        self._lock = threading.Lock()

    def adopt(self) -> None:
        """Make sure the store's own office exists; dossiers and accounts from before offices
        existed (office '' / none) belong to it."""
        with self.engine.begin() as conn:
            if conn.execute(select(offices.c.code)
                            .where(offices.c.code == self.default.code)).first() is None:
                conn.execute(insert(offices).values(
                    code=self.default.code, name=self.default.name,
                    agency_name=self.default.agency_name, place=self.default.place,
                    created_at=int(time.time())))
            conn.execute(update(dossiers).where(dossiers.c.office == "")
                         .values(office=self.default.code))
            conn.execute(update(users).where(users.c.office.is_(None), users.c.role != "admin")
                         .values(office=self.default.code))

    def put(self, code: str, name: str, agency_name: str, place: str,
            site: str | None = None) -> Office:
        with self.engine.begin() as conn:
            values = {"name": name, "agency_name": agency_name, "place": place, "site": site}
            if conn.execute(select(offices.c.code).where(offices.c.code == code)).first():
                conn.execute(update(offices).where(offices.c.code == code).values(**values))
            else:
                conn.execute(insert(offices).values(code=code, created_at=int(time.time()),
                                                    **values))
        self._cache.pop(code, None)
        with self._lock:
            self._sites = None
        return Office(code, name, agency_name, place, site)

    def get(self, code: str | None) -> Office:
        if code is None:
            return self.default
        found = self._cache.get(code)
        if found is None:
            with self.engine.connect() as conn:
                row = conn.execute(select(offices).where(offices.c.code == code)).mappings().first()
            found = _office(row) if row else Office(code, code, "", "")
            self._cache[code] = found
        return found

    def all(self) -> list[Office]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(offices).order_by(offices.c.code)).mappings().all()
        return [_office(r) for r in rows]

    # ---- MQTT sites: whose boards show which office ----------------------------------
    def site_offices(self, own_site: str) -> dict[str, str]:
        """site → office code, for every office given a site; the store's own site shows
        its first office unless another office claims it."""
        with self._lock:
            sites = self._sites
        if sites is None:  # read once, until an office changes (each MQTT search asks)
            sites = {o.site: o.code for o in self.all() if o.site}
            with self._lock:
                self._sites = sites
        out = dict(sites)
        out.setdefault(own_site, self.default.code)
        return out

    def for_site(self, site: str, own_site: str) -> str | None:
        """The office whose figures the units of ``site`` see (None: a site no office has)."""
        return self.site_offices(own_site).get(site)

    # ---- procedures in use ------------------------------------------------------------
    def procedures(self, code: str) -> frozenset[str] | None:
        """The procedure codes an office uses; None when it lists none (the whole catalogue)."""
        with self._lock:
            if code in self._procs:
                return self._procs[code]
        with self.engine.connect() as conn:
            found = frozenset(conn.execute(select(office_procedures.c.procedure_code).where(
                office_procedures.c.office == code)).scalars())
        with self._lock:
            self._procs[code] = found or None
        return found or None

    def uses(self, code: str, procedure: str) -> bool:
        in_use = self.procedures(code)
        return in_use is None or procedure in in_use

    def set_procedures(self, code: str, codes: list[str]) -> None:
        """Replace the office's procedures in use (an empty list: the whole catalogue)."""
        wanted = sorted(set(codes))
        with self.engine.begin() as conn:
            known = set(conn.execute(select(procedures.c.code).where(
                procedures.c.code.in_(wanted))).scalars()) if wanted else set()
            unknown = [c for c in wanted if c not in known]
            if unknown:
                raise StoreError("bad_request", "Không có thủ tục mã " + ", ".join(unknown[:10])
                                 + " trong danh mục (no such procedure).")
            self._ensure(conn, code)
            conn.execute(delete(office_procedures).where(office_procedures.c.office == code))
            if wanted:
                conn.execute(insert(office_procedures),
                             [{"office": code, "procedure_code": c} for c in wanted])
        with self._lock:
            self._procs.pop(code, None)

    # ---- counters ---------------------------------------------------------------------
    def counters(self, code: str) -> list[tuple[str, str]]:
        """(counter id, name) of an office, in id order ([] when it lists none)."""
        with self._lock:
            if code in self._counters:
                return self._counters[code]
        with self.engine.connect() as conn:
            found = [(r[0], r[1]) for r in conn.execute(
                select(office_counters.c.counter, office_counters.c.name)
                .where(office_counters.c.office == code).order_by(office_counters.c.counter))]
        with self._lock:
            self._counters[code] = found
        return found

    def set_counters(self, code: str, counters: list[tuple[str, str]]) -> None:
        ids = [c for c, _ in counters]
        if len(set(ids)) != len(ids) or not all(0 < len(c) <= 16 for c in ids):
            raise StoreError("bad_request", "Mã quầy: tối đa 16 ký tự, không trùng nhau.")
        with self.engine.begin() as conn:
            self._ensure(conn, code)
            conn.execute(delete(office_counters).where(office_counters.c.office == code))
            if counters:
                conn.execute(insert(office_counters),
                             [{"office": code, "counter": c, "name": n} for c, n in counters])
        with self._lock:
            self._counters.pop(code, None)

    def check_counter(self, code: str, counter: str) -> None:
        """A counter of the office's list (any name when it lists none)."""
        known = self.counters(code)
        if counter and known and counter not in {c for c, _ in known}:
            raise StoreError("bad_request", f"Quầy «{counter}» không thuộc cơ quan này; chọn "
                                            "một quầy trong danh sách.")

    def _ensure(self, conn: Connection, code: str) -> None:
        if conn.execute(select(offices.c.code).where(offices.c.code == code)).first() is None:
            raise StoreError("not_found", f"Không có cơ quan mã {code} (no such office).")


def _office(r: RowMapping) -> Office:
    return Office(r["code"], r["name"], r["agency_name"], r["place"], r["site"])
