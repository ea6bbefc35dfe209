"""A receiving officer's day in real Chromium (Debian's, driven by Playwright): log in,
receive by typing and by scanning, print Mẫu 01, hand over, supplement, resume, extend,
pass on and back, ready, return; another office's officer cannot see it. Each page is
screenshotted and compared loosely with the kept reference (tests/reference/desk/)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from appliance.broker import free_port
from appliance.store.api import create_app
from appliance.store.core import Store
from tests.desk_helpers import PASSWORD, add_accounts, decode_page, pdf_text

pytest_plugins = ["tests.pg"]

CHROMIUM = "/usr/bin/chromium"
REFERENCE = Path(__file__).parent / "reference" / "desk"


@pytest.fixture
def server(store: Store) -> Iterator[str]:
    import uvicorn

    add_accounts(store)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port,
                                        log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the store's HTTP server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def shot(page, name: str, out: Path, reference: Path = REFERENCE) -> None:
    """Screenshot the page; compare loosely with the reference (kept on first run)."""
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    ref = reference / f"{name}.png"
    if not ref.exists():
        reference.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, ref)
        return
    a, b = Image.open(path).convert("L"), Image.open(ref).convert("L")
    assert a.size == b.size, name
    # codes, times and secrets differ run to run: the layout must stay, within a margin
    diff = ImageStat.Stat(ImageChops.difference(a, b)).mean[0]
    assert diff < 12, f"{name}: looks different from {ref} (mean difference {diff:.1f})"


def login(page, base: str, name: str) -> None:
    page.goto(f"{base}/worklist")
    assert page.url.startswith(f"{base}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{base}/worklist")


def do(page, action: str, **fields: str) -> None:
    page.click(f"#act-{action} summary")
    form = page.locator(f"#act-{action} form")
    for name, value in fields.items():
        el = form.locator(f"[name={name}]")
        if el.evaluate("e => e.tagName") == "SELECT":
            el.select_option(value)
        elif el.get_attribute("type") == "checkbox":
            el.check()
        else:
            el.fill(value)
    with page.expect_navigation():
        form.locator("button.primary").click()
    assert page.locator(".error").count() == 0, page.locator(".error").inner_text()


def test_a_day_at_the_desk(server: str, browser, store: Store, tmp_path: Path) -> None:
    base = server
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    login(page, base, "tiepnhan")
    cookie = next(c for c in page.context.cookies() if c["name"] == "motcua_phien")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    shot(page, "worklist", tmp_path)
    # receive by typing: the procedure found without accents
    page.click("text=Tiếp nhận")
    page.fill("form.card input[name=q]", "dang ky khai sinh")
    page.click("form.card button.primary")
    page.locator("ul.procs").get_by_role("link", name="Đăng ký khai sinh", exact=True).click()
    shot(page, "receive", tmp_path)
    page.check("#doc_0")
    page.check("#doc_1")
    # the applicant's CCCD QR scanned: the scanner types it and presses Enter
    page.fill("#cccd_scan", "001203004567|123456789|Trần Văn Bình|01012003|Nam|"
                            "Số 5 ngõ 12 phường Mẫu|15082021")
    page.press("#cccd_scan", "Enter")
    assert page.input_value("input[name=applicant_name]") == "Trần Văn Bình"
    assert page.input_value("input[name=applicant_id]") == "001203004567"
    page.fill("input[name=applicant_phone]", "0987654321")
    page.fill("input[name=applicant_email]", "binh@example.vn")
    assert page.input_value("input[name=applicant_address]") == "Số 5 ngõ 12 phường Mẫu"
    page.fill("input[name=fee_due]", "8000")
    page.fill("input[name=fee_paid]", "8000")
    with page.expect_navigation():
        page.click("#receive button.primary")
    assert "Đã tiếp nhận hồ sơ" in page.inner_text(".ok")
    code = page.url.split("/dossiers/")[1].split("?")[0]
    d = store.dossiers.get(code)
    assert d is not None and d["applicant_id"] == "001203004567"
    assert d["procedure"]["code"] == "1.001193" and len(d["documents"]) == 2
    shot(page, "dossier_new", tmp_path)
    # print Mẫu 01: the PDF the link serves, read back and scanned
    href = page.get_attribute("a:has-text('In Giấy tiếp nhận')", "href")
    r = page.request.get(base + str(href))
    assert r.headers["content-type"] == "application/pdf"
    text = pdf_text(r.body(), tmp_path)
    assert f"Mã hồ sơ: {code}" in text and "Trần Văn Bình" in text
    found = decode_page(r.body(), tmp_path)
    assert found["zbar:CODE-128"] == {f"{code}/{d['secret']}"}
    # a scanner types the receipt's barcode into the search box and presses Enter
    page.goto(f"{base}/worklist")
    page.fill("#q", f"{code}/{d['secret']}")
    with page.expect_navigation():
        page.press("#q", "Enter")
    page.wait_for_url(f"{base}/dossiers/{code}")
    do(page, "handover", to_user="xuly", step_due="2026-12-01T16:00", note="Chuyển xử lý")
    do(page, "supplement", missing="Giấy chứng sinh bản chính", note="Bản photo không rõ",
       public="1")
    assert "Chờ bổ sung hồ sơ" in page.inner_text("h1")
    shot(page, "dossier_supplement", tmp_path)
    do(page, "resume", note="Đã bổ sung")
    do(page, "extend", new_due="2026-12-08T16:00", note="Chờ xác minh")
    do(page, "liaison_out", to_unit="Sở Tư pháp tỉnh", note="Xin ý kiến")
    assert "Liên thông" in page.inner_text("h1")
    do(page, "liaison_back", note="Đã có ý kiến")
    do(page, "ready", counter="3")
    do(page, "returned", return_method="counter")
    assert "Đã trả kết quả" in page.inner_text("h1")
    shot(page, "dossier_returned", tmp_path)
    d = store.dossiers.get(code)
    assert d is not None and [h["action"] for h in d["history"]] == [
        "received", "handover", "supplement", "resume", "extend", "liaison_out",
        "liaison_back", "ready", "returned"]
    # receive a second one by scanning: search finds it by name typed without accents
    page.goto(f"{base}/search?q=tran van binh")
    assert code in page.inner_text("table.list")
    # another office's officer: no row, and the page itself is refused
    other = browser.new_page(viewport={"width": 1366, "height": 768})
    login(other, base, "khac")
    other.goto(f"{base}/search?q=tran van binh")
    assert code not in other.content()
    resp = other.goto(f"{base}/dossiers/{code}")
    assert resp is not None and resp.status == 403
    assert "cơ quan khác" in other.inner_text("main")
    shot(other, "other_office_refused", tmp_path)
