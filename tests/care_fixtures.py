"""A care server with its web on HTTPS (the care CA), a release key and an enrolled site."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.broker import free_port
from appliance.care.bootstrap import CareServer, build_care
from appliance.care.enrol import ensure_broker
from appliance.care.release import keygen
from tests.test_care_live import care_config
from tests.waiting import poll


@pytest.fixture
def care(tmp_path: Path) -> Iterator[CareServer]:
    port = free_port()
    config = care_config(tmp_path, hook="http://127.0.0.1:9/x", smtp_port=9, web_port=port)
    pki = config.data_path / "pki"
    config = config.model_copy(update={"web": config.web.model_copy(update={
        "tls_cert": str(pki / "server.crt"), "tls_key": str(pki / "server.key"),
        "public_url": f"https://127.0.0.1:{port}"})})
    ensure_broker(config)  # the CA and the server certificate the web uses too
    keygen(config.data_path / "release.key", config.data_path / "release.pub")
    server = build_care(config)
    server.start()
    assert poll(lambda: server.web_started, 10)
    try:
        yield server
    finally:
        server.stop()


