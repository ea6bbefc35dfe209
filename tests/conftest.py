"""Shared fixtures: a real mosquitto per test, the demo site in a temp folder, bus clients."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import settings

# Rendering and audio run without a screen or a sound card in tests.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
# Staff messages are Vietnamese unless MOTCUA_LANG=en: most tests read the English ones
# (their wording predates the Vietnamese); tests/test_i18n.py reads the Vietnamese.
os.environ.setdefault("MOTCUA_LANG", "en")

from appliance.broker import MosquittoBroker
from appliance.bus import Bus
from appliance.clock import VN_TZ, OffsetClock
from appliance.config import load_unit_config
from appliance.config.base import BrokerConfig
from appliance.hub.bootstrap import Hub, build_hub

# CI replays a fixed set of generated cases so that its verdict is reproducible; local
# runs draw new ones every time (a case found locally becomes an ordinary test).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
DEMO_SITE = ROOT / "firmware_config" / "examples" / "demo-site"


@pytest.fixture(scope="session", autouse=True)
def _escpos_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    # `import escpos` leaves a temp folder per import unless told where to cache
    os.environ.setdefault(
        "ESCPOS_CAPABILITIES_PICKLE_DIR", str(tmp_path_factory.mktemp("escpos-cache"))
    )


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    b = MosquittoBroker(workdir=tmp_path / "mosquitto")
    b.start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def demo_site(tmp_path: Path) -> Path:
    """A private copy of the example site, so tests may write data folders beside it."""
    dest = tmp_path / "demo-site"
    shutil.copytree(DEMO_SITE, dest, ignore=shutil.ignore_patterns("data"))
    return dest


@pytest.fixture
def make_bus(broker: MosquittoBroker) -> Iterator[Callable[..., Bus]]:
    made: list[Bus] = []

    def factory(unit: str, role: str = "dispenser", site: str = "demo") -> Bus:
        bus = Bus(site=site, unit=unit, role=role, broker=BrokerConfig(url=broker.url),
                  status_interval_s=3600)
        bus.start()
        assert bus.wait_connected(10), "bus did not connect to the test broker"
        made.append(bus)
        return bus

    yield factory
    for bus in made:
        bus.stop()


# A Monday inside the demo site's opening hours (07:30-17:00, Asia/Ho_Chi_Minh).
OPENING = datetime(2026, 11, 30, 8, 0, tzinfo=VN_TZ)


@pytest.fixture
def clock() -> OffsetClock:
    """Real time flowing from 08:00 on a working Monday; share it between hub and units."""
    return OffsetClock(OPENING)


@pytest.fixture
def hub(broker: MosquittoBroker, demo_site: Path, clock: OffsetClock) -> Iterator[Hub]:
    """The real hub on the demo site's hub.toml, connected to this test's broker."""
    config = load_unit_config(demo_site / "hub.toml", broker_url=broker.url)
    h = build_hub(config, clock=clock)
    h.start()
    assert h.bus.wait_connected(10), "hub did not connect"
    try:
        yield h
    finally:
        h.stop()
