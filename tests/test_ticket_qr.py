"""The ticket's QR: with ``[ticket] public_url`` it is the phone page of that ticket, read
back from the printed paper by zbar; without it, today's plain code. The key is strict."""

from __future__ import annotations

import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.config import parse_unit_config
from appliance.dispenser.bootstrap import DispenserApp, build_dispenser
from appliance.errors import ConfigError
from appliance.ticketing.ticket import qr_text
from tests.printer_helpers import printed_image


def zbar(image: Any, tmp_path: Path) -> list[str]:
    out = tmp_path / "paper.png"
    image.convert("L").save(out)
    done = subprocess.run(["zbarimg", "-q", "--raw", str(out)], capture_output=True,
                          text=True, timeout=60, check=False)
    return done.stdout.splitlines()


def config_data(demo_site: Path, name: str, **ticket: Any) -> dict[str, Any]:
    data = tomllib.loads((demo_site / name).read_text("utf-8"))
    if ticket:
        data["ticket"] = ticket
    return data


@pytest.fixture
def dispenser(broker, demo_site: Path, clock, hub) -> Iterator[Any]:
    apps: list[DispenserApp] = []

    def make(**ticket: Any) -> DispenserApp:
        data = config_data(demo_site, "dispenser-1.toml", **ticket)
        config = parse_unit_config(data, source=demo_site / "dispenser-1.toml",
                                   broker_url=broker.url)
        app = build_dispenser(config, clock=clock, pin_factory=MockFactory())
        app.start()
        assert app.bus.wait_connected(10)
        deadline = time.monotonic() + 10
        while app.dispenser.site is None and time.monotonic() < deadline:
            time.sleep(0.02)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.stop()


def test_public_url_puts_the_phone_page_in_the_printed_qr(dispenser, tmp_path: Path) -> None:
    app = dispenser(public_url="http://motcua.local:8080/")
    out = app.dispenser.press("A")
    assert out.ok and out.number == "A001"
    assert app.fake_printer is not None
    paper = printed_image(bytes(app.fake_printer.received))
    # the trailing slash of the config is not doubled
    assert zbar(paper, tmp_path) == ["http://motcua.local:8080/ticket/demo/2026-11-30/A001"]


def test_without_public_url_the_qr_keeps_the_plain_code(dispenser, tmp_path: Path) -> None:
    app = dispenser()
    out = app.dispenser.press("B")
    assert out.ok and out.number == "B001"
    assert app.fake_printer is not None
    paper = printed_image(bytes(app.fake_printer.received))
    assert zbar(paper, tmp_path) == ["MOTCUA:demo:2026-11-30:B001"]


def test_public_url_wins_over_the_sites_lookup_page() -> None:
    both = qr_text(site="demo", day="2026-11-30", number="A015",
                   lookup_url="https://tracuu.example.vn/ve", public_url="https://so.example.vn/mc")
    assert both == "https://so.example.vn/mc/ticket/demo/2026-11-30/A015"


@pytest.mark.parametrize(("url", "message"), [
    ("motcua.local:8080", "must start with http:// or https://"),
    ("ftp://motcua.local", "must start with http:// or https://"),
    ("http://", "has no host name"),
    ("http://admin:secret@motcua.local", "must not hold a user name or password"),
    ("http://motcua.local/?x=1", "must not have a ?query or #fragment"),
    ("http://motcua.local:99999", "bad port"),
    ("http://motcua local", "must not contain spaces"),
])
def test_a_bad_public_url_is_refused_naming_the_key(demo_site: Path, url: str,
                                                    message: str) -> None:
    data = config_data(demo_site, "dispenser-1.toml", public_url=url)
    with pytest.raises(ConfigError) as err:
        parse_unit_config(data, source=demo_site / "dispenser-1.toml")
    assert "ticket.public_url" in str(err.value) and message in str(err.value)


def test_ticket_section_only_in_units_that_print(demo_site: Path) -> None:
    data = config_data(demo_site, "board-1.toml", public_url="http://motcua.local")
    with pytest.raises(ConfigError, match=r"\[ticket\] does not belong in a board"):
        parse_unit_config(data, source=demo_site / "board-1.toml")
    lookup = parse_unit_config(config_data(demo_site, "lookup-1.toml",
                                           public_url="https://mc.example.vn/"),
                               source=demo_site / "lookup-1.toml")
    assert lookup.public_url == "https://mc.example.vn"
