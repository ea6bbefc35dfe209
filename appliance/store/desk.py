"""The reception desk's writes: receive a dossier with every receipt field, and move it
(hand over, supplement, resume, extend, liên thông out and back, refuse, stop, ready,
returned). Each move is one history row (who, when, note, public or not) and one audit row.

Staff act only on their own office's dossiers (StoreError ``forbidden`` otherwise).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, insert, update
from sqlalchemy.engine import RowMapping

from appliance.store import audit
from appliance.store.auth import Principal
from appliance.store.calendar import timing
from appliance.store.dossiers import Dossiers, ep
from appliance.store.errors import StoreError
from appliance.store.models import DeskDossierIn
from appliance.store.offices import Offices
from appliance.store.schema import dossiers, history
from appliance.store.stages import completed_at, move

Action = Literal["handover", "supplement", "resume", "extend", "liaison_out", "liaison_back",
                 "refuse", "stop", "ready", "returned"]

# action → (stage it moves to, None = stays; whether a note/reason is required)
ACTIONS: dict[str, tuple[str | None, bool]] = {
    "handover": ("processing", False),
    "supplement": ("awaiting_supplement", True),
    "resume": ("processing", False),
    "extend": (None, True),
    "liaison_out": ("liaison", False),
    "liaison_back": ("processing", False),
    "refuse": ("refused", True),
    "stop": ("stopped", True),
    "ready": ("ready", False),
    "returned": ("returned", False),
}
ACTION_LABELS = {
    "received": "Tiếp nhận", "handover": "Chuyển xử lý", "supplement": "Yêu cầu bổ sung",
    "resume": "Tiếp tục giải quyết", "extend": "Gia hạn (xin lỗi, hẹn lại)",
    "liaison_out": "Liên thông đi", "liaison_back": "Nhận lại từ liên thông",
    "refuse": "Từ chối", "stop": "Dừng giải quyết", "ready": "Có kết quả",
    "returned": "Trả kết quả", "processing": "Chuyển xử lý", "ready_at": "Có kết quả",
}


@dataclass
class Move:
    """What the officer filled in for an action."""

    action: str
    note: str = ""
    public: bool = False
    to_user: str = ""
    to_unit: str = ""
    step_due: datetime | None = None
    new_due: datetime | None = None
    missing: list[str] = field(default_factory=list)
    counter: str = ""
    return_method: str = ""


def check_office(who: Principal, office: str) -> None:
    if who.office is not None and who.office != office:
        raise StoreError("forbidden", "Hồ sơ này thuộc cơ quan khác; bạn không có quyền xem "
                                      "hay xử lý (this dossier belongs to another office).")


class Desk:
    def __init__(self, dossiers_: Dossiers, offices_: Offices | None = None) -> None:
        self.dossiers = dossiers_
        self.offices = offices_

    def receive(self, d: DeskDossierIn, who: Principal, office: str | None = None) -> str:
        """Register a dossier; returns its code. ``office``: for a store admin (no office
        of their own) the office it is received for."""
        if d.received_at is not None and who.role != "admin":
            raise StoreError("forbidden", "Thời gian tiếp nhận là giờ của máy chủ; chỉ quản "
                                          "trị được sửa, kèm lý do (received_at: admins only).")
        ds = self.dossiers
        received = ds.received_time(d.received_at, d.received_at_reason)
        office = who.office or office or ds.settings.agency
        if self.offices is not None and not self.offices.uses(office, d.procedure_code):
            raise StoreError("bad_request", f"Cơ quan này không giải quyết thủ tục "
                                            f"{d.procedure_code} (not a procedure in use).")
        values = d.model_dump(exclude={"note", "received_at", "received_at_reason"})
        values["documents"] = json.dumps(values["documents"], ensure_ascii=False)
        values["office"] = office
        values["holder"] = who.name  # "mine" until handed over
        with ds.write_lock, ds.engine.begin() as conn:
            _, code = ds.insert_new(conn, values, who.name, received, d.note)
            extra: dict[str, Any] = (
                {"corrected_received_at": received.isoformat(), "reason": d.received_at_reason}
                if d.received_at is not None else {})
            audit.record(conn, who.name, "receive", office=office, target=code, **extra)
        ds._changed()
        return code

    def act(self, code: str, m: Move, who: Principal) -> None:
        if m.action not in ACTIONS:
            raise StoreError("bad_request", f"Thao tác không hợp lệ: {m.action!r}")
        target, needs_note = ACTIONS[m.action]
        if needs_note and not m.note.strip():
            raise StoreError("bad_request", "Cần ghi lý do / nội dung cho thao tác này.")
        ds = self.dossiers
        now = ds.clock.now()
        with ds.write_lock, ds.engine.begin() as conn:
            row = ds._locked_row(conn, code)
            check_office(who, row["office"])
            self._apply(conn, row, m, target, who, now)
        ds._changed()

    def _apply(self, conn: Connection, row: RowMapping, m: Move, target: str | None,
               who: Principal, now: datetime) -> None:
        ds = self.dossiers
        before = ds._progress(row)
        if m.action == "resume" and before.stage != "awaiting_supplement":
            raise StoreError("conflict", "Hồ sơ không ở trạng thái chờ bổ sung.")
        if m.action == "liaison_back" and before.stage != "liaison":
            raise StoreError("conflict", "Hồ sơ không ở trạng thái liên thông.")
        values: dict[str, Any] = {"updated_at": ep(now)}
        result = None
        if target is None:  # extend: a new appointment, with an apology (Mẫu 04)
            if before.stage not in ("received", "processing", "awaiting_supplement", "liaison"):
                raise StoreError("conflict", "Chỉ gia hạn được hồ sơ đang giải quyết.")
            if m.new_due is None or m.new_due <= before.due_at:
                raise StoreError("bad_request", "Ngày hẹn trả mới phải sau ngày hẹn cũ.")
            after = before.__class__(**{**before.__dict__, "due_at": m.new_due})
            stage = before.stage
        else:
            after = move(before, target, now, ds.cal)
            stage = after.stage
            done = completed_at(after)
            if target == "ready" and done is not None:
                result = timing(after.due_at, done, now, ds.cal)
        values.update(
            stage=stage, due_at=ep(after.due_at),
            paused_since=ep(after.paused_since) if after.paused_since else None,
            ready_at=ep(after.ready_at) if after.ready_at else None,
            finished_at=ep(after.finished_at) if after.finished_at else None)
        if m.action == "handover":
            if not (m.to_user or m.to_unit):
                raise StoreError("bad_request", "Chọn cán bộ hoặc phòng ban nhận hồ sơ.")
            values.update(holder=m.to_user or m.to_unit,
                          step_due=ep(m.step_due) if m.step_due else None)
        elif m.action == "liaison_out":
            if not m.to_unit:
                raise StoreError("bad_request", "Ghi cơ quan nhận liên thông.")
            values.update(holder=m.to_unit, step_due=ep(m.step_due) if m.step_due else None)
        elif m.action == "liaison_back":  # back from the other agency: with whoever took it
            values.update(holder=who.name, step_due=None)
        elif m.action == "supplement":
            if not m.missing:
                raise StoreError("bad_request", "Ghi giấy tờ cần bổ sung.")
            values["missing"] = json.dumps(m.missing, ensure_ascii=False)
        elif m.action == "resume":
            values["missing"] = "[]"
        elif m.action == "ready":
            if self.offices is not None:
                self.offices.check_counter(row["office"], m.counter)
            values["pickup_counter"] = m.counter or None
        elif m.action == "returned" and m.return_method:
            values["return_method"] = m.return_method
        conn.execute(update(dossiers).where(dossiers.c.id == row["id"]).values(**values))
        conn.execute(insert(history).values(
            dossier_id=row["id"], at=ep(now), from_stage=before.stage, stage=stage,
            action=m.action, by_user=who.name, to_user=m.to_user, to_unit=m.to_unit,
            due_at=ep(m.step_due) if m.step_due else ep(after.due_at), result=result,
            note=m.note, public=int(m.public)))
        audit.record(conn, who.name, m.action, office=row["office"], target=row["code"],
                     at=ep(now), stage=stage, note=m.note, public=m.public,
                     due_at=after.due_at.isoformat() if m.action == "extend" else None)
