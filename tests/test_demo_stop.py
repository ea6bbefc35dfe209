"""`motcua demo` on a real X server: its windows show, and SIGTERM or SIGINT ends it within
5 s with nothing left running (its Mosquitto, the kiosk process)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.xserver import have_tools, is_black, motcua, wait_for_screen, xserver

STOP_S = 5.0


def _descendants(pid: int) -> set[int]:
    """Every process started under ``pid`` (children of children too), from /proc."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            for k in map(int, kids):
                if k not in found:
                    found.add(k)
                    todo.append(k)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_log(log: Path, text: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in log.read_text("utf-8", "replace"):
            return
        time.sleep(0.2)
    raise AssertionError(f"the demo never logged {text!r}:\n{log.read_text()[-3000:]}")


def _stop_and_check(proc: subprocess.Popen[bytes], sig: int, log: Path) -> None:
    kids = _descendants(proc.pid)
    assert kids, "the demo started no process (its Mosquitto at least)"
    proc.send_signal(sig)
    try:
        code = proc.wait(timeout=STOP_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        for k in kids:
            if _alive(k):
                os.kill(k, signal.SIGKILL)
        proc.wait()
        raise AssertionError(f"the demo did not stop within {STOP_S} s of signal {sig}") from None
    # the office's own processes end with it (give the kernel a moment to reap them)
    end = time.monotonic() + 2
    while any(_alive(k) for k in kids) and time.monotonic() < end:
        time.sleep(0.05)
    left = [k for k in kids if _alive(k)]
    for k in left:
        os.kill(k, signal.SIGKILL)
    text = log.read_text("utf-8", "replace")
    assert not left, f"left running after the demo stopped: {left}"
    assert code == 0, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    assert "Simulated" in text  # it reached its closing figures (MOTCUA_LANG=en in tests)


@pytest.mark.skipif(have_tools() is not None, reason=f"needs Xvfb ({have_tools()})")
def test_live_demo_shows_its_windows_and_stops_on_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "demo.log"
    with xserver(1920, 1080) as x:
        proc = motcua("demo", "--speed", "10", "--out", str(tmp_path / "out"),
                      env=x.env(), log=log)
        try:
            _wait_log(log, "units: hub", 60)
            # the board and the kiosk each put a window up: the X screen is no longer black
            shot, _ = wait_for_screen(x, lambda img: not is_black(img), 30)
            shot.save(tmp_path / "x-demo.png")
            _wait_log(log, "a receipt was scanned at the kiosk", 30)
            _stop_and_check(proc, signal.SIGTERM, log)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_headless_demo_stops_on_sigint(tmp_path: Path) -> None:
    log = tmp_path / "demo.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = motcua("demo", "--headless", "--minutes", "100000", "--out", str(tmp_path / "out"),
                  env=env, log=log)
    try:
        _wait_log(log, "units: hub", 60)
        time.sleep(1)  # in the middle of the simulated morning
        _stop_and_check(proc, signal.SIGINT, log)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
