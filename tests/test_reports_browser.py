"""The report pages in real Chromium (Debian's, driven by Playwright): a leader logs in,
opens the month, changes the period, sees each chart drawn with its table beside it, and
downloads the XLSX. Screenshots are compared loosely with tests/reference/reports/."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from openpyxl import load_workbook

from appliance.store.core import Store
from tests.desk_helpers import add_accounts
from tests.test_reports_web import DAY, a_day
from tests.test_store_desk_browser import browser, login, server, shot

pytest_plugins = ["tests.pg"]
REFERENCE = Path(__file__).parent / "reference" / "reports"
__all__ = ["browser", "server"]  # fixtures shared with the desk's browser test


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


def test_a_leader_reads_the_month(server: str, browser, store: Store, store_clock,
                                  tmp_path: Path) -> None:
    add_accounts(store)
    a_day(store)
    store_clock.set(DAY.replace(hour=17))
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    login(page, server, "lanhdao")
    page.click("nav >> text=Báo cáo")
    page.wait_for_url(f"{server}/reports")
    page.select_option("select[name=kind]", "day")
    page.fill("input[name=at]", "2026-11-30")
    with page.expect_navigation():
        page.click("form.period button.primary")
    assert "kind=day" in page.url
    assert "Ngày 30/11/2026" in page.locator("h1").inner_text()  # the pages speak Vietnamese
    shot(page, "reports-day", tmp_path, REFERENCE)
    # every chart is drawn (an SVG with its bars or line) and has its table beside it
    for name, table in (("arrivals", "arrivals"), ("waits", "waits"),
                        ("on_time", "on_time_month"), ("satisfaction", "satisfaction_officer")):
        section = page.locator(f"#chart-{name}")
        svg = section.locator("figure.chart svg")
        assert svg.count() == 1, name
        box = svg.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 120, name
        ET.fromstring(svg.evaluate("e => new XMLSerializer().serializeToString(e)"))
        assert section.locator(f"#t-{table}").is_visible(), name
        tbox = section.locator(f"#t-{table}").bounding_box()
        assert tbox is not None and tbox["x"] > box["x"] + box["width"] - 5, \
            f"{name}: the table is not beside its chart"
    arrivals = page.locator("#chart-arrivals svg .rect, #chart-arrivals svg rect.rect")
    assert arrivals.count() >= 2
    assert page.locator("#t-arrivals tbody tr").count() == 2  # 08:00 and 09:00
    page.locator("#chart-satisfaction").scroll_into_view_if_needed()
    shot(page, "reports-satisfaction", tmp_path, REFERENCE)
    cells = page.locator("#t-satisfaction_officer tbody tr").first.locator("td")
    assert cells.nth(0).inner_text() == "CB01" and cells.nth(2).inner_text() == "3"
    with page.expect_download() as dl:
        page.click("text=XLSX")
    path = tmp_path / "report.xlsx"
    dl.value.save_as(path)
    wb = load_workbook(io.BytesIO(path.read_bytes()))
    assert "Hàng đợi theo cán bộ" in wb.sheetnames
    page.close()
