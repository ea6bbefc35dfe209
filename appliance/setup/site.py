"""The hub card sets up the site's broker from the site file (its ``[hub]`` section).

It is `motcua broker-setup` (appliance/sitebroker.py) run by the card itself: a site CA and
the broker's certificate, one password per unit of the site file (hashed with Mosquitto's
own ``mosquitto_passwd``), the ACL made from the site file, and the Mosquitto config —
all on the data partition, in ``/var/lib/motcua/mosquitto/site``, which the card's
``/etc/mosquitto/mosquitto.conf`` includes. It runs again only when the site file or the
broker's address changes; passwords and the CA are kept across runs, so units never get
locked out by a reboot.

For the clerk, the hub's boot partition gets ``motcua-unit-passwords.txt`` (each unit's
``[broker]`` lines to paste into its set-up file) and ``motcua-site-ca.crt`` (copied next
to each unit's set-up file: the units check the broker against it).
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from appliance import sitebroker

if TYPE_CHECKING:
    from appliance.setup.schema import Setup

HANDOUT = "motcua-unit-passwords.txt"
CA_HANDOUT = "motcua-site-ca.crt"
STAMP = ".motcua-site"
TLS_PORT = 8883
PLAIN_PORT = 1883


def broker_dir(etc: Path) -> Path:
    """Where the site broker's files live: beside /etc/motcua on the data partition (on the
    card /etc/motcua is a link to /var/lib/motcua/etc: its parent is the data partition)."""
    return etc.resolve().parent / "mosquitto" / "site"


def broker_address(setup: Setup) -> tuple[list[str], list[str]]:
    """The host names and addresses the broker's certificate is made for."""
    address = setup.setup.network.address
    addresses = [] if address == "dhcp" else [address.split("/", 1)[0]]
    return ["hub.local"], addresses


def _stamp(setup: Setup, names: list[str], addresses: list[str]) -> str:
    site = setup.unit.hub.model_dump(mode="json") if setup.unit.hub else None
    text = json.dumps([setup.unit.unit, site, names, addresses], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _give_to_mosquitto(out: Path) -> None:
    """Mosquitto reads its password file, ACL and key after dropping root."""
    import pwd

    try:
        user = pwd.getpwnam("mosquitto")
    except KeyError:
        return  # a developer's machine without Mosquitto's user: the files stay ours
    for path in [out, *out.rglob("*")]:
        try:
            os.chown(path, user.pw_uid, user.pw_gid)
        except PermissionError:
            return  # not root (a developer's machine): the files stay ours


def handout(setup: Setup, out: Path, names: list[str], addresses: list[str]) -> str:
    host = (addresses or names)[0]
    lines = ["# Mục [broker] của từng thiết bị: chép vào motcua-setup.toml của thiết bị đó,",
             f"# chép kèm tệp {CA_HANDOUT} vào cạnh nó, rồi xoá tệp này.",
             "# Each unit's [broker] section: paste it into that unit's set-up file, copy",
             f"# {CA_HANDOUT} next to it, then delete this file.", ""]
    for cred in sorted((out / "credentials").glob("*.toml")):
        login = tomllib.loads(cred.read_text(encoding="utf-8"))["broker"]
        if login["username"] in (setup.unit.unit, sitebroker.MONITOR_USER):
            continue
        lines += [f"# --- {login['username']} ---", "[broker]",
                  f'url = "mqtts://{host}:{TLS_PORT}"', f'username = "{login["username"]}"',
                  f'password = "{login["password"]}"', f'ca_file = "{CA_HANDOUT}"', ""]
    return "\n".join(lines)


def write_broker_files(setup: Setup, etc: Path, boot: Path,
                       write: Callable[[Path, bytes, int], None]) -> dict[str, str]:
    """The site broker's files (made again only when the site changed); returns the hub's
    own ``[broker]`` login (plain MQTT on the loopback, where the hub runs)."""
    out = broker_dir(etc)
    names, addresses = broker_address(setup)
    stamp = _stamp(setup, names, addresses)
    try:
        done = (out / STAMP).read_text() == stamp and (out / "motcua.conf").exists()
    except FileNotFoundError:
        done = False
    if not done:
        sitebroker.setup_site(setup.unit, out, names=names, addresses=addresses,
                              tls_port=TLS_PORT, plain_port=PLAIN_PORT,
                              source=str(boot / "motcua-setup.toml"))
        _give_to_mosquitto(out)
        write(boot / HANDOUT, handout(setup, out, names, addresses).encode(), 0o600)
        write(boot / CA_HANDOUT, (out / "ca.crt").read_bytes(), 0o644)
        write(out / STAMP, stamp.encode(), 0o644)
    own = tomllib.loads((out / "credentials" / f"{setup.unit.unit}.toml").read_text(
        encoding="utf-8"))["broker"]
    return {"url": f"mqtt://127.0.0.1:{PLAIN_PORT}", "username": own["username"],
            "password": own["password"]}
