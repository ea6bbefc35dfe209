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
