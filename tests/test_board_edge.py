"""The board at its edges: the systemd unit's environment, SDL drivers, the command line."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pygame
import pytest

from appliance.board.screen import PygameScreen, kiosk_environment
from appliance.broker import MosquittoBroker
from appliance.bus import Bus
from appliance.contract import Topics, decode
from appliance.errors import DeviceError

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "motcua-board.service"


def unit_entries() -> list[tuple[str, str, str]]:
    section, out = "", []
    # the unit as systemd reads it: the file, then its drop-ins (the settings every role shares)
    text = "\n".join(p.read_text() for p in
                     [UNIT, *sorted(UNIT.with_name(UNIT.name + ".d").glob("*.conf"))])
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.append((section, key, value))
    return out


def values(key: str) -> list[str]:
    return [v for _, k, v in unit_entries() if k == key]


def test_unit_gives_sdl_what_kmsdrm_needs() -> None:
    env = dict(v.split("=", 1) for v in values("Environment"))
    assert env["SDL_VIDEODRIVER"] == "kmsdrm"
    assert env["SDL_AUDIODRIVER"] == "alsa"
    groups = " ".join(values("SupplementaryGroups")).split()
    assert {"video", "render", "audio"} <= set(groups)
    assert values("TTYPath") == ["/dev/tty1"] and values("StandardInput") == ["tty"]
    assert "getty@tty1.service" in values("Conflicts")
    allowed = " ".join(values("DeviceAllow"))
    assert "char-drm" in allowed and "char-alsa" in allowed
    assert values("ExecStart")[0].split()[1:3] == ["board", "--config"]
    assert values("Restart") == ["always"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    motcua = Path(sys.executable).parent / "motcua"
    unit = tmp_path / "motcua-board.service"
    unit.write_text(UNIT.read_text().replace("/opt/motcua/venv/bin/motcua", str(motcua)))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                          text=True, timeout=60)
    # it exits 0 on warnings: any line about our unit is a problem
    ours = [ln for ln in done.stderr.splitlines() if "motcua-board" in ln]
    assert done.returncode == 0 and not ours, done.stderr


def test_kiosk_environment_picks_kmsdrm_only_without_a_desktop() -> None:
    assert kiosk_environment({})["SDL_VIDEODRIVER"] == "kmsdrm"
    assert "SDL_VIDEODRIVER" not in kiosk_environment({"DISPLAY": ":0"})
    assert kiosk_environment({"SDL_VIDEODRIVER": "x11"})["SDL_VIDEODRIVER"] == "x11"
    assert kiosk_environment({"SDL_VIDEODRIVER": ""})["SDL_VIDEODRIVER"] == "kmsdrm"


def test_a_screen_that_cannot_open_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    pygame.display.quit()
    monkeypatch.setenv("SDL_VIDEODRIVER", "no_such_video_driver")
    with pytest.raises(DeviceError, match=r"SDL_VIDEODRIVER=no_such_video_driver.*kmsdrm"):
        PygameScreen((1280, 720), fullscreen=True)
    pygame.display.quit()


def test_real_pygame_screen_on_the_dummy_driver_shows_dirty_rects() -> None:
    pygame.display.quit()
    screen = PygameScreen((1280, 720), fullscreen=False)
    try:
        assert screen.driver == "dummy"
        assert screen.surface.get_size() == (1280, 720)
        screen.surface.fill((1, 2, 3))
        screen.show([pygame.Rect(0, 0, 10, 10)])
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE))
        assert screen.poll() is False
        assert screen.poll() is True
    finally:
        screen.close()


def test_motcua_board_headless_runs_writes_frames_and_stops_on_sigterm(
        demo_site: Path, broker: MosquittoBroker, make_bus: Callable[..., Bus],
        tmp_path: Path) -> None:
    seen: list[dict[str, object]] = []
    watcher = make_bus("watcher", "board")
    watcher.subscribe(Topics("demo").status("board-1"),
                      lambda m: seen.append(decode(m.payload)) if m.payload else None)
    out = tmp_path / "out"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "motcua"), "board", "--config",
         str(demo_site / "board-1.toml"), "--broker", broker.url, "--headless", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not list(out.glob("frame-*.png")):
            time.sleep(0.1)
        assert list(out.glob("frame-*.png")), "no frame written"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not seen:
            time.sleep(0.05)
        # no hub here: the board must not claim to be fine
        assert seen and seen[-1]["state"] == "alert", seen
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, proc.stdout.read() if proc.stdout else ""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and seen[-1]["state"] != "stopped":
            time.sleep(0.05)
        assert seen[-1]["state"] == "stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


