"""The board's voice through a real ALSA device: the samples that came out, not the WAV.

This kernel has no snd-aloop, so the device is an ALSA ``file`` pcm (alsa-lib's own plug,
configured in the board's ~/.asoundrc) writing every sample SDL's ALSA back end sent into
a pipe read at a sound card's pace (tests/alsa_sink.py). The real ``motcua board`` runs
in a window on Xvfb, the real hub calls a number, and the test compares what reached ALSA
with the announcement the board rendered: same samples, at the configured volume.
"""

from __future__ import annotations

import array
import math
import sys
import time
import wave
from pathlib import Path
from typing import Any

import pytest

from appliance.broker import MosquittoBroker
from appliance.bus import Bus
from tests.xserver import end, have_tools, motcua, xserver

pytestmark = pytest.mark.skipif(have_tools() is not None, reason=f"needs Xvfb ({have_tools()})")

RATE = 22050  # the board opens the mixer at espeak-ng's rate, mono, 16 bit


def _asoundrc(home: Path, out: Path) -> None:
    sink = Path(__file__).with_name("alsa_sink.py")
    home.mkdir(parents=True, exist_ok=True)
    (home / ".asoundrc").write_text(
        "pcm.!default {\n"
        "    type file\n"
        '    slave.pcm "null"\n'
        f'    file "|{sys.executable} {sink} {out} {RATE * 2}"\n'
        '    format "raw"\n'
        "}\n", "utf-8")


def _samples(data: bytes) -> array.array[int]:
    a = array.array("h")
    a.frombytes(data[: len(data) // 2 * 2])
    return a


def _loud(a: array.array[int], level: int = 300) -> int | None:
    return next((i for i, v in enumerate(a) if abs(v) > level), None)


def _corr(x: array.array[int], y: array.array[int]) -> tuple[float, float]:
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    cov = sum((p - mx) * (q - my) for p, q in zip(x, y, strict=True))
    vx = sum((p - mx) ** 2 for p in x)
    vy = sum((q - my) ** 2 for q in y)
    return cov / math.sqrt(vx * vy), math.sqrt(vy / vx)


def _match(played: array.array[int], wanted: array.array[int]) -> tuple[float, float]:
    """(correlation, loudness ratio) of ``played`` against ``wanted``, best aligned."""
    i, j = _loud(played), _loud(wanted)
    assert i is not None and j is not None
    n = min(len(played) - i - 32, len(wanted) - j)
    assert n > RATE // 2, "less than half a second of the announcement came out"
    # the onset threshold meets a quieter copy a few samples later: try the nearby lags
    probe = RATE // 10
    lag = max(range(-min(32, i), 33), key=lambda k: _corr(wanted[j:j + probe],
                                                  played[i + k:i + k + probe])[0])
    return _corr(wanted[j:j + n], played[i + lag:i + lag + n])


def test_a_call_is_heard_through_alsa(demo_site: Path, tmp_path: Path,
                                      broker: MosquittoBroker, hub: Any,
                                      make_bus: Any) -> None:
    config = demo_site / "board-1.toml"
    text = config.read_text("utf-8").replace('resolution = "1920x1080"',
                                             'resolution = "1280x720"')
    text = text.replace('quiet_hours = [{ start = "12:00", end = "13:00" }]', "quiet_hours = []")
    config.write_text(text, "utf-8")
    home, out, data = tmp_path / "home", tmp_path / "alsa-out.raw", tmp_path / "board-data"
    _asoundrc(home, out)
    log = tmp_path / "board.log"
    with xserver(1280, 720) as x:
        proc = motcua("board", "--config", str(config), "--broker", broker.url, "--data",
                      str(data), "--windowed", log=log,
                      env=x.env(SDL_AUDIODRIVER="alsa", HOME=str(home)))
        try:
            status: list[dict[str, Any]] = []
            watch: Bus = make_bus("watch", "board")
            from appliance.contract import decode

            watch.subscribe(watch.topics.status("board-1"),
                            lambda m: status.append(decode(m.payload)) if m.payload else None)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(
                    s.get("state") == "ready" for s in status):
                time.sleep(0.1)
            assert any(s.get("state") == "ready" for s in status), (status, log.read_text())
            disp, counter = make_bus("dispenser-1"), make_bus("counter-1", "counter")
            assert disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)["ok"]
            assert counter.request("hub", {"op": "counter.open", "counter": "1"},
                                   timeout=5)["ok"]
            assert counter.request("hub", {"op": "counter.next", "counter": "1"},
                                   timeout=5)["ok"]
            # wait until the board says it announced the call, then for the sink to settle
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(
                    s.get("announced", 0) >= 1 for s in status):
                time.sleep(0.1)
            assert any(s.get("announced", 0) >= 1 for s in status), status[-1:]
            assert status[-1].get("audio") == "ok", status[-1]
        finally:
            code = end(proc)
        assert code == 0, log.read_text("utf-8", "replace")
    rendered = sorted((data / "voice-cache").glob("*.wav"))
    assert rendered, "the board rendered no announcement"
    with wave.open(str(rendered[-1]), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2)
        wanted = _samples(w.readframes(w.getnframes()))
    played = _samples(out.read_bytes())
    assert _loud(played) is not None, "ALSA received only silence"
    corr, ratio = _match(played, wanted)
    assert corr > 0.99, f"what came out of ALSA is not the announcement (r = {corr:.3f})"
    # the board's volume (0.8 in board-1.toml) is applied on the way to the speaker
    assert 0.7 < ratio < 0.9, ratio
