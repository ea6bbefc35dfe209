"""What a person sees on a real display: the roles in real windows on Xvfb, read back
from the X server (not from pygame's surface), compared with the reference screenshots.

A window drawn into but never flipped is black here, as it is on the glass.
"""

from __future__ import annotations

import os
import tty
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from appliance.broker import MosquittoBroker
from appliance.bus import Bus, Message
from appliance.contract import decode, ok_reply
from appliance.lookup import sample
from display.board import BoardOptions, layout
from tests.xserver import (
    XServer,
    changed_share,
    first_frame,
    have_tools,
    lookup_clock_mask,
    settle,
    wait_for_screen,
    windowed_lookup,
    windowed_role,
)

pytestmark = pytest.mark.skipif(have_tools() is not None,
                                reason=f"needs Xvfb and ImageMagick ({have_tools()})")

REF = Path(__file__).parent / "reference"
FIRST_FRAME_S = 5.0  # a role shows its first frame within this much of its own CPU time
# screens drawn by another process through X may differ from the references by font
# antialiasing only: at most this share of pixels (outside the live clock and ticker)
REFERENCE_SHARE = 0.01


def _ref(name: str) -> Image.Image:
    return Image.open(REF / name).convert("RGB")


# ---- the lookup terminal -------------------------------------------------------------


class DossierDesk:
    """A store stand-in on the real broker that knows one dossier (the sample's)."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.asked: list[dict[str, Any]] = []
        bus.subscribe(bus.topics.req_filter("store"), self._on)

    def _on(self, msg: Message) -> None:
        req = decode(msg.payload)
        self.asked.append(req)
        if req["op"] == "dossier.lookup":
            self.bus.reply(msg, ok_reply(req["id"], dossier=sample.DOSSIER))


@pytest.fixture
def kiosk(demo_site: Path, tmp_path: Path, broker: MosquittoBroker,
          make_bus: Any) -> Iterator[tuple[XServer, Any, int, DossierDesk]]:
    """``motcua lookup --windowed`` on a 1280×800 X screen, a serial scanner on a pty."""
    master, slave = os.openpty()
    tty.setraw(master)
    text = (demo_site / "lookup-1.toml").read_text("utf-8")
    text = text.replace('kind = "none"', f'kind = "serial"\ndevice = "{os.ttyname(slave)}"', 1)
    config = demo_site / "lookup-1.toml"
    config.write_text(text, "utf-8")
    desk = DossierDesk(make_bus("store", "store"))
    try:
        with windowed_lookup(config, broker.url, tmp_path) as (x, proc):
            yield x, proc, master, desk
    finally:
        os.close(master)
        os.close(slave)


def _home_masks() -> list[tuple[int, int, int, int]]:
    return lookup_clock_mask(1280, 800)


def test_the_kiosk_shows_its_home_screen_on_x_and_a_scan_changes_it(kiosk: Any,
                                                                     tmp_path: Path) -> None:
    x, proc, scanner, desk = kiosk
    first_frame(x, proc.pid, FIRST_FRAME_S)
    home = settle(x, _home_masks())
    share = changed_share(home, _ref("lookup/home-1280x800.png"), _home_masks())
    home.save(tmp_path / "x-home.png")
    assert share < REFERENCE_SHARE, f"home on X differs from the reference by {share:.2%}"

    os.write(scanner, f"{sample.DOSSIER['code']}/{sample.DOSSIER_SECRET}\r\n".encode())
    wait_for_screen(x, lambda img: changed_share(home, img, _home_masks()) > 0.2, 10)
    result = settle(x)
    result.save(tmp_path / "x-dossier.png")
    assert any(r.get("op") == "dossier.lookup" for r in desk.asked)
    share = changed_share(result, _ref("lookup/dossier-ready-1280x800.png"))
    assert share < REFERENCE_SHARE, f"the dossier on X differs from the reference: {share:.2%}"


# ---- the lobby board -----------------------------------------------------------------


def _board_masks() -> list[tuple[int, int, int, int]]:
    regions = layout(BoardOptions(size=(1280, 720)), "queue", False)
    return [_box(regions["clock"]), _box(regions["ticker"])]


def _box(r: tuple[int, ...]) -> tuple[int, int, int, int]:
    x, y, w, h = r
    return x, y, w, h


@pytest.fixture
def board_window(demo_site: Path, tmp_path: Path, broker: MosquittoBroker,
                 hub: Any) -> Iterator[tuple[XServer, Any]]:
    config = demo_site / "board-1.toml"
    text = config.read_text("utf-8").replace('resolution = "1920x1080"',
                                             'resolution = "1280x720"')
    text = text.replace('mode = "alternate"', 'mode = "queue"')
    config.write_text(text, "utf-8")
    with windowed_role("board", config, broker.url, tmp_path, width=1280,
                       height=720) as running:
        yield running


def test_the_board_shows_on_x_and_a_call_changes_it(board_window: Any, make_bus: Any,
                                                     tmp_path: Path) -> None:
    x, proc = board_window
    first_frame(x, proc.pid, FIRST_FRAME_S)
    masks = _board_masks()
    empty = settle(x, masks)
    empty.save(tmp_path / "x-board-empty.png")
    share = changed_share(empty, _ref("board/empty-1280x720.png"), masks)
    assert share < REFERENCE_SHARE, f"the empty board on X differs by {share:.2%}"

    disp, counter = make_bus("dispenser-1"), make_bus("counter-1", "counter")
    assert disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)["ok"]
    assert counter.request("hub", {"op": "counter.open", "counter": "1"}, timeout=5)["ok"]
    assert counter.request("hub", {"op": "counter.next", "counter": "1"}, timeout=5)["ok"]
    called, _ = wait_for_screen(x, lambda img: changed_share(empty, img, masks) > 0.05, 10)
    called.save(tmp_path / "x-board-called.png")
    # the call region now shows the number the hub called
    call = layout(BoardOptions(size=(1280, 720)), "queue", False)["call"]
    assert changed_share(empty.crop(_corners(call)), called.crop(_corners(call))) > 0.05


def _corners(box: tuple[int, ...]) -> tuple[int, int, int, int]:
    x, y, w, h = box
    return x, y, x + w, y + h
