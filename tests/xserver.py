"""A real X server (Xvfb) for tests that look at what a person sees, and its pixels.

The roles run as their own processes (``motcua board``, ``motcua lookup``, ``motcua demo``)
with ``DISPLAY`` pointing here and SDL's x11 driver; the pictures are taken from the X
server with ImageMagick's ``import -window root``, so a window that was drawn into but
never flipped is black here, as it would be on the glass.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

from appliance.childproc import tied_to_parent

Box = tuple[int, int, int, int]  # x, y, w, h

ROOT = Path(__file__).resolve().parent.parent


def have_tools() -> str | None:
    """None when Xvfb and ImageMagick's import are here, else what is missing."""
    missing = [t for t in ("Xvfb", "import") if shutil.which(t) is None]
    return ", ".join(missing) or None


class XServer:
    def __init__(self, width: int, height: int) -> None:
        self.size = (width, height)
        self.display = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> XServer:
        # -displayfd: Xvfb picks a free display number and tells it when it is ready
        read, write = os.pipe()
        w, h = self.size
        self._proc = subprocess.Popen(tied_to_parent(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{w}x{h}x24",
             "-nolisten", "tcp", "-noreset"]),
            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        try:
            number = b""
            while not number.endswith(b"\n"):
                chunk = os.read(read, 16)
                if not chunk:
                    raise RuntimeError("Xvfb exited before it was ready")
                number += chunk
        finally:
            os.close(read)
        self.display = f":{number.decode().strip()}"
        return self

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SDL_")}
        env.update({"DISPLAY": self.display, "SDL_VIDEODRIVER": "x11",
                    "PYGAME_HIDE_SUPPORT_PROMPT": "1",
                    "SDL_AUDIODRIVER": "dummy", "PYTHONUNBUFFERED": "1", **extra})
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def capture(self) -> Image.Image:
        """The whole X screen as the X server holds it (RGB)."""
        out = subprocess.run(["import", "-display", self.display, "-window", "root", "png:-"],
                             capture_output=True, check=True, timeout=30).stdout
        return Image.open(BytesIO(out)).convert("RGB")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


@contextmanager
def xserver(width: int, height: int) -> Iterator[XServer]:
    x = XServer(width, height).start()
    try:
        yield x
    finally:
        x.stop()


def is_black(img: Image.Image) -> bool:
    return img.convert("L").getextrema()[1] == 0


def changed_share(a: Image.Image, b: Image.Image, masks: Iterable[Box] = (),
                  threshold: int = 40) -> float:
    """Share of pixels where some channel differs by more than ``threshold``.

    ``masks`` are regions left out of the comparison (the live clock, a scrolling ticker).
    """
    if a.size != b.size:
        return 1.0
    a, b = a.convert("RGB"), b.convert("RGB")
    diff = ImageChops.difference(a, b).convert("L").point(
        lambda v: 255 if v > threshold else 0)
    draw = ImageDraw.Draw(diff)
    masked = 0
    for x, y, w, h in masks:
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=0)
        masked += w * h
    return diff.histogram()[255] / max(1, a.size[0] * a.size[1] - masked)


def wait_for_screen(x: XServer, done: Callable[[Image.Image], bool], timeout: float,
                    poll_s: float = 0.1) -> tuple[Image.Image, float]:
    """Capture until ``done(picture)``; (that picture, seconds it took). Fails at timeout."""
    start = time.monotonic()
    last = None
    while True:
        last = x.capture()
        took = time.monotonic() - start
        if done(last):
            return last, took
        if took > timeout:
            raise AssertionError(f"the X screen did not show what was expected in {timeout} s")
        time.sleep(poll_s)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_frame(x: XServer, pid: int, budget_s: float) -> Image.Image:
    """The role's first picture on the X screen, which it must reach within ``budget_s``.

    The budget is the role's own CPU time, not the wall clock: on an idle Pi the two are
    the same, while on a CI machine shared by several jobs the wall clock only says how
    busy the machine was. A frame that never comes fails after a long wall-clock wait.
    """
    shot, _ = wait_for_screen(x, lambda img: not is_black(img), timeout=max(60.0, budget_s))
    used = cpu_seconds(pid)
    assert used <= budget_s, f"the first frame took {used:.1f} s of CPU (budget {budget_s} s)"
    return shot


def settle(x: XServer, masks: Iterable[Box] = (), timeout: float = 15.0) -> Image.Image:
    """The screen once two captures in a row agree (outside ``masks``)."""
    masks = list(masks)
    prev = x.capture()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        time.sleep(0.3)
        cur = x.capture()
        if changed_share(prev, cur, masks, threshold=8) == 0.0:
            return cur
        prev = cur
    raise AssertionError("the X screen never settled")


def motcua(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A role as its own process (its own session, so a test can end all it started)."""
    import sys

    with log.open("wb") as out:
        return subprocess.Popen(tied_to_parent([sys.executable, "-m", "appliance.cli", *args]),
                                cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def end(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 10) -> int:
    """Ask a role to stop; kill it (and what it started) if it does not. Its exit code."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


# ---- the lookup terminal on X ----------------------------------------------------------
def lookup_clock_mask(width: int = 1280, height: int = 800) -> list[Box]:
    """Home's live clock, in the header's right half: masked when screens are compared."""
    from display.lookup.theme import View

    return [(width // 2, 0, width // 2, View(width, height, 89).header_h)]


@contextmanager
def windowed_role(role: str, config: Path, broker_url: str, tmp_path: Path, *,
                  width: int = 1280, height: int = 800
                  ) -> Iterator[tuple[XServer, subprocess.Popen[bytes]]]:
    """``motcua ROLE --windowed`` on an X screen of its own (data in tmp_path/ROLE-data, log
    in tmp_path/ROLE.log); it must end cleanly (code 0, no traceback logged)."""
    log = tmp_path / f"{role}.log"
    with xserver(width, height) as x:
        proc = motcua(role, "--config", str(config), "--broker", broker_url, "--data",
                      str(tmp_path / f"{role}-data"), "--windowed", env=x.env(), log=log)
        try:
            yield x, proc
        finally:
            code = end(proc)
            text = log.read_text("utf-8", "replace")
            assert code == 0, f"the {role} exited {code}:\n{text}"
            assert "Traceback" not in text, text


@contextmanager
def windowed_lookup(config: Path, broker_url: str, tmp_path: Path, *, width: int = 1280,
                    height: int = 800) -> Iterator[tuple[XServer, subprocess.Popen[bytes]]]:
    """The lookup terminal in a window, with the sample catalogue cached as a real kiosk
    has it from the store."""
    from appliance.lookup import catalogue, sample

    catalogue.save(tmp_path / "lookup-data" / "catalogue.json", sample.catalogue())
    with windowed_role("lookup", config, broker_url, tmp_path, width=width,
                       height=height) as running:
        yield running
