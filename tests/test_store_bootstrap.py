"""`motcua store` as a whole: config, accounts bootstrap, MQTT and HTTP on one process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import bcrypt
import httpx
import pytest

from appliance.broker import MosquittoBroker, free_port
from appliance.bus import Bus
from appliance.clock import VN_TZ, ManualClock
from appliance.config import load_unit_config
from appliance.config.store import StoreSection
from appliance.errors import ConfigError
from appliance.store.bootstrap import build_store
from appliance.store.core import open_store
from appliance.store.models import DossierIn

pytest_plugins = ["tests.pg"]


def test_store_unit_serves_mqtt_and_http(demo_site: Path, broker: MosquittoBroker,
                                         make_bus: Callable[..., Bus], db_url: str) -> None:
    (demo_site / "admin-password.txt").write_text("mat-khau-dau-tien\n", encoding="utf-8")
    text = (demo_site / "store.toml").read_text(encoding="utf-8")
    text = text.replace('# admin_password_file = "admin-password.txt"',
                        'admin_password_file = "admin-password.txt"')
    (demo_site / "store.toml").write_text(text, encoding="utf-8")
    config = load_unit_config(demo_site / "store.toml", broker_url=broker.url)
    port = free_port()
    unit = build_store(config, database_url=db_url, http_port=port)
    unit.start()
    try:
        assert unit.bus.wait_connected(10)
        base = f"http://127.0.0.1:{port}"
        for _ in range(50):
            try:
                health = httpx.get(f"{base}/api/v1/health", timeout=2)
                break
            except httpx.ConnectError:
                import time

                time.sleep(0.1)
        assert health.json()["procedures"] >= 40
        token = httpx.post(f"{base}/api/v1/auth/token", data={
            "username": "admin", "password": "mat-khau-dau-tien"}).json()["access_token"]
        d = httpx.post(f"{base}/api/v1/dossiers", headers={"Authorization": f"Bearer {token}"},
                       json={"procedure_code": "1.000894",
                             "applicant_name": "Hồ Thị Xuân"}).json()["dossier"]
        kiosk = make_bus("lookup-1", "lookup")
        r = kiosk.request("store", {"op": "dossier.lookup", "code": d["code"],
                                    "secret": d["secret"]}, timeout=5)
        assert r["ok"] and r["dossier"]["applicant"] == "Hồ T** X**"
        assert r["dossier"]["procedure"]["name"] == "Đăng ký kết hôn"
        assert unit.bus.status["state"] == "ready"
    finally:
        unit.stop()


def test_users_file_is_loaded_and_checked(tmp_path: Path) -> None:
    hashed = bcrypt.hashpw(b"mat-khau-can-bo", bcrypt.gensalt(rounds=4)).decode()
    (tmp_path / "users.toml").write_text(
        f'[[users]]\nname = "tiepnhan"\nrole = "staff"\npassword_hash = "{hashed}"\n',
        encoding="utf-8")
    store = open_store(StoreSection(users_file="users.toml"), data_path=tmp_path / "d",
                       base_dir=tmp_path)
    try:
        assert store.users.login("tiepnhan", "sai") is None
        assert store.users.login("khongco", "mat-khau-can-bo") is None
        found = store.users.login("tiepnhan", "mat-khau-can-bo")
        assert found is not None and found[1].role == "staff"
        assert store.users.principal(found[0]) == found[1]
    finally:
        store.close()
    (tmp_path / "users.toml").write_text(
        '[[users]]\nname = "x"\nrole = "boss"\npassword_hash = "plain"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"users\[0\]\.role"):
        open_store(StoreSection(users_file="users.toml"), data_path=tmp_path / "d",
                   base_dir=tmp_path)


@pytest.mark.parametrize(("section", "needle"), [
    ('code_format = "{agency}-{date:%y%m%d}"', "needs {seq"),
    ('code_format = "{agnecy}-{seq}"', "bad code format"),
    ("working_weekdays = [0, 7]", "weekdays"),
    ('cutoff = "25:00"', "cutoff"),
    ("colour = 1", "colour"),
])
def test_bad_store_config_is_named(tmp_path: Path, section: str, needle: str) -> None:
    f = tmp_path / "store.toml"
    f.write_text(f'site = "demo"\nrole = "store"\n\n[store]\n{section}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_unit_config(f)
    assert needle in str(err.value)


def test_receiving_after_a_restart_continues_the_sequence(tmp_path: Path) -> None:
    def receive() -> str:
        s = open_store(StoreSection(), data_path=tmp_path / "d", base_dir=tmp_path,
                       clock=ManualClock(datetime(2026, 11, 30, 9, tzinfo=VN_TZ)))
        try:
            return s.dossiers.create(DossierIn(procedure_code="1.001193",
                                               applicant_name="Mai Văn Cúc"), "tn")["code"]
        finally:
            s.close()

    first, second = receive(), receive()
    assert (first, second) == ("000.00.06.G04-261130-0001", "000.00.06.G04-261130-0002")


def test_set_user_command(demo_site: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import sys

    from appliance.cli import main

    monkeypatch.setattr(sys, "argv", ["motcua", "store"])
    monkeypatch.setattr(sys, "stdin", io.StringIO("mat-khau-moi-123\n"))
    assert main(["store", "--config", str(demo_site / "store.toml"),
                 "--set-user", "tiepnhan:staff"]) == 0
    assert "tiepnhan" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO("ngan\n"))
    assert main(["store", "--config", str(demo_site / "store.toml"),
                 "--set-user", "x:staff"]) == 2
    config = load_unit_config(demo_site / "store.toml")
    assert config.store is not None
    store = open_store(config.store, data_path=config.data_path, base_dir=config.base_dir)
    try:
        found = store.users.login("tiepnhan", "mat-khau-moi-123")
        assert found is not None and found[1].role == "staff"
        assert store.users.login("x", "ngan") is None
    finally:
        store.close()
