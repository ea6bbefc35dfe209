"""Dossiers: receive (code + secret), move stages, update, look up, and the board figures."""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, RowMapping

from appliance.clock import Clock, rfc3339
from appliance.core.dossier_code import new_secret
from appliance.i18n import tr
from appliance.store.calendar import WorkCalendar, timing
from appliance.store.db import reader_engine
from appliance.store.errors import StoreError
from appliance.store.models import DossierIn, DossierUpdate, StageMove
from appliance.store.schema import dossiers, history, procedures, sequences
from appliance.store.stages import LABELS, OPEN, Progress, completed_at, move
from appliance.store.text import clean, fold, mask_name

# writes a change's audit row (conn, office, dossier code) inside the change's transaction
Audited = Callable[[Connection, str, str], None]


def ep(when: datetime) -> int:
    return int(when.timestamp())


@dataclass
class DossierSettings:
    agency: str
    code_format: str


class Dossiers:
    def __init__(self, engine: Engine, cal: WorkCalendar, clock: Clock,
                 settings: DossierSettings) -> None:
        self.engine = engine
        self.cal = cal
        self.clock = clock
        self.settings = settings
        # one writer at a time in this process: SQLite has one write lock anyway, and the
        # daily sequence must never hand out the same number twice
        self.write_lock = threading.Lock()
        self.listeners: list[Any] = []
        # reads need no transaction: on PostgreSQL that saves a BEGIN and a ROLLBACK round
        # trip per lookup (SQLite keeps its own BEGIN hook for the WAL snapshot)
        self.reader = reader_engine(engine)
        d = dossiers.c
        self._lookup_query = (
            select(d.code, d.secret, d.procedure_code, d.applicant_name, d.received_at,
                   d.due_at, d.stage, d.ready_at, d.finished_at, d.missing, d.pickup_counter,
                   procedures.c.name.label("procedure_name"), history.c.at.label("h_at"),
                   history.c.stage.label("h_stage"),
                   # notes are internal unless the officer marked one public
                   case((history.c.public == 1, history.c.note), else_="").label("h_note"))
            .join(procedures, procedures.c.code == d.procedure_code)
            .outerjoin(history, history.c.dossier_id == d.id)
            .where(d.code == bindparam("code"), d.secret == bindparam("secret"))
            .order_by(history.c.id)
        )

    def _dt(self, t: int) -> datetime:
        return datetime.fromtimestamp(t, self.cal.tz)  # type: ignore[arg-type]

    def _dto(self, t: int | None) -> datetime | None:
        return None if t is None else self._dt(t)

    def _iso(self, t: int | None) -> str | None:
        return None if t is None else rfc3339(self._dt(t))

    def _changed(self) -> None:
        for listener in self.listeners:
            listener()

    # ---- writes --------------------------------------------------------------------
    def _next_seq(self, conn: Connection, day: date, agency: str | None = None,
                  key: str | None = None) -> int:
        """The next number of a sequence: the daily one of an agency, or another ``key``
        (e.g. the tracking book's yearly entry number)."""
        ins = (postgresql.insert(sequences) if conn.dialect.name == "postgresql"
               else sqlite.insert(sequences))
        stmt = ins.values(agency=agency or self.settings.agency,
                          day=key or day.strftime("%Y%m%d"), last=1)
        stmt = stmt.on_conflict_do_update(index_elements=["agency", "day"],
                                          set_={"last": sequences.c.last + 1})
        return int(conn.execute(stmt.returning(sequences.c.last)).scalar_one())

    def _procedure(self, conn: Connection, code: str) -> RowMapping:
        row = conn.execute(select(procedures.c.code, procedures.c.name,
                                  procedures.c.processing_days)
                           .where(procedures.c.code == code)).mappings().first()
        if row is None:
            raise StoreError("bad_request", tr(
                f"procedure_code: không có thủ tục {code!r}",
                f"procedure_code: no procedure {code!r}"))
        return row

    def received_time(self, given: datetime | None, reason: str) -> datetime:
        """``received_at`` is the server's clock. A correction (an admin's, checked by the
        caller) needs a reason and never lies in the future."""
        now = self.clock.now()
        if given is None:
            return now
        if given.tzinfo is None:
            raise StoreError("bad_request", "received_at: cần múi giờ (needs a UTC offset)")
        if not reason.strip():
            raise StoreError("bad_request", "received_at: chỉ quản trị được sửa thời gian tiếp "
                                            "nhận, và phải ghi lý do (needs a reason)")
        if given > now:
            raise StoreError("bad_request", "received_at: không được ở tương lai "
                                            "(may not lie in the future)")
        return given

    def allocate_code(self, conn: Connection, agency: str, day: date) -> str:
        for _ in range(100):
            code = self.settings.code_format.format(agency=agency, date=day,
                                                    seq=self._next_seq(conn, day, agency))
            taken = conn.execute(select(dossiers.c.id).where(dossiers.c.code == code)).first()
            if taken is None:
                return code
        raise StoreError("conflict", "Hết số hồ sơ trong ngày (no free dossier code for today)")

    def insert_new(self, conn: Connection, values: dict[str, Any], by_user: str,
                   received: datetime, note: str = "") -> tuple[int, str]:
        """Insert a received dossier (``values``: its columns besides code, times and stage)
        and its first history row, in ``conn``; returns (id, code)."""
        proc = self._procedure(conn, values["procedure_code"])
        office = values.setdefault("office", self.settings.agency)
        due = self.cal.due_at(received, int(proc["processing_days"]))
        day = self.cal.local(received).date()
        code = self.allocate_code(conn, office, day)
        values["search_text"] = fold(" ".join([
            code, values["applicant_name"], values.get("applicant_phone", ""),
            values.get("applicant_id", ""), values.get("applicant_email", "")]))
        values["applicant_fold"] = fold(values["applicant_name"])[:200]
        values["book_entry"] = self._next_seq(conn, day, office, f"Y{day.year}")
        did = conn.execute(insert(dossiers).values(
            code=code, secret=new_secret(), received_at=ep(received), due_at=ep(due),
            stage="received", received_by=by_user, note=note,
            updated_at=ep(self.clock.now()), **values).returning(dossiers.c.id)).scalar_one()
        conn.execute(insert(history).values(
            dossier_id=did, at=ep(received), from_stage=None, stage="received",
            action="received", by_user=by_user, due_at=ep(due), note=note))
        return int(did), code

    def create(self, d: DossierIn, by_user: str, office: str | None = None,
               audited: Audited | None = None) -> dict[str, Any]:
        """``audited(conn, office, code)``: writes the change's audit row in its transaction."""
        received = self.received_time(d.received_at, d.received_at_reason)
        office = office or self.settings.agency
        with self.write_lock, self.engine.begin() as conn:
            _, code = self.insert_new(conn, {
                "procedure_code": d.procedure_code, "applicant_name": d.applicant_name,
                "applicant_phone": d.applicant_phone,
                "applicant_address": d.applicant_address,
                "missing": json.dumps(d.missing, ensure_ascii=False),
                "office": office}, by_user, received, d.note)
            if audited is not None:
                audited(conn, office, code)
        self._changed()
        result = self.get(code)
        assert result is not None
        return result

    def _locked_row(self, conn: Connection, code: str) -> RowMapping:
        q = select(dossiers).where(dossiers.c.code == clean(code))
        if conn.dialect.name == "postgresql":
            q = q.with_for_update()
        row = conn.execute(q).mappings().first()
        if row is None:
            raise StoreError("not_found", tr(f"không có hồ sơ {code!r}",
                                                f"no dossier {code!r}"))
        return row

    def move_stage(self, code: str, m: StageMove, by_user: str,
                   audited: Audited | None = None) -> dict[str, Any]:
        now = self.clock.now()
        with self.write_lock, self.engine.begin() as conn:
            row = self._locked_row(conn, code)
            before = self._progress(row)
            after = move(before, m.stage, now, self.cal)
            result = None
            done = completed_at(after)
            if m.stage == "ready" and done is not None:
                result = timing(after.due_at, done, now, self.cal)
            values: dict[str, Any] = {
                "stage": after.stage, "due_at": ep(after.due_at),
                "paused_since": ep(after.paused_since) if after.paused_since else None,
                "ready_at": ep(after.ready_at) if after.ready_at else None,
                "finished_at": ep(after.finished_at) if after.finished_at else None,
                "updated_at": ep(now),
            }
            if m.missing is not None:
                values["missing"] = json.dumps(m.missing, ensure_ascii=False)
            elif m.stage == "processing" and before.stage == "awaiting_supplement":
                values["missing"] = "[]"
            if m.pickup_counter is not None:
                values["pickup_counter"] = m.pickup_counter
            conn.execute(update(dossiers).where(dossiers.c.id == row["id"]).values(**values))
            conn.execute(insert(history).values(
                dossier_id=row["id"], at=ep(now), from_stage=before.stage, stage=after.stage,
                by_user=by_user, to_user=m.to_user, due_at=ep(after.due_at), result=result,
                note=m.note, public=int(m.public), action=m.stage))
            if audited is not None:
                audited(conn, row["office"], row["code"])
        self._changed()
        out = self.get(code)
        assert out is not None
        return out

    def update(self, code: str, u: DossierUpdate, by_user: str,
               audited: Audited | None = None) -> dict[str, Any]:
        values = {k: v for k, v in u.model_dump(exclude_unset=True).items() if v is not None}
        if "missing" in values:
            values["missing"] = json.dumps(values["missing"], ensure_ascii=False)
        with self.write_lock, self.engine.begin() as conn:
            row = self._locked_row(conn, code)
            if values:
                values["updated_at"] = ep(self.clock.now())
                conn.execute(update(dossiers).where(dossiers.c.id == row["id"]).values(**values))
            if audited is not None:
                audited(conn, row["office"], row["code"])
        self._changed()
        out = self.get(code)
        assert out is not None
        return out

    # ---- reads ---------------------------------------------------------------------
    def _progress(self, row: RowMapping) -> Progress:
        return Progress(stage=row["stage"], due_at=self._dt(row["due_at"]),
                        paused_since=self._dto(row["paused_since"]),
                        ready_at=self._dto(row["ready_at"]),
                        finished_at=self._dto(row["finished_at"]))

    def _status(self, row: RowMapping, now: datetime) -> tuple[str | None, str | None]:
        p = self._progress(row)
        if p.stage in ("refused", "stopped", "withdrawn"):
            return None, None
        t = timing(p.due_at, completed_at(p), now, self.cal)
        return ("on_time" if t == "not_yet_due" else t), t

    def _history(self, conn: Connection, did: int, *, private: bool) -> list[dict[str, Any]]:
        rows = conn.execute(select(history).where(history.c.dossier_id == did)
                            .order_by(history.c.id)).mappings().all()
        out = []
        for h in rows:
            item: dict[str, Any] = {"at": rfc3339(self._dt(h["at"])),
                                    "stage": h["stage"], "stage_label": LABELS[h["stage"]],
                                    "note": h["note"] if private or h["public"] else ""}
            if private:
                item.update(from_stage=h["from_stage"], by=h["by_user"], to=h["to_user"],
                            due_at=self._iso(h["due_at"]),
                            result=h["result"], action=h["action"], to_unit=h["to_unit"],
                            public=bool(h["public"]))
            out.append(item)
        return out

    def _view(self, conn: Connection, row: RowMapping, *, private: bool) -> dict[str, Any]:
        now = self.clock.now()
        status, when = self._status(row, now)
        view: dict[str, Any] = {
            "code": row["code"],
            "procedure": {"code": row["procedure_code"], "name": row["procedure_name"]},
            "applicant": mask_name(row["applicant_name"]),
            "stage": row["stage"],
            "stage_label": LABELS[row["stage"]],
            "received_at": rfc3339(self._dt(row["received_at"])),
            "due_at": rfc3339(self._dt(row["due_at"])),
            "status": status,
            "timing": when,
            "missing": json.loads(row["missing"]),
            "ready": row["stage"] == "ready",
            "pickup_counter": row["pickup_counter"],
            "history": self._history(conn, row["id"], private=private),
        }
        if private:
            view.update(secret=row["secret"], applicant_name=row["applicant_name"],
                        applicant_phone=row["applicant_phone"],
                        applicant_address=row["applicant_address"],
                        received_by=row["received_by"], note=row["note"],
                        ready_at=self._iso(row["ready_at"]),
                        finished_at=self._iso(row["finished_at"]),
                        office=row["office"], applicant_id=row["applicant_id"],
                        applicant_email=row["applicant_email"], channel=row["channel"],
                        sets=row["sets"], fee_due=row["fee_due"], fee_paid=row["fee_paid"],
                        return_method=row["return_method"],
                        return_address=row["return_address"],
                        documents=json.loads(row["documents"]),
                        book_entry=row["book_entry"], holder=row["holder"],
                        step_due=self._iso(row["step_due"]))
        return view

    def _select(self) -> Any:
        return select(dossiers, procedures.c.name.label("procedure_name")).join(
            procedures, procedures.c.code == dossiers.c.procedure_code)

    def get(self, code: str) -> dict[str, Any] | None:
        """The whole dossier, personal data included: staff only."""
        code = clean(code)
        with self.engine.connect() as conn:
            row = conn.execute(self._select().where(dossiers.c.code == code)).mappings().first()
            return self._view(conn, row, private=True) if row else None

    def lookup(self, code: str, secret: str) -> dict[str, Any] | None:
        """The public, masked view; None for an unknown code and a wrong secret alike.

        The hot path of the lookup terminal: one prepared query (dossier, procedure name and
        history rows joined) whether or not the code exists.
        """
        code, secret = clean(code).strip().upper()[:80], clean(secret).strip().upper()[:20]
        # The secret is part of the query: an unknown code and a wrong secret both stop at
        # the code's index entry and read no history, so their answers take the same time
        # whatever the dossier's history (comparing after reading let the history size
        # show through: +37 to +316 µs for 1 to 62 rows).
        with self.reader.connect() as conn:
            rows = conn.execute(self._lookup_query, {"code": code, "secret": secret}).all()
        if not rows or not hmac.compare_digest(rows[0].secret.encode(), secret.encode()):
            return None
        r = rows[0]
        now = self.clock.now()
        due = self._dt(r.due_at)
        p = Progress(stage=r.stage, due_at=due, ready_at=self._dto(r.ready_at),
                     finished_at=self._dto(r.finished_at))
        status = when = None
        if p.stage not in ("refused", "withdrawn"):
            when = timing(due, completed_at(p), now, self.cal)
            status = "on_time" if when == "not_yet_due" else when
        return {
            "code": r.code,
            "procedure": {"code": r.procedure_code, "name": r.procedure_name},
            "applicant": mask_name(r.applicant_name),
            "stage": r.stage,
            "stage_label": LABELS[r.stage],
            "received_at": rfc3339(self._dt(r.received_at)),
            "due_at": rfc3339(due),
            "status": status,
            "timing": when,
            "missing": json.loads(r.missing),
            "ready": r.stage == "ready",
            "pickup_counter": r.pickup_counter,
            "history": [{"at": rfc3339(self._dt(h.h_at)), "stage": h.h_stage,
                         "stage_label": LABELS[h.h_stage], "note": h.h_note}
                        for h in rows if h.h_at is not None],
        }

    def export(self) -> Iterator[dict[str, Any]]:
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=2000).execute(
                select(dossiers).order_by(dossiers.c.id)).mappings()
            for r in result:
                yield {
                    "code": r["code"], "secret": r["secret"],
                    "procedure_code": r["procedure_code"],
                    "applicant_name": r["applicant_name"],
                    "applicant_phone": r["applicant_phone"],
                    "applicant_address": r["applicant_address"],
                    "received_at": rfc3339(self._dt(r["received_at"])),
                    "due_at": rfc3339(self._dt(r["due_at"])),
                    "stage": r["stage"],
                    "ready_at": self._iso(r["ready_at"]),
                    "finished_at": self._iso(r["finished_at"]),
                    "pickup_counter": r["pickup_counter"],
                    "missing": json.loads(r["missing"]), "note": r["note"],
                }

    # ---- the lobby board -----------------------------------------------------------
    def _figures(self, conn: Connection, t0: int, t1: int, now: int,
                 office: str | None = None) -> dict[str, int]:
        d = dossiers.c
        mine = [d.office == office] if office is not None else []
        received = conn.execute(select(func.count()).where(
            d.received_at >= t0, d.received_at < t1, *mine)).scalar_one()
        # a period still running (today, this month): nothing is received after now (the
        # server's clock), so "received before the period's end" is every dossier and the
        # counts walk (office, stage, due) alone instead of all the office's dossiers
        before_end = [d.received_at < t1] if t1 <= now else []
        in_progress = conn.execute(select(func.count()).where(
            d.stage.in_(sorted(OPEN)), *before_end, *mine)).scalar_one()
        overdue = conn.execute(select(func.count()).where(
            d.stage.in_(sorted(OPEN)), d.due_at < now, *before_end, *mine)).scalar_one()
        rows = conn.execute(select(d.ready_at, d.due_at).where(
            and_(d.stage.in_(["ready", "returned"]), d.ready_at >= t0, d.ready_at < t1,
                 *mine)))
        counts = {"early": 0, "on_time": 0, "late": 0}
        for ready_at, due_at in rows:
            due = self._dt(due_at)
            counts[timing(due, self._dt(ready_at), due, self.cal)] += 1
        early, on_time, late = counts["early"], counts["on_time"], counts["late"]
        return {"received": int(received), "in_progress": int(in_progress),
                "returned_early": early, "returned_on_time": on_time, "returned_late": late,
                "overdue": int(overdue)}

    def board(self, ready_limit: int = 30, office: str | None = None) -> dict[str, Any]:
        """The lobby board's figures: of one office (agency code), or of the whole store."""
        now = self.clock.now()
        local = self.cal.local(now)
        day0 = datetime.combine(local.date(), datetime.min.time(), self.cal.tz)  # type: ignore[arg-type]
        month0 = day0.replace(day=1)
        month1 = (month0 + timedelta(days=32)).replace(day=1)
        with self.engine.connect() as conn:
            ready = conn.execute(
                select(dossiers.c.code, dossiers.c.applicant_name, dossiers.c.pickup_counter,
                       procedures.c.name)
                .join(procedures, procedures.c.code == dossiers.c.procedure_code)
                .where(dossiers.c.stage == "ready",
                       *([dossiers.c.office == office] if office is not None else []))
                .order_by(dossiers.c.ready_at.desc()).limit(ready_limit)).all()
            today = self._figures(conn, ep(day0), ep(day0 + timedelta(days=1)), ep(now),
                                  office)
            month = self._figures(conn, ep(month0), ep(month1), ep(now), office)
        return {
            "v": 1, "at": rfc3339(now),
            "ready": [{"code": c, "applicant": mask_name(n), "procedure": p, "counter": k}
                      for c, n, k, p in ready],
            "today": today, "month": month,
        }
