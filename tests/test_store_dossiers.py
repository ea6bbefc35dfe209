"""Dossiers on both databases: codes, stages with history, masked lookups, board figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event

from appliance.clock import VN_TZ, ManualClock
from appliance.core.dossier_code import valid_code, valid_secret
from appliance.store.core import Store
from appliance.store.errors import StoreError
from appliance.store.generate import fill
from appliance.store.models import DossierImport, DossierIn, StageMove
from appliance.store.transfer import ImportError_, export_dossiers, import_dossiers, parse

pytest_plugins = ["tests.pg"]


def receive(store: Store, name: str = "Nguyễn Văn An", proc: str = "1.001022") -> dict:
    return store.dossiers.create(DossierIn(procedure_code=proc, applicant_name=name,
                                           applicant_phone="0912345678",
                                           applicant_address="12 Lê Lợi"), "can-bo-1")


def test_codes_follow_the_format_and_the_daily_sequence(store: Store,
                                                        store_clock: ManualClock) -> None:
    a, b = receive(store), receive(store)
    assert a["code"] == "000.00.06.G04-261130-0001"
    assert b["code"] == "000.00.06.G04-261130-0002"
    assert valid_code(a["code"]) and valid_secret(a["secret"])
    store_clock.set(datetime(2026, 12, 1, 8, tzinfo=VN_TZ))
    assert receive(store)["code"] == "000.00.06.G04-261201-0001"
    assert a["due_at"] == "2026-12-03T09:00:00+07:00"  # 3 working days


def test_unknown_procedure_is_named(store: Store) -> None:
    with pytest.raises(StoreError, match="procedure_code"):
        receive(store, proc="9.999999")


def test_stages_history_and_pause(store: Store, store_clock: ManualClock) -> None:
    d = receive(store)
    code = d["code"]
    store.dossiers.move_stage(code, StageMove(stage="processing", to_user="cong-chuc-tp"), "tn")
    store_clock.set(datetime(2026, 12, 1, 9, tzinfo=VN_TZ))
    store.dossiers.move_stage(code, StageMove(stage="awaiting_supplement",
                                              missing=["Bản sao sổ hộ khẩu"]), "tp")
    paused = store.dossiers.lookup(code, d["secret"])
    assert paused is not None and paused["missing"] == ["Bản sao sổ hộ khẩu"]
    store_clock.set(datetime(2026, 12, 3, 9, tzinfo=VN_TZ))  # two working days later
    after = store.dossiers.move_stage(code, StageMove(stage="processing"), "tp")
    assert after["due_at"] == "2026-12-07T09:00:00+07:00"
    assert after["missing"] == []
    store_clock.set(datetime(2026, 12, 4, 10, tzinfo=VN_TZ))
    ready = store.dossiers.move_stage(code, StageMove(stage="ready", pickup_counter="2"), "tp")
    assert ready["ready"] and ready["status"] == "early" and ready["pickup_counter"] == "2"
    assert [h["stage"] for h in ready["history"]] == [
        "received", "processing", "awaiting_supplement", "processing", "ready"]
    assert ready["history"][1]["to"] == "cong-chuc-tp"
    assert ready["history"][-1]["result"] == "early"
    with pytest.raises(StoreError) as err:
        store.dossiers.move_stage(code, StageMove(stage="processing"), "tp")
    assert err.value.code == "conflict" and "ready to processing" in err.value.message
    with pytest.raises(StoreError) as err:
        store.dossiers.move_stage("000.00.06.G04-261130-0999", StageMove(stage="ready"), "x")
    assert err.value.code == "not_found"


def test_lookup_is_masked_and_carries_no_personal_data(store: Store) -> None:
    d = receive(store, name="Nguyễn Văn An")
    found = store.dossiers.lookup(d["code"].lower(), d["secret"].lower())
    assert found is not None
    assert found["applicant"] == "Nguyễn V** A**"
    flat = repr(found)
    for private in ("0912345678", "12 Lê Lợi", "Văn An", d["secret"], "can-bo-1"):
        assert private not in flat
    assert found["status"] == "on_time" and found["timing"] == "not_yet_due"
    assert found["stage_label"] == "Đã tiếp nhận"


def test_wrong_secret_is_like_an_unknown_code(store: Store) -> None:
    d = receive(store)
    wrong = "A" * 6 if d["secret"] != "A" * 6 else "B" * 6
    assert store.dossiers.lookup(d["code"], wrong) is None
    assert store.dossiers.lookup("000.00.06.G04-261130-0999", d["secret"]) is None
    assert store.dossiers.lookup(d["code"], "") is None
    # the same work in both cases, so the answer's timing tells nothing: one query,
    # the same one, that reads no row (the secret is part of the query) and no history.
    # Checked by what the store asks of the database, not by a stopwatch on a shared machine.
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):  # the pool's own
            seen.append(statement)

    reader = store.dossiers.reader
    event.listen(reader, "before_cursor_execute", count)
    try:
        for code in (d["code"], "000.00.06.G04-261130-0999"):
            before = len(seen)
            assert store.dossiers.lookup(code, wrong) is None
            assert len(seen) - before == 1, seen[before:]
    finally:
        event.remove(reader, "before_cursor_execute", count)
    assert seen[0] == seen[1]
    # and neither finds a row to compare or a history to read
    with reader.connect() as conn:
        for code in (d["code"], "000.00.06.G04-261130-0999"):
            assert conn.execute(store.dossiers._lookup_query,
                                {"code": code, "secret": wrong}).all() == []
        assert conn.execute(store.dossiers._lookup_query,
                            {"code": d["code"], "secret": d["secret"]}).all() != []


def test_board_figures(store: Store, store_clock: ManualClock) -> None:
    a, b, c = receive(store, "Lê Thị Hoa"), receive(store), receive(store, proc="2.000635")
    store_clock.set(datetime(2026, 11, 30, 10, tzinfo=VN_TZ))
    store.dossiers.move_stage(a["code"], StageMove(stage="processing"), "x")
    store.dossiers.move_stage(a["code"], StageMove(stage="ready", pickup_counter="1"), "x")
    store.dossiers.move_stage(c["code"], StageMove(stage="processing"), "x")
    store_clock.set(datetime(2026, 11, 30, 18, tzinfo=VN_TZ))  # c was due at 17:00
    board = store.dossiers.board()
    assert board["ready"] == [{"code": a["code"], "applicant": "Lê T** H**",
                               "procedure": "Đăng ký nhận cha, mẹ, con", "counter": "1"}]
    assert board["today"] == {"received": 3, "in_progress": 2, "returned_early": 1,
                              "returned_on_time": 0, "returned_late": 0, "overdue": 1}
    assert board["month"]["received"] == 3
    del b


def test_generated_dossiers_and_live_codes_do_not_collide(store: Store) -> None:
    fill(store.dossiers, 500, seed=3)
    d = receive(store)
    assert d["code"].endswith(f"-{int(d['code'][-4:]):04d}")
    board = store.dossiers.board()
    assert board["month"]["received"] > 0 and board["ready"]
    assert all("**" in r["applicant"] for r in board["ready"])


def test_dossier_import_is_all_or_nothing(store: Store) -> None:
    good = {"code": "000.00.06.G04-251001-0001", "procedure_code": "1.001193",
            "applicant_name": "Phạm Văn Cường", "received_at": "2025-10-01T08:00:00+07:00",
            "stage": "processing"}
    bad = {**good, "code": "000.00.06.G04-251001-0002", "procedure_code": "9.999999"}
    items = parse(DossierImport, [good, bad], "json", "dossiers", 100)
    with pytest.raises(ImportError_) as err:
        import_dossiers(store.dossiers, items)
    assert err.value.problems == ["item 1, field procedure_code: no procedure '9.999999'"]
    assert store.dossiers.get(good["code"]) is None
    assert import_dossiers(store.dossiers, items[:1]) == 1
    got = store.dossiers.get(good["code"])
    assert got is not None and got["stage"] == "processing"
    with pytest.raises(ImportError_, match="already exists"):
        import_dossiers(store.dossiers, items[:1])
    # and the ids keep working for dossiers received afterwards
    assert receive(store)["code"] == "000.00.06.G04-261130-0001"


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_dossier_export_round_trip(store: Store, fmt: str, tmp_path) -> None:
    receive(store)
    d = receive(store, name="Đỗ Thị Ước")
    store.dossiers.move_stage(d["code"], StageMove(stage="withdrawn"), "x")
    text = export_dossiers(store.dossiers, fmt)  # type: ignore[arg-type]
    items = parse(DossierImport, text, fmt, "dossiers", 100)  # type: ignore[arg-type]
    assert [i.code for i in items] == [f"000.00.06.G04-261130-000{n}" for n in (1, 2)]
    assert items[1].applicant_name == "Đỗ Thị Ước" and items[1].stage == "withdrawn"
    assert items[1].secret == d["secret"]
