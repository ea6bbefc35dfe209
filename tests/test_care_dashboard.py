"""The fleet dashboard in real Chromium (Debian's, driven by Playwright): the fleet, site
and unit pages show each unit's state — checked in the page and in the screenshot's
pixels — logins and roles hold, and /metrics says the same in Prometheus' format."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from PIL import Image

from appliance.broker import MosquittoBroker, free_port
from appliance.care.bootstrap import CareServer, build_care
from appliance.clock import VN_TZ, SystemClock, rfc3339
from tests.test_care_live import care_config
from tests.waiting import poll

CHROMIUM = "/usr/bin/chromium"
# the badge colours of appliance/care/static/care.css
COLOURS = {"ready": (0x1E, 0x7B, 0x34), "alert": (0xC7, 0x77, 0x00), "lost": (0xB3, 0x26, 0x1E),
           "stopped": (0x5A, 0x61, 0x69), "never_seen": (0x6D, 0x3F, 0xA0)}

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)


def _status(unit: str, role: str, state: str, **extra: Any) -> bytes:
    return json.dumps({"v": 1, "unit": unit, "role": role, "state": state,
                       "reasons": extra.pop("reasons", []), "boot": "b", "session": 1,
                       "at": rfc3339(SystemClock(VN_TZ).now()), **extra}).encode()


@pytest.fixture
def care(tmp_path: Path) -> Iterator[CareServer]:
    broker = MosquittoBroker(workdir=tmp_path / "mosquitto").start()
    port = free_port()
    # statuses are published once here, so silence must not turn them lost mid-test
    config = care_config(tmp_path, hook="http://127.0.0.1:9/none", smtp_port=9, web_port=port,
                         thresholds={"unit_silence_s": 3600, "site_silence_s": 30,
                                     "never_seen_after_s": 0})
    config = config.model_copy(update={
        "broker": config.broker.model_copy(update={"url": broker.url, "username": None,
                                                   "password": None}),
        "sites": {**config.sites, "s3": config.sites["s1"].model_copy(
            update={"name": "Thị trấn Ba"})}})
    server = build_care(config)
    server.start()
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    base = "motcua/v1"
    healthy = {"disk_free_mb": 9000, "disk_total_mb": 15000, "cpu_temp_c": 52.5,
               "under_voltage": False, "throttled": False, "clock_offset_s": 0.4,
               "version": "0.1.0", "uptime_s": 7200, "sd_write_errors": 0}
    msgs = [
        ("s1/site/units", json.dumps({"v": 1, "units": {
            "hub": {"role": "hub"}, "dispenser-1": {"role": "dispenser"},
            "counter-1": {"role": "counter"}, "board-1": {"role": "board"},
            "lookup-1": {"role": "lookup"}}}).encode()),
        ("s1/unit/hub/status", _status("hub", "hub", "ready", health=healthy)),
        ("s1/unit/dispenser-1/status", _status(
            "dispenser-1", "dispenser", "alert", reasons=["paper_out"],
            health={**healthy, "paper": "out", "printer_connected": True})),
        ("s1/unit/counter-1/status", _status("counter-1", "counter", "lost")),
        ("s1/unit/board-1/status", _status("board-1", "board", "stopped")),
        ("s2/site/units", json.dumps({"v": 1, "units": {"hub": {"role": "hub"}}}).encode()),
        ("s2/unit/hub/status", _status("hub", "hub", "ready", health={
            **healthy, "under_voltage": True, "under_voltage_seen": True})),
    ]
    for topic, payload in msgs:
        pub.publish(f"{base}/{topic}", payload, qos=1, retain=True).wait_for_publish(5)
    stop = False

    def beat() -> None:  # the sites' brokers' heartbeats, as their bridges carry them
        while not stop:
            for s in ("s1", "s2"):
                pub.publish(f"{base}/{s}/broker/uptime", b"5 seconds", qos=0)
            time.sleep(0.5)

    import threading

    t = threading.Thread(target=beat, daemon=True)
    t.start()
    assert poll(lambda: server.web_started, 10)
    try:
        yield server
    finally:
        stop = True
        t.join()
        pub.loop_stop()
        server.stop()
        broker.stop()


def _badge_colour(shot: Path, box: dict[str, float]) -> tuple[int, int, int]:
    img = Image.open(shot).convert("RGB")
    # the badge's left edge, mid-height: background, not text
    x, y = int(box["x"] + 3), int(box["y"] + box["height"] / 2)
    r, g, b = img.getpixel((x, y))  # type: ignore[misc]
    return r, g, b


def _login(page: Any, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/")
    assert "/login" in page.url
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_dashboard_in_chromium(care: CareServer, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{care.config.web.port}"
    expected = {"hub": "ready", "dispenser-1": "alert", "counter-1": "lost",
                "board-1": "stopped", "lookup-1": "never_seen"}

    def settled() -> bool:
        view = care.fleet.site("s1")
        return view is not None and {u.unit: u.state for u in view.units} == expected
    assert poll(settled, 20), care.fleet.site("s1")
    shots = tmp_path / "shots"
    shots.mkdir()
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _login(page, base, "tinh", "nhầm")
        assert "Sai tên đăng nhập" in page.content()
        _login(page, base, "tinh", "matkhau-tinh")
        page.wait_for_selector("#fleet")
        page.screenshot(path=str(shots / "fleet.png"), full_page=True)
        rows = {r.get_attribute("data-site"): r for r in page.query_selector_all("tr[data-site]")}
        assert set(rows) == {"s1", "s2", "s3"}
        assert rows["s1"].get_attribute("data-state") == "alert"
        assert rows["s3"].get_attribute("data-state") == "never_seen"
        counts = {c.get_attribute("data-count"): c.inner_text()
                  for c in rows["s1"].query_selector_all("td[data-count]")}
        assert counts == {"ready": "1", "alert": "1", "lost": "1", "stopped": "1",
                          "never_seen": "1"}
        s3_badge = rows["s3"].query_selector(".state")
        assert s3_badge is not None and s3_badge.inner_text() == "Chưa từng thấy"
        assert _badge_colour(shots / "fleet.png", s3_badge.bounding_box()) == \
            COLOURS["never_seen"]

        page.click("a[href='/site/s1']")
        page.wait_for_selector("#units")
        page.screenshot(path=str(shots / "site.png"), full_page=True)
        for unit, state in expected.items():
            row = page.query_selector(f"tr[data-unit='{unit}']")
            assert row is not None and row.get_attribute("data-state") == state
            badge = row.query_selector(".state")
            assert badge is not None
            assert _badge_colour(shots / "site.png", badge.bounding_box()) == COLOURS[state]
        text = page.inner_text("tr[data-unit='dispenser-1']")
        assert "Hết giấy" in text and "paper_out" in text and "52.5 °C" in text
        assert "%" in page.inner_text("tr[data-unit='hub']")  # today's availability

        page.click("a[href='/site/s1/unit/dispenser-1']")
        page.wait_for_selector("#history")
        page.screenshot(path=str(shots / "unit.png"), full_page=True)
        assert page.inner_text("#unit-state") == "Cảnh báo"
        assert page.query_selector("#history tr[data-state='alert']") is not None
        assert "Còn giấy" not in page.inner_text("#facts")

        # a site viewer sees only the sites they were given
        page.click("header button")
        _login(page, base, "xa1", "matkhau-xa")
        page.wait_for_selector("#fleet")
        assert [r.get_attribute("data-site") for r in page.query_selector_all(
            "tr[data-site]")] == ["s1"]
        assert page.goto(f"{base}/site/s2").status == 404
        browser.close()


def test_metrics_say_the_same(care: CareServer) -> None:
    url = f"http://127.0.0.1:{care.config.web.port}/metrics"
    assert poll(lambda: care.fleet.site("s2") is not None and
                any(u.unit == "hub" for u in care.fleet.site("s2").units), 10)  # type: ignore[union-attr]
    care.tick()
    body = urllib.request.urlopen(url, timeout=5).read().decode()
    assert 'motcua_unit_state{role="counter",site="s1",state="lost",unit="counter-1"} 1.0' \
        in body
    assert 'motcua_unit_paper{paper="out",site="s1",unit="dispenser-1"} 1.0' in body
    assert 'motcua_unit_under_voltage{site="s2",unit="hub"} 1.0' in body
    assert 'motcua_site_up{site="s3"} 0.0' in body
    assert 'motcua_unit_disk_free_bytes{site="s1",unit="hub"} 9.437184e+09' in body
    # and the pages themselves need a login
    req = urllib.request.Request(f"http://127.0.0.1:{care.config.web.port}/site/s1")
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert "/login" in resp.url
