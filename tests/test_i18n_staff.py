"""What an installer or officer reads, in Vietnamese (MOTCUA_LANG unset or vi): the journal's
log lines, a command's error, a set-up file's problems, the printer's faults, the demo's
day report. English stays available with MOTCUA_LANG=en (the rest of the suite reads it)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from appliance import i18n
from appliance.board.state import BoardModel
from appliance.clock import VN_TZ
from appliance.errors import ConfigError
from appliance.hub.report import DayReport, ServiceFigures, format_report
from appliance.setup.schema import read_setup
from drivers.printer import FakeLink, FakePrinter, PaperOut, TicketPrinter, build_job

ROOT = Path(__file__).resolve().parents[1]
DEMO_SITE = ROOT / "firmware_config" / "examples" / "demo-site"
SETUP_EXAMPLE = ROOT / "image" / "motcua-setup.example.toml"


@pytest.fixture
def vi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(i18n.ENV, "vi")


def _motcua(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != i18n.ENV}  # the default: Vietnamese
    return subprocess.run([sys.executable, "-m", "appliance.cli", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_a_wrong_database_address_is_named_in_vietnamese(tmp_path: Path) -> None:
    run = _motcua("receipt", "000.00.06.G04-261130-0001", "--config",
                  str(DEMO_SITE / "store.toml"), "--database", "foo://bar",
                  "--out", str(tmp_path / "r.png"))
    assert run.returncode == 1
    assert ("không dùng được địa chỉ cơ sở dữ liệu 'foo://bar': dùng sqlite:/// hoặc "
            "postgresql://") in run.stderr
    assert "unsupported" not in run.stderr


def test_the_journal_says_the_hub_is_silent_in_vietnamese(
        vi: None, caplog: pytest.LogCaptureFixture) -> None:
    model = BoardModel("demo", hub_silence_s=100)
    model._heard_hub(1000.0)
    now = datetime(2026, 12, 3, 9, 0, tzinfo=VN_TZ)
    with caplog.at_level(logging.WARNING, logger="appliance.board.state"):
        model.check_silence(now, at=1000.0 + 101)
    assert [r.getMessage() for r in caplog.records] == [
        "không nhận được tin nào từ hub trong 100 s"]


def test_a_wrong_set_up_file_is_explained_in_vietnamese(vi: None, tmp_path: Path) -> None:
    path = tmp_path / "motcua-setup.toml"
    shutil.copy(SETUP_EXAMPLE, path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('kind = "wired"', 'kind = "wifi"')
                    .replace('address = "dhcp"', 'address = "192.168.1.21"'), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_setup(path)
    said = "\n".join(err.value.problems)
    assert 'cần độ dài tiền tố, ví dụ "192.168.1.21/24"' in said
    assert "needs" not in said


def test_a_printer_out_of_paper_says_so_in_vietnamese(vi: None) -> None:
    printer = TicketPrinter(lambda: FakeLink(FakePrinter(paper="out")), status_timeout_s=0.05)
    with pytest.raises(PaperOut, match=r"^máy in hết giấy$"):
        printer.print_job(build_job(Image.new("1", (576, 40), 1)))


def test_the_day_report_reads_in_vietnamese(vi: None) -> None:
    report = DayReport(day="2026-12-03", services={
        "A": ServiceFigures(issued=3, served=2, no_shows=1, waits_s=[60.0, 120.0],
                            service_s=[300.0])}, ratings={"1": {"satisfied": 2}})
    lines = format_report(report, {"A": "Chứng thực"}).splitlines()
    assert lines[0] == "Ngày 2026-12-03  (theo số liệu của hub)"
    assert lines[1].split()[:3] == ["dịch", "vụ", "cấp"]
    assert lines[2].startswith("A Chứng thực") and "1,5 phút" in lines[2]
    assert lines[3].split()[:5] == ["Tổng", "3", "2", "1", "0"]
    assert lines[4] == "Đánh giá (rất hài lòng / hài lòng / không hài lòng):"
    assert lines[5] == "  Quầy 1: 0 / 2 / 0"


def test_a_store_command_says_only_what_matters(tmp_path: Path) -> None:
    # a fresh database is migrated on the way: none of Alembic's INFO lines reach the console
    run = _motcua("receipt", "000.00.06.G04-261130-0001", "--config",
                  str(DEMO_SITE / "store.toml"), "--data", str(tmp_path / "store"),
                  "--out", str(tmp_path / "r.png"))
    assert run.returncode == 1
    assert "alembic" not in run.stderr.lower()
    assert run.stderr.strip().splitlines()[-1] == (
        "motcua receipt: không có hồ sơ '000.00.06.G04-261130-0001'")


def test_a_board_without_a_speaker_says_so_in_vietnamese(vi: None, tmp_path: Path) -> None:
    from appliance.monitor import verdict
    from drivers.audio import WavRecorder

    problem = WavRecorder(tmp_path).problem
    assert problem == f"no speaker: lời mời chỉ được ghi thành tệp WAV vào {tmp_path}"
    now = datetime(2026, 12, 3, 9, 0, tzinfo=VN_TZ)
    status = {"state": "alert", "reasons": [problem], "at": now.isoformat()}
    assert verdict(status, now)[1] == (
        f"cảnh báo — không có loa (no speaker): lời mời chỉ được ghi thành tệp WAV vào "
        f"{tmp_path} (0 giây trước)")


def test_an_http_request_with_wrong_fields_is_answered_in_vietnamese(
        vi: None, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from appliance.config.store import StoreSection
    from appliance.store.api import create_app
    from appliance.store.core import open_store

    store = open_store(StoreSection(), data_path=tmp_path / "data", base_dir=tmp_path,
                       url=f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        with TestClient(create_app(store)) as client:
            r = client.post("/api/v1/lookup", json={"code": "000.00.06.G04-261130-0001",
                                                    "extra": 1})
            missing = client.post("/api/v1/lookup", json={
                "code": "000.00.06.G04-261130-0001", "secret": "AAAAAA"})
    finally:
        store.close()
    assert r.status_code == 422
    assert r.json()["error"]["message"] == (
        "Dữ liệu không hợp lệ: secret: thiếu trường bắt buộc; "
        "extra: trường không có trong yêu cầu")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "không có hồ sơ với mã hồ sơ và mã tra cứu này"
