"""Offices sharing one store: each is an agency (its electronic identifier code), with the
names printed on its forms. The store's own [store] settings describe the first office."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from appliance.config.store import StoreSection
from appliance.store.schema import dossiers, offices, users


@dataclass(frozen=True)
class Office:
    code: str
    name: str
    agency_name: str
    place: str


class Offices:
    def __init__(self, engine: Engine, settings: StoreSection) -> None:
        self.engine = engine
        place = settings.agency_name.removeprefix("UBND ").strip()
        self.default = Office(settings.agency_code, settings.office_name, settings.agency_name,
                              place[:1].upper() + place[1:])
        self._cache: dict[str, Office] = {}

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

    def put(self, code: str, name: str, agency_name: str, place: str) -> Office:
        with self.engine.begin() as conn:
            values = {"name": name, "agency_name": agency_name, "place": place}
            if conn.execute(select(offices.c.code).where(offices.c.code == code)).first():
                conn.execute(update(offices).where(offices.c.code == code).values(**values))
            else:
                conn.execute(insert(offices).values(code=code, created_at=int(time.time()),
                                                    **values))
        self._cache.pop(code, None)
        return Office(code, name, agency_name, place)

    def get(self, code: str | None) -> Office:
        if code is None:
            return self.default
        found = self._cache.get(code)
        if found is None:
            with self.engine.connect() as conn:
                row = conn.execute(select(offices).where(offices.c.code == code)).mappings().first()
            found = (Office(row["code"], row["name"], row["agency_name"], row["place"])
                     if row else Office(code, code, "", ""))
            self._cache[code] = found
        return found

    def all(self) -> list[Office]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(offices).order_by(offices.c.code)).mappings().all()
        return [Office(r["code"], r["name"], r["agency_name"], r["place"]) for r in rows]
