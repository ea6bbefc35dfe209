"""The receipt's QR opens the dossier's public status on a phone: decoded from the printed
Mẫu 01 with zbarimg, opened in real Chromium at 390×844; a wrong secret answers exactly as
an unknown code; internal notes never show; the lookups' rate limit holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from appliance.broker import free_port
from appliance.clock import VN_TZ, ManualClock
from appliance.config.store import StoreSection
from appliance.store.api import create_app
from appliance.store.core import Store, open_store
from appliance.store.forms.receipt import receipt_pdf
from appliance.store.models import DossierIn, StageMove
from appliance.store.ratelimit import RateLimiter
from appliance.store.web.printing import context
from tests.desk_helpers import decode_page
from tests.phone_helpers import PHONE, chromium, serve

INTERNAL = "Ghi chú nội bộ: hồ sơ thiếu chữ ký, gọi anh Tùng"
PUBLIC = "Hồ sơ đã chuyển phòng Tư pháp thẩm định"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def store(tmp_path: Path, port: int) -> Iterator[Store]:
    from datetime import datetime

    settings = StoreSection(public_base_url=f"http://127.0.0.1:{port}/")
    s = open_store(settings, data_path=tmp_path / "data", base_dir=tmp_path,
                   clock=ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=VN_TZ)),
                   url=f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        yield s
    finally:
        s.close()


def _dossier(store: Store) -> dict:
    d = store.dossiers.create(DossierIn(procedure_code="1.001022",
                                        applicant_name="Nguyễn Thị Ánh Tuyết"), "tiepnhan")
    store.dossiers.move_stage(d["code"], StageMove(stage="processing", note=INTERNAL), "x")
    store.dossiers.move_stage(d["code"], StageMove(stage="processing", note=PUBLIC,
                                                   public=True), "x")
    return d


def test_public_base_url_is_checked() -> None:
    with pytest.raises(ValueError, match="public_base_url"):
        StoreSection(public_base_url="192.168.1.10:8470")
    assert StoreSection(public_base_url="http://10.0.0.2:8470/").receipt_lookup_url == \
        "http://10.0.0.2:8470/tra-cuu"
    assert StoreSection(lookup_url="https://x.vn/hs",
                        public_base_url="http://10.0.0.2").receipt_lookup_url == "https://x.vn/hs"


def test_receipt_qr_opens_the_public_status_in_chromium(store: Store, port: int,
                                                       tmp_path: Path) -> None:
    d = _dossier(store)
    staff_view = store.dossiers.get(d["code"])
    assert staff_view is not None
    found = decode_page(receipt_pdf(context(store, staff_view)), tmp_path)
    url = f"http://127.0.0.1:{port}/tra-cuu?ma={d['code']}&mk={d['secret']}"
    assert found["zbar:QR-Code"] == {url}, found
    # the Code 128 stays as it was: code/secret for the desk's and the kiosk's scanners
    assert found["zbar:CODE-128"] == {f"{d['code']}/{d['secret']}"}, found
    with serve(create_app(store), port) as base, chromium() as browser:
        assert url.startswith(base)
        page = browser.new_page(viewport=PHONE)
        page.goto(url)
        text = page.inner_text("body")
        assert d["code"] in text
        assert "Nguyễn T** Á** T**" in text and "Nguyễn Thị Ánh Tuyết" not in text
        assert PUBLIC in text and INTERNAL not in text
        assert "Đang giải quyết" in text
        # big readable text: the stage is at least 24 CSS pixels high, and nothing overflows
        assert float(page.eval_on_selector("#stage", "e => parseFloat(getComputedStyle(e)"
                                                     ".fontSize)")) >= 24
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(tmp_path / "dossier-phone.png"))
        page.goto(url.replace(d["secret"], "ZZZZZZ"))
        assert "Không tìm thấy hồ sơ" in page.inner_text("body")
        assert INTERNAL not in page.content()


def test_wrong_secret_answers_exactly_as_an_unknown_code(store: Store) -> None:
    d = _dossier(store)
    client = TestClient(create_app(store))
    wrong = client.get("/tra-cuu", params={"ma": d["code"], "mk": "ZZZZZZ"})
    unknown = client.get("/tra-cuu", params={"ma": "000.00.06.G04-991231-9999",
                                             "mk": "ZZZZZZ"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.content == unknown.content
    assert wrong.headers["cache-control"] == "no-store"
    right = client.get("/tra-cuu", params={"ma": d["code"], "mk": d["secret"]})
    assert right.status_code == 200 and PUBLIC in right.text and INTERNAL not in right.text


def test_public_status_shares_the_lookup_rate_limit(store: Store) -> None:
    d = _dossier(store)
    s = store.settings
    # a stopped clock: no token comes back however slowly the requests go
    client = TestClient(create_app(store, RateLimiter(s.lookup_rate_per_s, s.lookup_burst,
                                                      s.max_failed_lookups,
                                                      monotonic=lambda: 0.0)))
    burst = store.settings.lookup_burst
    codes = [client.get("/tra-cuu", params={"ma": d["code"], "mk": d["secret"]}).status_code
             for _ in range(burst)]
    assert codes == [200] * burst
    limited = client.get("/tra-cuu", params={"ma": d["code"], "mk": d["secret"]})
    assert limited.status_code == 429 and "quá nhanh" in limited.text
    # the JSON lookup draws on the same budget for this address
    r = client.post("/api/v1/lookup", json={"code": d["code"], "secret": d["secret"]})
    assert r.status_code == 429
