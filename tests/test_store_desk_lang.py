"""The desk in Vietnamese first, in English at the officer's switch (a cookie): pages,
labels and page errors; the JSON API's one error shape, in Vietnamese, for auth too."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.desk_helpers import PASSWORD, csrf_of, log_in

# the desk tests' fixture (both offices' accounts, a client of the app), not a copy of it;
# the tests below take it by name (hence noqa F811)
from tests.test_store_desk import client  # noqa: F401

pytest_plugins = ["tests.pg"]


def test_the_desk_switches_to_english_and_back(client: TestClient) -> None:  # noqa: F811
    # MOTCUA_LANG=en in the tests is the console's language: the pages stay Vietnamese
    csrf = log_in(client, "tiepnhan")
    page = client.get("/worklist").text
    assert '<html lang="vi">' in page and "Tiếp nhận hôm nay" in page and "Đăng xuất" in page
    r = client.get("/lang/en", params={"next": "/worklist?list=overdue"})
    assert r.url.path == "/worklist"
    page = r.text
    assert '<html lang="en">' in page
    for want in ("Received today", "Awaiting supplement", "Log out", "Tracking book",
                 "Tiếng Việt"):
        assert want in page, want
    assert "Tiếp nhận hôm nay" not in page and "Đăng xuất" not in page
    receive = client.get("/receive", params={"procedure": "1.001193"}).text
    for want in ("Documents handed in", "Personal ID number (12 digits)", "Fee due (VND)",
                 "The time received is the server&#39;s clock"):
        assert want in receive, want
    # a page's error in English, too
    r = client.post("/receive", data={"procedure_code": "1.001193"})
    assert r.status_code == 403 and "The form has expired or is not valid" in r.text
    r = client.post("/receive", data={"csrf": csrf, "procedure_code": "1.001193",
                                      "applicant_name": "An", "applicant_id": "123"})
    assert r.status_code == 422 and "Not right:" in r.text
    assert client.get("/lang/vi").url.path == "/worklist"
    assert "Tiếp nhận hôm nay" in client.get("/worklist").text
    # an open redirect is not offered
    assert client.get("/lang/en", params={"next": "//example.com/"}).url.path == "/worklist"


def test_the_json_api_answers_auth_errors_in_one_vietnamese_shape(
        client: TestClient) -> None:  # noqa: F811
    r = client.get("/api/v1/dossiers/000.00.06.G04-261130-0001")
    assert r.status_code == 401
    assert r.json() == {"error": {"code": "unauthorized",
                                  "message": "Cần đăng nhập trước (log in first)."}}
    r = client.post("/api/v1/auth/token", data={"username": "tiepnhan", "password": "sai"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert r.json()["error"]["message"].startswith("Sai tên đăng nhập hoặc mật khẩu")
    token = client.post("/api/v1/auth/token", data={"username": "tiepnhan",
                                                    "password": PASSWORD}).json()
    r = client.post("/api/v1/dossiers/import", headers={
        "Authorization": f"Bearer {token['access_token']}"}, json={"dossiers": []})
    assert r.status_code == 403
    assert r.json() == {"error": {"code": "forbidden",
                                  "message": "Chỉ quản trị được làm việc này (admins only)."}}
    assert csrf_of(client.get("/login").text)  # the log-in page still renders
