"""The reception desk over HTTP on SQLite and PostgreSQL: receive, move, print every form
(read back with pdftotext, barcodes decoded), and the security rules: CSRF, offices,
lock-out, no back-dating, internal notes, append-only audit."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from appliance.clock import ManualClock
from appliance.store.api import create_app
from appliance.store.core import Store
from tests.desk_helpers import (
    OTHER,
    PASSWORD,
    add_accounts,
    decode_page,
    log_in,
    pdf_text,
    try_log_in,
)

pytest_plugins = ["tests.pg"]


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    add_accounts(store)
    with TestClient(create_app(store)) as c:
        yield c


def receive(client: TestClient, csrf: str, **fields: str) -> str:
    data = {"csrf": csrf, "procedure_code": "1.001193", "applicant_name": "Trần Văn Bình",
            "applicant_id": "001203004567", "applicant_phone": "0987654321",
            "applicant_email": "binh@example.vn", "applicant_address": "Số 5 ngõ 12 phường Mẫu",
            "channel": "counter", "sets": "2", "fee_due": "8000", "fee_paid": "8000",
            "return_method": "counter", "doc_0": "on", "doc_0_original": "1",
            "doc_0_copies": "0", "doc_1": "on", "doc_1_original": "1", "doc_1_copies": "2",
            **fields}
    r = client.post("/receive", data=data)
    assert r.status_code == 200 and r.url.path.startswith("/dossiers/"), r.text
    return r.url.path.split("/")[-1]


def act(client: TestClient, csrf: str, code: str, action: str, **fields: str) -> None:
    r = client.post(f"/dossiers/{code}/act", data={"csrf": csrf, "action": action, **fields})
    assert r.status_code == 200 and r.url.path == f"/dossiers/{code}", r.text


def test_receipt_carries_every_field_and_its_codes_decode(client: TestClient, store: Store,
                                                           tmp_path: Path) -> None:
    csrf = log_in(client, "tiepnhan")
    code = receive(client, csrf)
    assert code.startswith(store.settings.agency_code + "-261130-")
    d = store.dossiers.get(code)
    assert d is not None
    r = client.get(f"/dossiers/{code}/forms/01.pdf")
    assert r.headers["content-type"] == "application/pdf"
    txt = pdf_text(r.content, tmp_path)
    for want in ("UBND PHƯỜNG MẪU", "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA "
                 "VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Phường Mẫu, ngày 30 tháng 11 năm "
                 "2026", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", f"Mã hồ sơ: {code}",
                 "Ông/Bà: Trần Văn Bình", "Số định danh cá nhân: 001203004567",
                 "Email: binh@example.vn", "Số 5 ngõ 12 phường Mẫu", "Số điện thoại: 0987654321",
                 "Nội dung yêu cầu giải quyết: Đăng ký khai sinh", "Tờ khai đăng ký khai sinh",
                 "Bản chính", "Bản sao", "2. Số lượng hồ sơ: 2 (bộ)",
                 "4. Thời gian nhận hồ sơ: 09 giờ 00 phút, ngày 30 tháng 11 năm 2026",
                 "5. Thời gian trả kết quả", "6. Đăng ký nhận kết quả tại: Tại Bộ phận Một cửa",
                 "7. Phí, lệ phí: 8.000 đồng (đã nộp 8.000 đồng)",
                 f"Quyển số: 2026, Số thứ tự: {d['book_entry']}", "NGƯỜI NỘP HỒ SƠ",
                 "NGƯỜI TIẾP NHẬN HỒ SƠ", "Nguyễn Thị Hoa", "lập thành 2 liên", "Liên 1", "Liên 2",
                 f"Mã tra cứu: {d['secret']}"):
        assert want in txt, want
    assert "3. Thời gian giải quyết hồ sơ theo quy định là: trong ngày làm việc" in txt
    assert txt.count("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ") == 2  # two copies
    payload = f"{code}/{d['secret']}"
    for dpi in (200, 300):
        found = decode_page(r.content, tmp_path, dpi)
        assert found.get("zbar:QR-Code") == {payload}, (dpi, found)
        assert found.get("zbar:CODE-128") == {payload}, (dpi, found)
        assert found.get("zxing:QRCode") == {payload}, (dpi, found)
        assert found.get("zxing:Code128") == {payload}, (dpi, found)


def test_moves_and_forms_02_to_07(client: TestClient, store: Store, store_clock: ManualClock,
                                  tmp_path: Path) -> None:
    csrf = log_in(client, "tiepnhan")
    code = receive(client, csrf, procedure_code="1.001022", doc_extra="Bản sao sổ hộ khẩu")
    act(client, csrf, code, "handover", to_user="xuly", step_due="2026-12-01T16:00",
        note="Chuyển phòng Tư pháp")
    act(client, csrf, code, "supplement", missing="Giấy chứng sinh bản chính\nẢnh 4x6",
        note="Giấy chứng sinh nộp là bản photo")
    act(client, csrf, code, "resume", note="Đã bổ sung đủ")
    act(client, csrf, code, "extend", new_due="2026-12-10T16:00",
        note="Cần xác minh thêm với xã nơi sinh")
    act(client, csrf, code, "liaison_out", to_unit="Sở Tư pháp tỉnh", note="Xin ý kiến")
    act(client, csrf, code, "liaison_back", note="Sở đã trả lời")
    store_clock.set(store_clock.now() + timedelta(days=1))
    act(client, csrf, code, "ready", counter="3", note="Đã ký", public="1")
    act(client, csrf, code, "returned", return_method="counter")
    d = store.dossiers.get(code)
    assert d is not None and d["stage"] == "returned" and d["holder"] == "tiepnhan"
    actions = [h["action"] for h in d["history"]]
    assert actions == ["received", "handover", "supplement", "resume", "extend", "liaison_out",
                       "liaison_back", "ready", "returned"]
    assert all(h["by"] == "tiepnhan" for h in d["history"])
    assert d["due_at"].startswith("2026-12-1")  # extended, then paused a little
    t02 = pdf_text(client.get(f"/dossiers/{code}/forms/02.pdf").content, tmp_path)
    for want in ("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", "Kính gửi: Ông/Bà Trần Văn Bình",
                 code, "Lý do: Giấy chứng sinh nộp là bản photo", "Nguyễn Thị Hoa"):
        assert want in t02, want
    t04 = pdf_text(client.get(f"/dossiers/{code}/forms/04.pdf").content, tmp_path)
    for want in ("PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", "Cần xác minh thêm",
                 "xin lỗi Ông/Bà", "ngày 10 tháng 12 năm 2026"):
        assert want in t04, want
    t06 = pdf_text(client.get(f"/dossiers/{code}/forms/06.pdf").content, tmp_path)
    for want in ("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", "Nhận: Lê Văn Xử",
                 "01/12/2026", "Sở Tư pháp tỉnh", "Ký nhận", "Kết quả"):
        assert want in t06, want
    other = receive(client, csrf, applicant_name="Lý Thị Từ", applicant_id="")
    act(client, csrf, other, "refuse", note="Không thuộc thẩm quyền của phường")
    t03 = pdf_text(client.get(f"/dossiers/{other}/forms/03.pdf").content, tmp_path)
    assert "PHIẾU TỪ CHỐI" in t03 and "Không thuộc thẩm quyền của phường" in t03
    third = receive(client, csrf, applicant_name="Vũ Văn Dừng")
    act(client, csrf, third, "stop", note="Người nộp xin rút yêu cầu")
    t05 = pdf_text(client.get(f"/dossiers/{third}/forms/05.pdf").content, tmp_path)
    assert "PHIẾU DỪNG GIẢI QUYẾT HỒ SƠ" in t05 and "xin rút yêu cầu" in t05
    t07 = pdf_text(client.get("/book.pdf?start=2026-11-01&end=2026-12-31").content, tmp_path)
    for want in ("SỔ THEO DÕI HỒ SƠ", code, other, third, "Trần Văn Bình", "Từ chối"):
        assert want in t07, want
    from openpyxl import load_workbook

    xlsx = client.get("/book.xlsx?start=2026-11-01&end=2026-12-31")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert {code, other, third, "Lý Thị Từ", "Mã hồ sơ"} <= cells


def test_a_post_without_the_csrf_token_is_refused(client: TestClient, store: Store) -> None:
    csrf = log_in(client, "tiepnhan")
    code = receive(client, csrf)
    r = client.post(f"/dossiers/{code}/act", data={"action": "refuse", "note": "x"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post(f"/dossiers/{code}/act", data={"action": "refuse", "note": "x",
                                                   "csrf": "0" * 64})
    assert r.status_code == 403
    r = client.post("/receive", data={"procedure_code": "1.001193", "applicant_name": "A"})
    assert r.status_code == 403
    d = store.dossiers.get(code)
    assert d is not None and d["stage"] == "received" and len(d["history"]) == 1


def test_another_office_gets_403_not_the_dossier(client: TestClient, store: Store) -> None:
    code = receive(client, log_in(client, "tiepnhan"))
    client.cookies.clear()
    csrf = log_in(client, "khac")
    for path in (f"/dossiers/{code}", f"/dossiers/{code}/forms/01.pdf"):
        r = client.get(path)
        assert r.status_code == 403 and "cơ quan khác" in r.text and "Trần Văn Bình" not in r.text
    r = client.post(f"/dossiers/{code}/act", data={"csrf": csrf, "action": "refuse",
                                                   "note": "x"})
    assert r.status_code == 403
    assert "Trần Văn Bình" not in client.get("/search?q=tran van binh").text
    assert code not in client.get("/worklist?list=today").text
    # the JSON API too
    token = client.post("/api/v1/auth/token", data={"username": "khac", "password": PASSWORD})
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    r = client.get(f"/api/v1/dossiers/{code}", headers=auth)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    # and the other office's own dossier gets its own agency code
    mine = receive(client, csrf, applicant_name="Hồ Thị Mới")
    assert mine.startswith(OTHER + "-")


def test_brute_force_log_in_locks_the_account(client: TestClient, store: Store) -> None:
    r = client.post("/login", data={"username": "tiepnhan", "password": PASSWORD})
    assert r.status_code == 403 and "CSRF" in r.text  # the log-in form has its token too
    for _ in range(5):
        r = try_log_in(client, "tiepnhan", "doan-sai-1")
        assert r.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in r.text
    r = try_log_in(client, "tiepnhan", PASSWORD)
    assert r.status_code == 423 and "khoá" in r.text
    r = client.post("/api/v1/auth/token", data={"username": "tiepnhan", "password": PASSWORD})
    assert r.status_code == 423 and r.json()["error"]["code"] == "locked"
    store.users.unlock("tiepnhan")
    log_in(client, "tiepnhan")
    # and one address cannot go on guessing across accounts
    codes = [try_log_in(client, f"u{i}", "x").status_code for i in range(15)]
    assert 429 in codes


def test_received_at_cannot_be_back_dated(client: TestClient, store: Store) -> None:
    csrf = log_in(client, "tiepnhan")
    r = client.post("/receive", data={"csrf": csrf, "procedure_code": "1.001193",
                                      "applicant_name": "Gian Lận",
                                      "received_at": "2026-11-01T08:00"})
    assert r.status_code == 403 and "máy chủ" in r.text
    token = client.post("/api/v1/auth/token", data={"username": "tiepnhan",
                                                    "password": PASSWORD}).json()
    staff = {"Authorization": f"Bearer {token['access_token']}"}
    body = {"procedure_code": "1.001193", "applicant_name": "Gian Lận",
            "received_at": "2027-01-05T08:00:00+07:00"}
    r = client.post("/api/v1/dossiers", headers=staff, json=body)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    admin = {"Authorization": "Bearer " + client.post(
        "/api/v1/auth/token", data={"username": "quantri", "password": PASSWORD}
    ).json()["access_token"]}
    r = client.post("/api/v1/dossiers", headers=admin, json=body)
    assert r.status_code == 422 and "lý do" in r.json()["error"]["message"]
    r = client.post("/api/v1/dossiers", headers=admin,
                    json={**body, "received_at_reason": "Sửa giờ"})
    assert r.status_code == 422 and "tương lai" in r.json()["error"]["message"]
    r = client.post("/api/v1/dossiers", headers=admin, json={
        **body, "received_at": "2026-11-30T08:10:00+07:00",
        "received_at_reason": "Máy chủ mất điện lúc tiếp nhận"})
    assert r.status_code == 201
    assert r.json()["dossier"]["received_at"] == "2026-11-30T08:10:00+07:00"
    with store.engine.connect() as conn:
        row = conn.execute(text("SELECT by_user, detail FROM audit_log WHERE action = "
                                "'correct_received_at'")).one()
    assert row[0] == "quantri" and "Máy chủ mất điện" in row[1]


def test_internal_notes_never_reach_the_public(client: TestClient, store: Store) -> None:
    csrf = log_in(client, "tiepnhan")
    code = receive(client, csrf, note="Người nộp nóng tính")
    act(client, csrf, code, "handover", to_user="xuly", note="Bí mật nội bộ: hồ sơ nhạy cảm")
    act(client, csrf, code, "supplement", missing="Ảnh 4x6", note="Mời bổ sung ảnh 4x6",
        public="1")
    d = store.dossiers.get(code)
    assert d is not None
    r = client.post("/api/v1/lookup", json={"code": code, "secret": d["secret"]})
    assert r.status_code == 200
    public = r.text
    assert "Bí mật nội bộ" not in public and "nóng tính" not in public
    assert "Mời bổ sung ảnh 4x6" in public
    assert "Chờ bổ sung hồ sơ" in public
    direct = store.dossiers.lookup(code, d["secret"])
    assert direct is not None
    assert [h["note"] for h in direct["history"]] == ["", "", "Mời bổ sung ảnh 4x6"]
    assert "Bí mật nội bộ" not in str(store.dossiers.board())


def test_audit_log_is_append_only_and_for_leaders(client: TestClient, store: Store) -> None:
    csrf = log_in(client, "tiepnhan")
    code = receive(client, csrf)
    act(client, csrf, code, "handover", to_unit="Phòng Văn hóa - Xã hội")
    assert client.get("/audit").status_code == 403
    client.cookies.clear()
    log_in(client, "lanhdao")
    page = client.get("/audit").text
    assert code in page and "handover" in page and "tiepnhan" in page
    for sql in ("UPDATE audit_log SET by_user = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(sql))
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() >= 2


def test_search_worklists_and_a_scanned_receipt(client: TestClient, store: Store,
                                                store_clock: ManualClock) -> None:
    csrf = log_in(client, "tiepnhan")
    code = receive(client, csrf, applicant_name="Nguyễn Thị Ánh Tuyết",
                   applicant_id="079188001234", applicant_phone="0912345678")
    d = store.dossiers.get(code)
    assert d is not None
    for q in ("nguyen thi anh", "NGUYỄN THỊ ÁNH", "079188001234", "0912345678", code[:-2]):
        assert code in client.get("/search", params={"q": q}).text, q
    r = client.get("/search", params={"q": f"{code}/{d['secret']}"})  # a scanner's keystrokes
    assert r.url.path == f"/dossiers/{code}"
    r = client.get("/search", params={"q": f"http://x/tra-cuu?ma={code}&mk={d['secret']}"})
    assert r.url.path == f"/dossiers/{code}"
    assert code in client.get("/worklist?list=today").text
    assert code in client.get("/worklist?list=mine").text
    act(client, csrf, code, "supplement", missing="Ảnh", note="Thiếu ảnh")
    assert code in client.get("/worklist?list=supplement").text
    act(client, csrf, code, "resume")
    store_clock.set(store_clock.now() + timedelta(days=3))
    assert code in client.get("/worklist?list=overdue").text
    act(client, csrf, code, "ready", counter="2")
    assert code in client.get("/worklist?list=ready").text


def test_receive_refuses_a_bad_personal_id_and_keeps_the_input(client: TestClient) -> None:
    csrf = log_in(client, "tiepnhan")
    r = client.post("/receive", data={"csrf": csrf, "procedure_code": "1.001193",
                                      "applicant_name": "Mai Văn Sai", "applicant_id": "12345"})
    assert r.status_code == 422
    assert "Số định danh cá nhân (CCCD) phải gồm đúng 12 chữ số" in r.text
    assert 'value="Mai Văn Sai"' in r.text


def test_accounts_password_and_errors(client: TestClient, store: Store) -> None:
    r = client.get("/api/v1/dossiers/X")
    assert r.status_code == 401 and set(r.json()["error"]) == {"code", "message"}
    r = client.post("/api/v1/dossiers", json={"procedure_code": 5})
    assert r.status_code in (401, 422) and "error" in r.json()
    csrf = log_in(client, "quantri")
    r = client.post("/admin/users", data={"csrf": csrf, "name": "canbo2", "role": "staff",
                                          "full_name": "Trịnh Văn Hai", "officer_code": "12",
                                          "password": "mat-khau-moi-2", "active": "1"})
    assert r.status_code == 200 and "Trịnh Văn Hai" in r.text
    u = store.users.find("canbo2")
    assert u is not None and u["officer_code"] == "12"
    assert u["office"] == store.settings.agency_code
    client.cookies.clear()
    csrf = log_in(client, "canbo2", "mat-khau-moi-2")
    assert client.get("/admin/users").status_code == 403
    r = client.post("/password", data={"csrf": csrf, "old": "mat-khau-moi-2",
                                       "new": "mat-khau-thu-3", "again": "mat-khau-thu-3"})
    assert r.url.path == "/login"
    assert client.get("/worklist").url.path == "/login"  # the old session ended
    log_in(client, "canbo2", "mat-khau-thu-3")
    docs = client.get("/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert re.search(r"swagger", client.get("/static/swagger/swagger-ui-bundle.js").text[:2000],
                     re.I)


def test_board_figures_per_office(client: TestClient, store: Store) -> None:
    receive(client, log_in(client, "tiepnhan"))
    client.cookies.clear()
    receive(client, log_in(client, "khac"), applicant_name="Hồ Văn Hai")
    receive(client, log_in(client, "khac"), applicant_name="Hồ Văn Ba")
    own = client.get("/api/v1/board", params={"office": store.settings.agency_code}).json()
    other = client.get("/api/v1/board", params={"office": OTHER}).json()
    everyone = client.get("/api/v1/board").json()
    assert (own["today"]["received"], other["today"]["received"]) == (1, 2)
    assert everyone["today"]["received"] == 3


def test_an_account_without_an_office_is_not_store_wide(client: TestClient,
                                                        store: Store) -> None:
    code = receive(client, log_in(client, "khac"))  # the other office's dossier
    client.cookies.clear()
    store.users.set_user("moi", "staff", password=PASSWORD)  # made without an office
    log_in(client, "moi")
    assert client.get(f"/dossiers/{code}").status_code == 403


def test_json_api_changes_are_audited_too(client: TestClient, store: Store) -> None:
    token = client.post("/api/v1/auth/token", data={"username": "tiepnhan",
                                                    "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    d = client.post("/api/v1/dossiers", headers=auth, json={
        "procedure_code": "1.001193", "applicant_name": "Âu Văn Api"}).json()["dossier"]
    assert d["office"] == store.settings.agency_code
    r = client.post(f"/api/v1/dossiers/{d['code']}/stage", headers=auth,
                    json={"stage": "processing", "note": "nội bộ"})
    assert r.status_code == 200
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT action, by_user FROM audit_log WHERE target = :c "
                                 "ORDER BY id"), {"c": d["code"]}).all()
    assert [tuple(r) for r in rows] == [("receive", "tiepnhan"), ("processing", "tiepnhan")]


def test_a_scanned_cccd_fills_the_applicant(client: TestClient, store: Store) -> None:
    from appliance.store.cccd import parse_cccd_qr

    qr = "079188001234|025123456|Nguyễn Thị Ánh|12031988|Nữ|Tổ 3 khu phố 2|10052022"
    assert parse_cccd_qr(qr) == {"applicant_id": "079188001234",
                                 "applicant_name": "Nguyễn Thị Ánh",
                                 "applicant_address": "Tổ 3 khu phố 2"}
    assert parse_cccd_qr("12345|x|y|z|w|v") is None and parse_cccd_qr("hello") is None
    csrf = log_in(client, "tiepnhan")
    code = receive(client, csrf, cccd_scan=qr, applicant_name="", applicant_id="",
                   applicant_address="")
    d = store.dossiers.get(code)
    assert d is not None
    assert (d["applicant_name"], d["applicant_id"]) == ("Nguyễn Thị Ánh", "079188001234")
