"""Zero-touch set-up: one file on the boot partition turns a blank card into a unit."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
import tty
from pathlib import Path

import pytest
from PIL import Image

from appliance.config import load_unit_config
from appliance.errors import ConfigError
from appliance.setup import site as hub_site
from appliance.setup.firstboot import Paths, apply, run_setup, scrub_secrets
from appliance.setup.schema import SAVED, read_setup
from appliance.setup.show import Framebuffer, print_ticket, render_error, show_on_counter

EXAMPLE = Path(__file__).resolve().parents[1] / "image" / "motcua-setup.example.toml"


class Systemctl:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, *args: str) -> None:
        self.calls.append(args)


@pytest.fixture
def card(tmp_path: Path) -> Paths:
    paths = Paths(boot=tmp_path / "boot", etc=tmp_path / "data" / "etc", run=tmp_path / "run")
    paths.boot.mkdir()
    shutil.copy(EXAMPLE, paths.setup_file)
    # the site CA the clerk copies from the hub's card next to the set-up file
    (paths.boot / "motcua-site-ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    return paths


def test_the_shipped_example_is_a_valid_set_up_file():
    s = read_setup(EXAMPLE)
    assert (s.unit.site, s.unit.unit, s.unit.role) == ("phuong-mau", "dispenser-1", "dispenser")
    assert s.ntp_servers == ["192.168.1.10"]  # the hub serves the time
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "TỆP CÀI ĐẶT THIẾT BỊ" in text and "THE UNIT'S SET-UP FILE" in text


def test_first_boot_writes_the_unit_config_and_enables_exactly_its_role(card):
    systemctl = Systemctl()
    apply(card, systemctl)
    unit = load_unit_config(card.unit_file)
    # the unit id comes from the file, never from the path /etc/motcua/unit.toml
    assert (unit.unit, unit.role, unit.site) == ("dispenser-1", "dispenser", "phuong-mau")
    assert unit.broker.password == "doi-mat-khau-nay"
    wants = card.run / "systemd/system/multi-user.target.wants"
    enabled = sorted(p.name for p in wants.iterdir())
    assert [s for s in enabled if s.startswith("motcua-")] == ["motcua-dispenser.service"]
    assert "mosquitto.service" not in enabled  # only the hub's card runs the broker
    assert os.readlink(wants / "motcua-dispenser.service") == (
        "/etc/systemd/system/motcua-dispenser.service")
    assert systemctl.calls == [("start", "--no-block", *sorted(enabled, key=(
        ["systemd-networkd.service", "chrony.service", "motcua-dispenser.service"].index)))]
    network = (card.run / "systemd/network/20-motcua.network").read_text()
    assert "DHCP=yes" in network
    assert (card.run / "motcua/chrony.conf").read_text() == "server 192.168.1.10 iburst\n"
    assert os.readlink(card.etc / "localtime") == "/usr/share/zoneinfo/Asia/Ho_Chi_Minh"


def test_secrets_leave_the_boot_partition_and_survive_the_next_boot(card):
    apply(card, Systemctl())
    boot_text = card.setup_file.read_text(encoding="utf-8")
    assert "doi-mat-khau-nay" not in boot_text
    assert f'password = "{SAVED}"' in boot_text
    assert "# Mã của thiết bị này" in boot_text  # the clerk's comments are kept
    assert (card.secrets.stat().st_mode & 0o777) == 0o600
    first = card.unit_file.read_bytes()
    apply(card, Systemctl())  # the next boot reads the scrubbed file
    assert card.unit_file.read_bytes() == first
    # a new password written by the clerk replaces the saved one
    card.setup_file.write_text(boot_text.replace(f'"{SAVED}"', '"mat-khau-moi"'))
    apply(card, Systemctl())
    assert load_unit_config(card.unit_file).broker.password == "mat-khau-moi"
    # the scrubbed card in a unit that has no saved password: said, not guessed
    card.secrets.unlink()
    card.setup_file.write_text(boot_text)
    with pytest.raises(ConfigError, match=r"broker\.password: says it is saved on the unit"):
        apply(card, Systemctl())


def test_a_wifi_password_is_scrubbed_too():
    text = 'wifi_ssid = "X"\nwifi_password = "bi-mat-123"  # wifi\n'
    out = scrub_secrets(text, {"setup.network.wifi_password": "bi-mat-123"})
    assert out == f'wifi_ssid = "X"\nwifi_password = "{SAVED}"  # wifi\n'


def _break(card: Paths, old: str, new: str) -> None:
    text = card.setup_file.read_text(encoding="utf-8")
    assert old in text
    card.setup_file.write_text(text.replace(old, new), encoding="utf-8")


def test_every_problem_is_named_and_nothing_is_written(card):
    _break(card, 'unit = "dispenser-1"', "")
    _break(card, 'address = "dhcp"', 'address = "192.168.1.300"')
    _break(card, 'timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Hanoi-City"')
    _break(card, "priority_pin = 24", "priority_pn = 24")
    systemctl = Systemctl()
    with pytest.raises(ConfigError) as err:
        apply(card, systemctl)
    text = "\n".join(err.value.problems)
    assert "unit: required key is missing" in text
    assert "setup.network.address" in text
    assert "setup.timezone: unknown time zone 'Asia/Hanoi-City'" in text
    assert "dispenser.priority_pn: unknown key" in text
    assert all(p.startswith(str(card.setup_file)) for p in err.value.problems)
    assert not card.unit_file.exists() and not card.secrets.exists()
    assert systemctl.calls == []
    # the secret stays where the clerk wrote it until the file is right
    assert "doi-mat-khau-nay" in card.setup_file.read_text(encoding="utf-8")


def test_not_toml_and_missing_file(card):
    card.setup_file.write_text('site = "x\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        apply(card, Systemctl())
    card.setup_file.unlink()
    with pytest.raises(ConfigError, match="the set-up file is missing"):
        apply(card, Systemctl())


def test_wrong_file_is_shown_once_and_read_again_until_fixed(card):
    _break(card, 'role = "dispenser"', 'role = "printer"')
    shown: list[list[str]] = []

    def show(problems, raw):
        shown.append(problems)
        assert raw is not None and raw["role"] == "printer"
        if len(shown) == 1:
            return ["screen"]
        return []

    systemctl = Systemctl()
    assert run_setup(card, systemctl, retry_s=0.01, show=show, attempts=3) == 2
    assert len(shown) == 1  # the same problems are not drawn again every retry
    assert "role" in shown[0][0] and systemctl.calls == []
    _break(card, 'role = "printer"', 'role = "dispenser"')
    assert run_setup(card, systemctl, retry_s=0.01, show=show, attempts=3) == 0
    assert load_unit_config(card.unit_file).role == "dispenser"


def test_the_error_fills_a_framebuffer_in_vietnamese(tmp_path):
    sysfs = tmp_path / "fb0"
    sysfs.mkdir()
    (sysfs / "virtual_size").write_text("640,360\n")
    (sysfs / "bits_per_pixel").write_text("32\n")
    (sysfs / "stride").write_text(f"{640 * 4 + 64}\n")  # padded lines, as drivers do
    dev = tmp_path / "dev-fb0"
    dev.write_bytes(b"\0" * ((640 * 4 + 64) * 360))
    problems = ["motcua-setup.toml: role: Input should be 'hub', 'dispenser', …"]
    Framebuffer(dev, sysfs).show(render_error(problems, (640, 360)))
    raw = dev.read_bytes()
    stride = 640 * 4 + 64
    rows = b"".join(raw[y * stride:y * stride + 640 * 4] for y in range(360))
    shown = Image.frombytes("RGB", (640, 360), rows, "raw", "BGRX")
    expected = render_error(problems, (640, 360))
    assert shown.tobytes() == expected.tobytes()
    assert shown.getpixel((2, 2)) == (0x8B, 0, 0)  # the alarm colour, edge to edge
    white = sum(1 for p in shown.get_flattened_data() if p == (255, 255, 255))
    assert white > 2000  # there is text on it


def test_the_dispenser_prints_the_error_on_a_ticket():
    from drivers.printer.decode import printed_image

    written: list[bytes] = []

    class Link:
        def open(self):
            pass

        def write(self, data: bytes) -> None:
            written.append(data)

        def close(self):
            pass

    assert print_ticket(["unit: required key is missing"], {"printer": {}},
                        open_link=lambda conf: Link())
    page = printed_image(b"".join(written)).convert("L")  # type: ignore[attr-defined]
    assert page.width == 576
    ink = sum(1 for p in page.get_flattened_data() if p < 128)
    assert 0.01 < ink / (page.width * page.height) < 0.5  # black text on white paper


def test_the_counter_shows_cfg_on_its_led_board():
    from drivers.ledboard.ascii import decode_frames

    master, slave = os.openpty()
    tty.setraw(master)
    try:
        assert show_on_counter({"counter": "1", "board": {
            "protocol": "ascii", "port": os.ttyname(slave), "address": 3}})
        os.set_blocking(master, False)
        frames, _ = decode_frames(os.read(master, 100))
        assert frames == [(3, " CFG")]  # right-aligned on the 4-digit board
    finally:
        os.close(master)
        os.close(slave)


def test_the_unit_keeps_the_site_ca_copied_next_to_its_set_up_file(card):
    apply(card, Systemctl())
    unit = load_unit_config(card.unit_file)
    assert unit.broker.url == "mqtts://192.168.1.10:8883"
    assert unit.broker.ca_file == str(card.etc / "site-ca.crt")
    assert (card.etc / "site-ca.crt").read_text() == "-----BEGIN CERTIFICATE-----\n"
    # the clerk may remove the copy from the card: the unit keeps its own
    (card.boot / "motcua-site-ca.crt").unlink()
    apply(card, Systemctl())
    assert load_unit_config(card.unit_file).broker.ca_file == str(card.etc / "site-ca.crt")


def test_a_missing_site_ca_is_a_clear_error(card):
    (card.boot / "motcua-site-ca.crt").unlink()
    with pytest.raises(ConfigError) as err:
        apply(card, Systemctl())
    assert "broker.ca_file" in str(err.value) and "motcua-site-ca.crt" in str(err.value)
    assert not card.unit_file.exists()


@pytest.mark.skipif(not (shutil.which("mosquitto_passwd") and shutil.which("openssl")),
                    reason="needs Debian's mosquitto and openssl")
def test_the_hub_card_sets_up_the_site_broker_from_the_site_file(tmp_path, demo_site):
    hub = tomllib.loads((demo_site / "hub.toml").read_text(encoding="utf-8"))
    hub["unit"] = "hub"
    hub["setup"] = {"network": {"address": "192.168.1.10/24", "gateway": "192.168.1.1"}}
    from appliance.setup.schema import check_setup

    setup = check_setup(hub, tmp_path / "motcua-setup.toml", {})
    # as on the card: /etc/motcua is a link into the data partition
    (tmp_path / "data" / "etc").mkdir(parents=True)
    etc, boot = tmp_path / "etc-motcua", tmp_path / "boot"
    etc.symlink_to(tmp_path / "data" / "etc")
    written: list[str] = []

    def write(path: Path, data: bytes, mode: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path.name)

    login = hub_site.write_broker_files(setup, etc, boot, write)
    out = hub_site.broker_dir(etc)
    assert out == tmp_path / "data" / "mosquitto" / "site"
    # the hub talks to its own broker on the loopback, with its own password
    assert login["url"] == "mqtt://127.0.0.1:1883" and login["username"] == "hub"
    assert len(login["password"]) >= 16
    # one hashed password for every unit of the site file, the ACL made from it
    users = {line.split(":", 1)[0] for line in (out / "motcua.passwd").read_text().split()}
    assert users == {"hub", "monitor", "store", "dispenser-1", "counter-1", "counter-2",
                     "counter-3", "board-1", "lookup-1"}
    assert all(line.split(":", 1)[1].startswith("$7$")
               for line in (out / "motcua.passwd").read_text().split())
    acl = (out / "motcua.acl").read_text()
    assert "user counter-1\ntopic write motcua/v1/+/board/notice" in acl
    conf = (out / "motcua.conf").read_text()
    assert "listener 1883 127.0.0.1" in conf and "listener 8883\n" in conf
    assert "allow_anonymous false" in conf
    # the certificate names the hub's fixed address, which the units' urls use
    san = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
                          str(out / "server.crt")], capture_output=True, text=True).stdout
    assert "IP Address:192.168.1.10" in san
    # the clerk's handout: each unit's [broker] section and the site CA, on the boot partition
    handout = (boot / hub_site.HANDOUT).read_text()
    disp = handout.split("# --- dispenser-1 ---\n", 1)[1].split("\n\n", 1)[0]
    section = tomllib.loads(disp)["broker"]
    assert section["url"] == "mqtts://192.168.1.10:8883"
    assert section["ca_file"] == hub_site.CA_HANDOUT and len(section["password"]) >= 16
    assert "# --- hub ---" not in handout and "# --- monitor ---" not in handout
    assert (boot / hub_site.CA_HANDOUT).read_bytes() == (out / "ca.crt").read_bytes()
    # made once: a reboot keeps every password, the CA and the certificate as they were
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    written.clear()
    assert hub_site.write_broker_files(setup, etc, boot, write) == login
    assert written == []
    assert before == {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    # a unit added to the site file: the broker is made again, old passwords kept
    hub["hub"]["units"]["board-2"] = {"role": "board"}
    bigger = check_setup(hub, tmp_path / "motcua-setup.toml", {})
    assert hub_site.write_broker_files(bigger, etc, boot, write) == login
    assert "# --- board-2 ---" in (boot / hub_site.HANDOUT).read_text()
    assert (out / "credentials" / "dispenser-1.toml").read_bytes() == before["dispenser-1.toml"]
    assert (out / "ca.crt").read_bytes() == before["ca.crt"]


def test_motcua_setup_once_reports_a_wrong_file(card):
    _break(card, 'site = "phuong-mau"', 'site = "phường mẫu"')
    import sys

    out = subprocess.run([sys.executable, "-m", "appliance.cli", "setup", "--once",
                          "--boot", str(card.boot), "--etc", str(card.etc), "--run",
                          str(card.run)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "JOURNAL_STREAM": "1:1"})
    assert out.returncode == 2
    assert "<3>appliance.setup.firstboot: " in out.stderr
    assert "site: String should match pattern" in out.stderr
