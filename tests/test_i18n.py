"""Staff-facing text in Vietnamese by default, English with MOTCUA_LANG=en or --lang en;
config key paths stay as they are in both."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from appliance import i18n
from appliance.config import check_files

BAD = '''site = "demo"
role = "dispenser"
bogus = 1
[broker]
url = "http://x"
[dispenser]
hub_timeout_s = "soon"
buttons = [{ pin = 99, service = "A" }, { pin = 17, service = "A" }]
[dispenser.printer]
connector = { type = "parallel" }
'''


def _motcua(*args: str, lang: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != i18n.ENV}
    if lang is not None:
        env[i18n.ENV] = lang
    return subprocess.run([sys.executable, "-m", "appliance.cli", *args], capture_output=True,
                          text=True, env=env, timeout=60)


def test_check_config_speaks_vietnamese_by_default(tmp_path: Path) -> None:
    bad = tmp_path / "dispenser-1.toml"
    bad.write_text(BAD, "utf-8")
    run = _motcua("check-config", str(bad), str(tmp_path / "missing.toml"), lang=None)
    assert run.returncode == 2
    err = run.stderr
    assert f"{bad}: bogus: khoá không có trong cấu hình" in err
    assert f"{bad}: broker.url: phải bắt đầu bằng mqtt:// hoặc mqtts://" in err
    assert f"{bad}: dispenser.hub_timeout_s: phải là số" in err
    assert f"{bad}: dispenser.buttons[0].pin: phải nhỏ hơn hoặc bằng 53" in err
    assert "dispenser.printer.connector: loại 'parallel' không có" in err
    assert "missing.toml: không đọc được tệp: không có tệp này" in err
    assert "Có 6 lỗi." in err
    assert "Input should" not in err and "unknown key" not in err


def test_english_is_chosen_by_setting_or_flag(tmp_path: Path) -> None:
    bad = tmp_path / "dispenser-1.toml"
    bad.write_text(BAD, "utf-8")
    by_env = _motcua("check-config", str(bad), lang="en")
    by_flag = _motcua("--lang", "en", "check-config", str(bad), lang=None)
    for run in (by_env, by_flag):
        assert run.returncode == 2
        assert f"{bad}: bogus: unknown key" in run.stderr
        assert f"{bad}: dispenser.buttons[0].pin: Input should be less than" in run.stderr
        assert "5 problem(s) found" in run.stderr


def test_help_and_argument_errors_are_vietnamese() -> None:
    top = _motcua("--help", lang=None)
    assert top.returncode == 0
    assert "Cách dùng: motcua" in top.stdout and "tuỳ chọn:" in top.stdout
    assert "chạy màn hình phòng chờ" in top.stdout and "show this help" not in top.stdout
    sub = _motcua("board", lang=None)
    assert sub.returncode == 2
    assert "motcua board: lỗi: thiếu tham số bắt buộc: --config" in sub.stderr
    demo = _motcua("demo", "--help", lang=None)
    assert "--speed LẦN" in demo.stdout and "số giây mô phỏng" in demo.stdout
    en = _motcua("--lang", "en", "board", lang=None)
    assert "the following arguments are required: --config" in en.stderr


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_key_paths_are_the_same_in_both_languages(tmp_path: Path, lang: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(i18n.ENV, lang)
    bad = tmp_path / "dispenser-1.toml"
    bad.write_text(BAD, "utf-8")
    keys = [p.split(": ")[1] for p in check_files([str(bad)])]
    assert keys == ["broker.url", "dispenser.hub_timeout_s", "dispenser.buttons[0].pin",
                    "dispenser.printer.connector", "bogus"]


@pytest.mark.parametrize(("command", "vi", "en"), [
    ("status", "số giây chờ nhận tình trạng các thiết bị", "seconds to collect retained"),
    ("hub", "tệp TOML của thiết bị", "the unit's TOML file"),
    ("store", "không mở API HTTP", "do not serve the HTTP API"),
    ("receipt", "mã hồ sơ, ví dụ", "the dossier code"),
    ("care", "tệp cấu hình care.toml", "ACTION"),
    ("update", "chứng chỉ CA của máy chủ chăm sóc", "the care server's CA certificate"),
    ("backup", "số giây giữa hai lần sao", "seconds between copies"),
    ("restore", "thư mục dữ liệu trên thẻ nhớ dự phòng", "the spare card's data folder"),
    ("record-exit", "thư mục dữ liệu của vai trò", "the role's data folder"),
    ("setup", "phân vùng khởi động", "the boot partition"),
    ("broker-setup", "tệp cấu hình của máy chủ tại chỗ", "the hub's config file"),
])
def test_every_command_explains_its_options_in_vietnamese(command: str, vi: str,
                                                          en: str) -> None:
    run = _motcua(command, "--help", lang="vi")
    assert run.returncode == 0, run.stderr
    assert vi in run.stdout and en not in run.stdout
    english = _motcua(command, "--help", lang="en")
    assert en in english.stdout and vi not in english.stdout


def test_status_lines_read_in_vietnamese_with_the_wire_words_kept_in_english(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime, timedelta

    from appliance.clock import VN_TZ
    from appliance.monitor import verdict

    now = datetime(2026, 11, 30, 9, 0, tzinfo=VN_TZ)
    old = {"state": "ready", "at": (now - timedelta(minutes=10)).isoformat()}
    alert = {"state": "alert", "reasons": ["paper_out"], "at": now.isoformat()}
    monkeypatch.setenv(i18n.ENV, "vi")
    assert verdict(old, now) == (False, "sẵn sàng nhưng lâu rồi không thấy báo (600 giây trước)")
    assert verdict({"state": "lost"}, now) == (False, "mất kết nối")
    # the reason codes stay the unit's own words on the wire: shown in words, the code beside
    assert verdict(alert, now) == (False, "cảnh báo — máy in hết giấy (paper_out) (0 giây trước)")
    disk = {"state": "alert", "reasons": ["disk: 40 MB", "new_code"], "at": now.isoformat()}
    assert verdict(disk, now) == (False,
                                  "cảnh báo — thẻ nhớ (disk): 40 MB; new_code (0 giây trước)")
    monkeypatch.setenv(i18n.ENV, "en")
    assert verdict(alert, now) == (False, "alert — paper_out (0 s ago)")


def test_counter_refusals_keep_their_board_code_and_explain_in_vietnamese(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from appliance.counter.logic import LocalError, full_number, notice_for

    monkeypatch.setenv(i18n.ENV, "vi")
    with pytest.raises(LocalError) as refused:
        full_number("15", counter="c1", site_info=None, queue_state=None)
    assert refused.value.code == "ambiguous"
    assert "bấm phím lĩnh vực trước khi bấm số" in str(refused.value)
    assert len(notice_for(refused.value.code)) <= 4


def test_a_unit_whose_own_file_fails_says_so_in_vietnamese(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from appliance.counter.store import CounterStore
    from appliance.dispenser.outbox import Outbox
    from appliance.errors import StorageError

    monkeypatch.setenv(i18n.ENV, "vi")
    folder = tmp_path / "not-a-file"
    folder.mkdir()
    with pytest.raises(StorageError, match="không mở được cơ sở dữ liệu của quầy"):
        CounterStore(folder)
    with pytest.raises(StorageError, match="không mở được kho dữ liệu của máy lấy số"):
        Outbox(folder)
