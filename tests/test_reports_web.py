"""The report pages and exports of the store's web app: who may see what, the XLSX read
back with openpyxl, the CSV's byte-order mark, the monthly PDF through pdftotext, and
every SVG chart parsed as XML."""

from __future__ import annotations

import csv
import html
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from appliance.clock import VN_TZ
from appliance.contract import RecordsPut
from appliance.store.api import create_app
from appliance.store.core import Store
from tests.desk_helpers import OTHER, PASSWORD, add_accounts, log_in, pdf_text

pytest_plugins = ["tests.pg"]
DAY = datetime(2026, 11, 30, 8, 0, tzinfo=VN_TZ)


def a_day(store: Store) -> list[dict]:
    """Twelve tickets of 30 Nov with known times, shipped as the hub would."""
    tickets = []
    for i in range(12):
        issued = DAY + timedelta(minutes=10 * i)
        called = issued + timedelta(minutes=3 * i)  # waits 0, 3, ..., 33 min
        finished = called + timedelta(minutes=5)
        state = "no_show" if i == 11 else "finished"
        tickets.append({
            "rev": i + 1, "day": "2026-11-30", "number": f"A{i + 1:03d}", "service": "A",
            "priority": False, "state": state, "origin": "hub", "unit": "dispenser-1",
            "issued_at": issued.isoformat(), "first_called_at": called.isoformat(),
            "called_at": called.isoformat(), "finished_at": finished.isoformat(),
            "counter": "1" if i % 2 else "2", "officer": "CB01" if i % 2 else "CB02",
            "calls": 1, "rating": ["very_satisfied", "satisfied", "unsatisfied", None][i % 4]
            if state == "finished" else None})
    events = [{"seq": 1, "type": "counter.opened", "at": DAY.isoformat(), "day": "2026-11-30",
               "counter": "1", "officer": "CB01"},
              {"seq": 2, "type": "counter.closed", "day": "2026-11-30", "counter": "1",
               "at": (DAY + timedelta(hours=4)).isoformat()}]
    store.records.put("demo", store.settings.agency_code, RecordsPut.model_validate(
        {"id": "t", "op": "records.put", "tickets": tickets, "counter_events": events}))
    return tickets


@pytest.fixture
def client(store: Store, store_clock) -> Iterator[TestClient]:
    add_accounts(store)
    store.users.set_user("lanhdaokhac", "leader", password=PASSWORD, office=OTHER)
    a_day(store)
    store_clock.set(DAY + timedelta(hours=9))
    with TestClient(create_app(store)) as c:
        yield c


Q = "/reports?kind=month&at=2026-11-15"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: the pages' SQL is the figures' (tested on both databases elsewhere)."""
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


def test_who_sees_the_reports(client: TestClient) -> None:
    log_in(client, "tiepnhan")  # receiving staff: not for them
    r = client.get(Q)
    assert r.status_code == 403
    client.cookies.clear()
    log_in(client, "lanhdao")
    r = client.get(Q)
    assert r.status_code == 200
    # the pages are Vietnamese whatever MOTCUA_LANG says (English is a switch in the footer)
    assert "Phục vụ trong 15 phút" in r.text and "CB01" in r.text
    client.cookies.clear()
    log_in(client, "lanhdaokhac")  # another office's leader: their office only, whatever asked
    r = client.get(Q + "&office=000.00.06.G04")
    assert r.status_code == 200 and "CB01" not in r.text
    client.cookies.clear()
    r = client.get(Q, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    # a period that cannot be read is named
    log_in(client, "lanhdao")
    r = client.get("/reports?kind=fortnight")
    assert r.status_code == 422 and "kỳ báo cáo không hợp lệ 'fortnight'" in html.unescape(r.text)
    r = client.get("/reports?kind=range&at=2026-11-30&until=2026-11-01")
    assert r.status_code == 422 and "ngày kết thúc trước ngày bắt đầu" in r.text
    r = client.get("/reports?kind=day&at=30/11/2026")
    assert r.status_code == 422 and "ngày không hợp lệ" in r.text
    assert client.get("/reports?target=0").status_code == 422


def test_xlsx_and_csv_read_back(client: TestClient, store: Store) -> None:
    log_in(client, "lanhdao")
    r = client.get("/reports/export.xlsx?kind=day&at=2026-11-30&target=10")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["Hàng đợi theo dịch vụ"]
    heads = [c.value for c in ws[5]]
    assert heads[:6] == ["Dịch vụ", "Số phát", "Đã phục vụ", "Vắng mặt", "Hết hạn",
                         "Chờ TB (phút)"]
    row = [c.value for c in ws[6]]
    waits = [3 * i for i in range(12)]
    assert row[:5] == ["A", 12, 11, 1, 0]
    assert row[5] == round(sum(waits) / 12, 1)
    assert row[6] == 30.0  # nearest-rank p90 of 0..33 step 3: the 11th of 12
    level = heads.index("Đạt mức phục vụ (%)")
    assert row[level] == round(100 * 4 / 11, 1)  # served within 10 min: waits 0, 3, 6, 9
    assert ws.cell(6, level + 1).number_format == '0.0" %"'
    assert ws.cell(6, 2).number_format == "#,##0"
    assert ws["B3"].number_format == "dd/mm/yyyy hh:mm" and ws["B3"].is_date
    sat = wb["Mức độ hài lòng theo cán bộ"]
    by = {r[0].value: [c.value for c in r] for r in sat.iter_rows(min_row=6)}
    assert [c.value for c in sat[5]][1:4] == ["Rất hài lòng", "Hài lòng", "Không hài lòng"]
    assert by["CB02"][1:4] == [3, 0, 3]  # tickets 0, 4, 8 very; 2, 6, 10 unsatisfied
    assert by["CB01"][1:4] == [0, 3, 0]  # 1, 5, 9 satisfied; 3, 7 unrated; 11 no-show
    # the CSV: a byte-order mark, then Vietnamese intact
    r = client.get("/reports/export.csv?kind=day&at=2026-11-30&table=satisfaction_officer")
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Mức độ hài lòng theo cán bộ"]
    assert rows[1][:4] == ["Cán bộ", "Rất hài lòng", "Hài lòng", "Không hài lòng"]
    assert rows[2][:4] == ["CB01", "0", "3", "0"]
    assert client.get("/reports/export.csv?table=nope").status_code == 404
    whole = client.get("/reports/export.csv?kind=day&at=2026-11-30").content.decode("utf-8-sig")
    assert "Tỷ lệ đúng hạn theo tháng" in whole and "Phân bố thời gian chờ" in whole


def test_monthly_pdf_and_charts(client: TestClient, tmp_path: Path) -> None:
    log_in(client, "lanhdao")
    r = client.get("/reports/monthly.pdf?at=2026-11-15")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    text = pdf_text(r.content, tmp_path, "monthly")
    assert "BÁO CÁO KẾT QUẢ TIẾP NHẬN VÀ GIẢI QUYẾT THÁNG 11/2026" in text
    assert "Từ ngày 01 tháng 11 năm 2026 đến ngày 30 tháng 11 năm 2026" in text
    assert "Quyết định 766/QĐ-TTg" in text and "Mức độ hài lòng theo cán bộ" in text
    assert "CB01" in text and "Không hài lòng" in text
    # the charts: valid SVG, nothing fetched from anywhere
    for name in ("arrivals", "waits", "on_time", "satisfaction"):
        r = client.get(f"/reports/chart/{name}.svg?kind=day&at=2026-11-30")
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        root = ET.fromstring(r.content)
        assert root.tag == "{http://www.w3.org/2000/svg}svg", name
        # nothing to fetch: no script, no link to anywhere (the page works offline)
        scripts = list(root.iter("{http://www.w3.org/2000/svg}script"))
        assert not [e for e in scripts if e.get("src") or e.get("href")], name
        links = [v for e in root.iter() for k, v in e.attrib.items() if k.endswith("href")]
        assert not [v for v in links if "://" in v], f"{name} links out: {links}"
    bars = ET.fromstring(client.get("/reports/chart/arrivals.svg?kind=day&at=2026-11-30")
                         .content)
    rects = [e for e in bars.iter("{http://www.w3.org/2000/svg}rect")
             if "rect" in (e.get("class") or "")]
    assert len(rects) >= 2  # 08:00-09:59, six tickets an hour
    assert client.get("/reports/chart/pie.svg").status_code == 404
