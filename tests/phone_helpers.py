"""Helpers for the citizen's phone pages and the officer's counter screen: a store with a
public base URL served by uvicorn on a free loopback port, and Debian's Chromium."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}


@contextmanager
def serve(app: Any, port: int) -> Iterator[str]:
    """The app on 127.0.0.1:``port`` (uvicorn in a thread) until the block ends."""
    import uvicorn

    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the store's HTTP server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        t.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@contextmanager
def live_store(broker_url: str, demo_site: Path, tmp_path: Path, clock: Any, port: int,
               **settings: Any) -> Iterator[tuple[Any, Any]]:
    """The store unit's parts on the demo site: its database, its bus as unit ``store`` and
    the queue it sees from the hub; yields (store, view) once the hub's state has arrived."""
    from appliance.bus import Bus
    from appliance.config import load_unit_config
    from appliance.config.base import BrokerConfig
    from appliance.config.store import StoreSection
    from appliance.store.core import open_store
    from appliance.store.live.view import QueueView
    from tests.waiting import poll

    site = load_unit_config(demo_site / "hub.toml").hub
    store = open_store(StoreSection(public_base_url=f"http://127.0.0.1:{port}", **settings),
                       data_path=tmp_path / "store-data", base_dir=tmp_path, clock=clock,
                       url=f"sqlite:///{tmp_path / 'store.sqlite3'}")
    bus = Bus(site="demo", unit="store", role="store", broker=BrokerConfig(url=broker_url),
              clock=clock, status_interval_s=3600)
    view = QueueView(bus, site)
    view.attach()
    bus.start()
    try:
        assert bus.wait_connected(10), "the store's bus did not connect"
        assert poll(lambda: view.state is not None and view.info is not None, 10), \
            "the hub's retained queue/state and site/info did not reach the store"
        yield store, view
    finally:
        bus.stop()
        store.close()
