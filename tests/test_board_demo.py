"""The demo's board: PNG frames of the calls and the announcement WAVs, from a real run."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from PIL import Image

from drivers.audio import wav_seconds


def test_headless_demo_writes_board_frames_and_announcements(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run = subprocess.run(
        [sys.executable, "-m", "appliance.cli", "demo", "--headless", "--minutes", "30",
         "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    board = out / "board-1"
    frames = sorted(board.glob("frame-0*.png"))
    wavs = sorted(board.glob("announce-*.wav"))
    assert frames and wavs, sorted(p.name for p in board.iterdir())
    assert (board / "frame-last.png").exists()
    assert Image.open(frames[0]).size == (1920, 1080)
    # every frame and announcement names a ticket the hub really called at that counter
    db = sqlite3.connect(out / "site" / "data" / "hub" / "hub.sqlite3")
    numbers = {n for (n,) in db.execute("SELECT number FROM tickets")}
    for path in [*frames, *wavs]:
        m = re.search(r"-([A-Z]+\d+)-q(\d+)\.", path.name)
        assert m, path.name
        assert m.group(1) in numbers, path.name
    for wav in wavs:
        assert 2.0 < wav_seconds(wav) < 15.0
