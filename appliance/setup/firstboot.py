"""`motcua setup`: the boot partition's set-up file applied on every boot (motcua-setup.service).

1. read ``motcua-setup.toml`` and check it (the unit part exactly as ``motcua check-config``);
2. move its secrets (broker password, Wi-Fi password) to the data partition and
   put ``SAVED`` in their place on the boot partition, which any PC can read;
3. write ``/etc/motcua/unit.toml`` (the unit id from the file, never from a path);
4. write this boot's network, time and broker configs under /run, and enable — for this boot
   only, so exactly one role is ever enabled — the role's service.

A wrong file is shown where the clerk looks (appliance.setup.show) and read again every few
seconds; nothing starts until it is right. Every write is atomic and fsynced: a power cut
leaves the old file or the new one.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import subprocess
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from appliance.errors import ConfigError
from appliance.i18n import tr
from appliance.setup import site as hub_site
from appliance.setup.schema import SAVED, SETUP_FILE, Setup, read_setup, secrets_of
from appliance.setup.show import show_everywhere

log = logging.getLogger(__name__)

RETRY_S = 10.0


@dataclass(frozen=True)
class Paths:
    boot: Path  # the FAT boot partition (/boot/firmware)
    etc: Path  # /etc/motcua: on the data partition (the root is read-only)
    run: Path = Path("/run")  # this boot's generated configs (tmpfs)

    @property
    def setup_file(self) -> Path:
        return self.boot / SETUP_FILE

    @property
    def secrets(self) -> Path:
        return self.etc / "secrets.toml"

    @property
    def unit_file(self) -> Path:
        return self.etc / "unit.toml"


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    with contextlib.suppress(PermissionError):  # the FAT boot partition has no modes
        os.chmod(tmp, mode)
    os.replace(tmp, path)
    dirfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)


def load_saved(paths: Paths) -> dict[str, Any]:
    try:
        return tomllib.loads(paths.secrets.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # torn or unreadable: the clerk re-enters them
        log.warning(tr("bỏ qua tệp không đọc được %s: %s",
                       "ignoring unreadable %s: %s"), paths.secrets, exc)
        return {}


def scrub_secrets(text: str, secrets: dict[str, str]) -> str:
    """The file's text with each secret's value replaced by SAVED; comments kept."""
    for dotted, value in secrets.items():
        key = re.escape(dotted.rsplit(".", 1)[1])
        for quoted in (tomli_w.dumps({"v": value})[4:].strip(), f"'{value}'"):
            text = re.sub(rf'(?m)^(\s*{key}\s*=\s*){re.escape(quoted)}',
                          lambda m: m.group(1) + tomli_w.dumps({"v": SAVED})[4:].strip(),
                          text)
    return text


def apply(paths: Paths, systemctl: Callable[..., None]) -> Setup:
    """Read, check and apply the set-up file; raises ConfigError with every problem."""
    saved = load_saved(paths)
    setup = read_setup(paths.setup_file, saved)
    found = secrets_of(setup.raw)
    secrets = {**saved, **found}
    if secrets != saved:
        write_atomic(paths.secrets, tomli_w.dumps(secrets).encode(), 0o600)
    unit_data = setup.unit_data
    if setup.unit.role == "hub":
        login = hub_site.write_broker_files(setup, paths.etc, paths.boot, write_atomic)
        unit_data = {**unit_data, "broker": {**unit_data.get("broker", {}), **login}}
    unit_data = _site_ca(setup, paths, unit_data)
    write_atomic(paths.unit_file, tomli_w.dumps(unit_data).encode(), 0o640)
    _give_to_motcua(paths.unit_file)
    if found:
        text = paths.setup_file.read_text(encoding="utf-8")
        write_atomic(paths.setup_file, scrub_secrets(text, found).encode())
    services = write_runtime(setup, paths)
    enable_for_this_boot(paths.run, services)
    systemctl("start", "--no-block", *services)
    log.info(tr("đã cài đặt thiết bị %s (%s) của điểm %s: %s",
                "unit %s (%s) of site %s set up: %s"), setup.unit.unit, setup.unit.role,
             setup.unit.site, " ".join(services))
    return setup


def _site_ca(setup: Setup, paths: Paths, unit_data: dict[str, Any]) -> dict[str, Any]:
    """A relative ``[broker] ca_file`` is the site CA the clerk copied next to the set-up
    file (from the hub's card): kept on the data partition, the unit config points there."""
    name = setup.unit.broker.ca_file
    if not name or os.path.isabs(name):
        return unit_data
    kept = paths.etc / "site-ca.crt"
    try:
        write_atomic(kept, (paths.boot / name).read_bytes(), 0o644)
    except FileNotFoundError:
        if not kept.exists():
            raise ConfigError([f"{paths.setup_file}: broker.ca_file: không có tệp {name} "
                               f"cạnh tệp cài đặt (chép từ thẻ của hub) / there is no {name} "
                               "next to the set-up file (copy it from the hub's card)"]
                              ) from None
    return {**unit_data, "broker": {**unit_data.get("broker", {}), "ca_file": str(kept)}}


def enable_for_this_boot(run: Path, services: list[str]) -> None:
    """What ``systemctl enable --runtime`` writes, without its daemon reload (over half a
    minute on a busy Pi) or its SysV script step (which writes the read-only root)."""
    wants = run / "systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    for old in wants.glob("motcua-*.service"):
        old.unlink()
    for service in services:
        link = wants / service
        link.unlink(missing_ok=True)
        link.symlink_to(f"/etc/systemd/system/{service}" if service.startswith("motcua-")
                        else f"/lib/systemd/system/{service}")


def _give_to_motcua(path: Path) -> None:
    import grp

    try:
        os.chown(path, 0, grp.getgrnam("motcua").gr_gid)
    except (KeyError, PermissionError):
        pass  # a developer's machine: no motcua group, not root; the file stays the user's


def write_runtime(setup: Setup, paths: Paths) -> list[str]:
    """This boot's network, time and broker configs; the services to start."""
    net = setup.setup.network
    run = paths.run
    lines = ["[Match]", "Type=wlan" if net.kind == "wifi" else "Type=ether", "", "[Network]"]
    if net.address == "dhcp":
        lines.append("DHCP=yes")
    else:
        lines += [f"Address={net.address}", f"Gateway={net.gateway}"]
    lines += [f"DNS={d}" for d in net.dns]
    write_atomic(run / "systemd/network/20-motcua.network", ("\n".join(lines) + "\n").encode())
    services = ["systemd-networkd.service", "chrony.service", f"motcua-{setup.unit.role}.service"]
    if net.kind == "wifi":
        wpa = (f'country={net.wifi_country}\nnetwork={{\n  ssid="{net.wifi_ssid}"\n'
               f'  psk="{net.wifi_password}"\n}}\n')
        write_atomic(run / "motcua/wpa_supplicant-wlan0.conf", wpa.encode(), 0o600)
        services.append("wpa_supplicant@wlan0.service")
    chrony = [f"server {s} iburst" for s in setup.ntp_servers]
    if setup.unit.role == "hub":
        # the office may have no internet: the hub's own clock is the site's time
        chrony += ["local stratum 8", "allow all"]
        services.insert(0, "mosquitto.service")
    write_atomic(run / "motcua/chrony.conf", ("\n".join(chrony) + "\n").encode())
    _set_timezone(setup.setup.timezone, paths.etc)
    return services


def _set_timezone(tz: str, etc: Path) -> None:
    # /etc/localtime on the read-only root points here (image/build.sh)
    link = etc / "localtime"
    target = f"/usr/share/zoneinfo/{tz}"
    if not link.is_symlink() or os.readlink(link) != target:
        tmp = etc / "localtime.new"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target)
        os.replace(tmp, link)


def _raw_or_none(path: Path) -> dict[str, Any] | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_setup(paths: Paths, systemctl: Callable[..., None], *, retry_s: float = RETRY_S,
              show: Callable[[list[str], dict[str, Any] | None], list[str]] = show_everywhere,
              attempts: int | None = None) -> int:
    """Apply the file; while it is wrong, show why and read it again."""
    shown: list[str] | None = None
    n = 0
    while True:
        try:
            apply(paths, systemctl)
            return 0
        except ConfigError as exc:
            if exc.problems != shown:
                for problem in exc.problems:
                    log.error("%s", problem)
                raw = _raw_or_none(paths.setup_file) or _raw_or_none(paths.unit_file)
                where = show(exc.problems, raw)
                log.error(tr("tệp cài đặt sai (đã báo trên: %s); cứ %.0f s đọc lại một lần",
                             "set-up file is wrong (shown on: %s); reading it again every %.0f s"),
                          ", ".join(where) or tr("chỉ nhật ký này",
                                                 "nothing but this log"), retry_s)
                shown = exc.problems
        n += 1
        if attempts is not None and n >= attempts:
            return 2
        time.sleep(retry_s)


def _systemctl(*args: str) -> None:
    subprocess.run(["systemctl", *args], check=True, timeout=300)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--boot", default="/boot/firmware", metavar=tr("THƯ_MỤC", "DIR"),
                        help=tr("phân vùng khởi động", "the boot partition"))
    parser.add_argument("--etc", default="/etc/motcua", metavar=tr("THƯ_MỤC", "DIR"),
                        help=tr("nơi đặt unit.toml", "where unit.toml goes"))
    parser.add_argument("--run", default="/run", metavar=tr("THƯ_MỤC", "DIR"), help=tr(
        "nơi đặt các cấu hình tạo ra cho lần khởi động này", "this boot's generated configs"))
    parser.add_argument("--once", action="store_true", help=tr(
        "kiểm tra một lần, không thử lại", "check once, do not retry"))


def run(args: argparse.Namespace) -> int:
    paths = Paths(Path(args.boot), Path(args.etc), Path(args.run))
    return run_setup(paths, _systemctl, attempts=1 if args.once else None)
