"""Time to the first frame on a real X server (Xvfb), beside a bare pygame window.

Run: .venv/bin/python bench/bench_first_frame.py [--n 3]
Each role (`motcua lookup`, `motcua board`) is started as its own process on its own
Xvfb; the clock stops when the X server's pixels are no longer black. The baseline, in
the same run, is a Python process that only opens a pygame window and flips it once.
Figures: wall time and the process's own CPU time (on a busy machine the wall time says
how busy it is; the CPU time is the role's own cost). Prints figures; it is not a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

# runnable as a script from anywhere: the project root on the path, as `python -m` would
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import statistics
import subprocess
import tempfile
import time

from tests.xserver import cpu_seconds, end, is_black, motcua, xserver

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "firmware_config" / "examples" / "demo-site"
BARE = ("import pygame, time; pygame.display.init(); s = pygame.display.set_mode(({w}, {h}));"
        " s.fill((255, 255, 255)); pygame.display.flip(); time.sleep(30)")


def first_frame(cmd: list[str] | None, role: str, size: tuple[int, int],
                tmp: Path) -> tuple[float, float]:
    with xserver(*size) as x:
        t0 = time.monotonic()
        if cmd is None:
            proc = motcua(role, "--config", str(SITE / f"{role}-1.toml"), "--broker",
                          "mqtt://127.0.0.1:1", "--data", str(tmp / role), "--windowed",
                          env=x.env(), log=tmp / f"{role}.log")
        else:
            proc = subprocess.Popen(cmd, env=x.env(), start_new_session=True)
        try:
            while is_black(x.capture()):
                time.sleep(0.02)
            return time.monotonic() - t0, cpu_seconds(proc.pid)
        finally:
            end(proc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3)
    n = ap.parse_args().n
    rows: list[tuple[str, list[tuple[float, float]]]] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for label, role, size in (("bare pygame window (baseline)", "", (1280, 800)),
                                  ("motcua lookup 1280x800", "lookup", (1280, 800)),
                                  ("motcua board 1920x1080", "board", (1920, 1080))):
            cmd = [sys.executable, "-c", BARE.format(w=size[0], h=size[1])] if not role else None
            rows.append((label, [first_frame(cmd, role, size, tmp) for _ in range(n)]))
    base_wall = statistics.median(w for w, _ in rows[0][1])
    base_cpu = statistics.median(c for _, c in rows[0][1])
    for label, runs in rows:
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{label:<32} first frame: wall {wall:5.2f} s ({wall / base_wall:4.1f}x)  "
              f"cpu {cpu:5.2f} s ({cpu / base_cpu:4.1f}x)  (median of {n})")


if __name__ == "__main__":
    main()
