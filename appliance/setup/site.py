"""The hub card sets up the site's broker: a password for every unit of the site file.

Passwords are made once, kept on the data partition (``unit-passwords.toml``) and hashed into
Mosquitto's password file with Debian's ``mosquitto_passwd``; the ACL is the project's
(firmware_config/mosquitto/motcua.acl, installed read-only by the image). The clerk copies
each unit's password into that unit's set-up file from ``motcua-unit-passwords.txt`` on the
hub's boot partition. (A one-command site CA + password generator is coming in the broker
tooling; this is the minimal part a card needs.)
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w

if TYPE_CHECKING:
    from appliance.setup.schema import Setup

PASSWORDS = "unit-passwords.toml"
PASSWD_FILE = "mosquitto.passwd"
HANDOUT = "motcua-unit-passwords.txt"


def unit_ids(setup: Setup) -> list[str]:
    site = setup.unit.hub
    ids = set(site.units) if site else set()
    return sorted(ids | {setup.unit.unit, "store"})


def passwords(setup: Setup, etc: Path) -> dict[str, str]:
    try:
        known: dict[str, Any] = tomllib.loads((etc / PASSWORDS).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        known = {}
    own = setup.unit.broker.password
    out = {uid: str(known.get(uid) or secrets.token_urlsafe(12)) for uid in unit_ids(setup)}
    if own:
        out[setup.unit.unit] = own
    return out


def write_broker_files(setup: Setup, etc: Path, boot: Path,
                       write: Callable[[Path, bytes, int], None]) -> dict[str, str]:
    """Password files for the site's broker; returns the hub's own broker login."""
    pw = passwords(setup, etc)
    write(etc / PASSWORDS, tomli_w.dumps(pw).encode(), 0o600)
    plain = "".join(f"{uid}:{p}\n" for uid, p in pw.items()).encode()
    passwd = etc / PASSWD_FILE
    write(passwd, plain, 0o640)
    tool = shutil.which("mosquitto_passwd")
    if tool:  # hash in place; without the tool (a developer's machine) the file stays plain
        subprocess.run([tool, "-U", str(passwd)], check=True, timeout=60)
    handout = ["# Mật khẩu MQTT của từng thiết bị: chép vào [broker] password trong",
               "# motcua-setup.toml của thiết bị đó, rồi xoá tệp này.",
               "# Each unit's broker password: copy it into that unit's set-up file",
               "# ([broker] password), then delete this file.", ""]
    handout += [f"{uid} = {p}" for uid, p in pw.items() if uid != setup.unit.unit]
    write(boot / HANDOUT, ("\n".join(handout) + "\n").encode(), 0o600)
    return {"username": setup.unit.unit, "password": pw[setup.unit.unit]}
