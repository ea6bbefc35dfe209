"""The ticket terminal as a person sees it: ``motcua lookup --windowed`` with a printer on a
real X server (Xvfb), clicked with xdotool, the screen read back from the X server and
compared with what the renderer draws for that state; the hub gets the ticket."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pygame
import pytest
from PIL import Image

from appliance.broker import MosquittoBroker
from appliance.bus import Bus, Message
from appliance.clock import VN_TZ
from appliance.contract import decode
from appliance.lookup import sample
from appliance.lookup.state import (
    DeskInfo,
    DeskService,
    LookupState,
    Screen,
    Settings,
    Target,
    TicketResult,
    initial,
)
from display.lookup import View, layout, render
from tests import xserver as xs
from tests.waiting import poll

pytestmark = pytest.mark.skipif(
    xs.have_tools() is not None or shutil.which("xdotool") is None,
    reason=f"needs Xvfb, ImageMagick and xdotool ({xs.have_tools()})")

W, H = 1280, 800
VIEW = View(W, H, 89)
SHARE = 0.01  # font antialiasing through X may differ a little, nothing more
TITLE = "Trung tâm Phục vụ hành chính công phường Mẫu"


def drawn(state: LookupState) -> Image.Image:
    """What the renderer draws for ``state`` (the clock masked where it shows)."""
    pygame.init()
    surface = render(state, datetime(2026, 11, 30, 9, 41, tzinfo=VN_TZ), VIEW, TITLE)
    return Image.frombytes("RGB", (W, H), pygame.image.tobytes(surface, "RGB"))


def click(x: xs.XServer, state: LookupState, kind: str, value: str = "") -> None:
    for b in layout(state, VIEW):
        if b.target == Target(kind, value):
            cx, cy = b.rect.x + b.rect.w // 2, b.rect.y + b.rect.h // 2
            subprocess.run(["xdotool", "mousemove", str(cx), str(cy), "click", "1"],
                           env=x.env(), check=True, timeout=30)
            return
    raise AssertionError(f"no {kind} {value!r} on {state.screen}")


class Queue:
    def __init__(self, bus: Bus) -> None:
        self.state: dict[str, Any] = {}
        self.got = threading.Event()
        bus.subscribe(bus.topics.queue_state, self._on)

    def _on(self, msg: Message) -> None:
        self.state = decode(msg.payload)
        self.got.set()

    def waiting(self, service: str) -> list[str]:
        return list(self.state.get("services", {}).get(service, {}).get("waiting", []))


@pytest.fixture
def terminal(demo_site: Path, tmp_path: Path, broker: MosquittoBroker, hub: Any,
             make_bus: Any) -> Iterator[tuple[xs.XServer, Any, Queue]]:
    config = demo_site / "lookup-1.toml"
    text = config.read_text("utf-8")
    config.write_text(text + '\n[lookup.printer]\nconnector = { type = "dummy" }\n', "utf-8")
    queue = Queue(make_bus("board-1", "board"))
    with xs.windowed_lookup(config, broker.url, tmp_path, width=W, height=H) as (x, proc):
        yield x, proc, queue


def test_a_ticket_taken_on_the_x_screen(terminal: Any, hub: Any, tmp_path: Path) -> None:
    x, proc, queue = terminal
    site = hub.config.hub
    desk = DeskInfo(tuple(DeskService(s.id, s.name, 0) for s in site.services),
                    tuple(site.priority.categories), site.priority.label)
    home = replace(initial(Settings(tickets=True), sample.catalogue()), desk=desk)
    xs.first_frame(x, proc.pid, 5.0)
    seen = xs.settle(x, xs.lookup_clock_mask(W, H))
    seen.save(tmp_path / "x-home.png")
    share = xs.changed_share(seen, drawn(home), xs.lookup_clock_mask(W, H))
    assert share < SHARE, f"home on X differs from the renderer's by {share:.2%}"

    assert queue.got.wait(10)
    click(x, home, "take")
    listed = replace(home, screen=Screen.TICKET_SERVICE)
    xs.wait_for_screen(x, lambda img: xs.changed_share(img, drawn(listed)) < SHARE, 20)
    click(x, listed, "take_service", "A")
    confirm = replace(listed, screen=Screen.TICKET_CONFIRM, take_service="A")
    xs.wait_for_screen(x, lambda img: xs.changed_share(img, drawn(confirm)) < SHARE, 20)
    click(x, confirm, "print")
    name = site.service("A").name if site.service("A") else ""
    done = replace(confirm, screen=Screen.TICKET_DONE,
                   ticket=TicketResult(True, "A001", name))
    shot, _ = xs.wait_for_screen(x, lambda img: xs.changed_share(img, drawn(done)) < SHARE, 30)
    shot.save(tmp_path / "x-done.png")
    assert poll(lambda: queue.waiting("A") == ["A001"], 10), queue.state
