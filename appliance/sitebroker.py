"""`motcua broker-setup`: the site's Mosquitto made secure by one command.

From the hub's site file it writes, into one folder:

* a site CA (``ca.crt``, ``ca.key``) and the broker's certificate signed by it
  (``server.crt``/``server.key``, names: the host names and addresses given, plus
  ``localhost`` and ``127.0.0.1``) — made with the ``openssl`` command (Debian's OpenSSL:
  the well-kept tool every Pi image has, no extra Python package on the units);
* one password per unit of the site file, the hub and a ``monitor`` login for
  ``motcua status``, hashed into ``motcua.passwd`` with Mosquitto's own ``mosquitto_passwd``;
  each unit's login in ``credentials/<unit>.toml`` (a ``[broker]`` section to paste);
  passwords already made are kept, so running it again does not lock units out;
* ``motcua.acl``: the shared rules, the hub's and the store's, and ``board/notice`` for the
  units of role ``admin`` or with ``allow = ["board.notice"]`` (the notice writers);
* ``motcua.conf``: TLS on ``--tls-port`` on every interface (the LAN), plain MQTT only on
  ``127.0.0.1`` (programs on the broker's own machine), no anonymous login, and no
  persistence: every retained message is republished by its owner on connect (see
  docs/protocol.md, "Broker persistence").
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import subprocess
import tomllib
from pathlib import Path

from appliance.config import load_unit_config
from appliance.config.site import SiteConfig
from appliance.config.unit import UnitConfig
from appliance.errors import ConfigError, MissingDependency, MotcuaError
from appliance.i18n import tr

MONITOR_USER = "monitor"
NOTICE_OP = "board.notice"  # in a unit's allow list: it may write board/notice
SHARED_ACL = """\
# ACL for a motcua site. %u is the MQTT user name, which is the unit id.
# Everybody may read the site's shared state and write only under its own unit topics;
# a unit reads only its own replies (the hub and the store answer nowhere else).
pattern read motcua/v1/+/queue/#
pattern read motcua/v1/+/counter/#
pattern read motcua/v1/+/site/#
pattern read motcua/v1/+/store/#
pattern read motcua/v1/+/board/#
pattern read motcua/v1/+/unit/+/status
pattern write motcua/v1/+/unit/%u/req/#
pattern write motcua/v1/+/unit/%u/status
pattern read motcua/v1/+/unit/%u/res
# the unit's updater (motcua update) reports on its own update topic and hears the care
# server's release announcements, which the care bridge brings in
pattern write motcua/v1/+/unit/%u/update
pattern read motcua/v1/+/care/#
"""


def role_acl(hub_unit: str, site: SiteConfig) -> str:
    store_units = sorted(u for u, e in site.units.items() if e.role == "store")
    notice = sorted(u for u, e in site.units.items()
                    if e.role == "admin" or NOTICE_OP in e.allow)
    parts = [f"""
# The hub answers requests and publishes the queue; it may clear a retained request.
user {hub_unit}
topic read motcua/v1/+/unit/+/req/hub
topic write motcua/v1/+/unit/+/req/hub
topic write motcua/v1/+/unit/+/res
topic write motcua/v1/+/queue/#
topic write motcua/v1/+/counter/#
topic write motcua/v1/+/site/#
"""]
    for unit in store_units:
        parts.append(f"""
# The dossier store answers lookups and publishes its catalogue version and board figures.
user {unit}
topic read motcua/v1/+/unit/+/req/store
topic write motcua/v1/+/unit/+/req/store
topic write motcua/v1/+/unit/+/res
topic write motcua/v1/+/store/#
""")
    for unit in notice:
        parts.append(f"""
# Writes the boards' notice line (role admin, or allow = ["board.notice"]).
user {unit}
topic write motcua/v1/+/board/notice
""")
    parts.append(f"""
# `motcua status`: reads statuses only.
user {MONITOR_USER}
topic read motcua/v1/+/unit/+/status
""")
    return SHARED_ACL + "".join(parts)


def broker_conf(out: Path, *, tls_port: int, plain_port: int, run_as_root: bool = False) -> str:
    lines = [
        "# Mosquitto for a motcua site, made by `motcua broker-setup`.",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {out / 'motcua.passwd'}",
        f"acl_file {out / 'motcua.acl'}",
        "# Retained state comes back from its owners on connect, never from an old file.",
        "persistence false",
        "set_tcp_nodelay true",
        "max_packet_size 1048576",
        "# Plain MQTT only for programs on this machine.",
        f"listener {plain_port} 127.0.0.1",
        "# TLS for the LAN: every unit checks the broker against the site CA.",
        f"listener {tls_port}",
        f"cafile {out / 'ca.crt'}",
        f"certfile {out / 'server.crt'}",
        f"keyfile {out / 'server.key'}",
        "tls_version tlsv1.2",
    ]
    if run_as_root:
        lines.append("user root")
    return "\n".join(lines) + "\n"


def _tool(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/sbin")
    if not found:
        raise MissingDependency(tr(f"chưa cài {name}: sudo apt-get install {package}",
                                     f"{name} is not installed: sudo apt-get install {package}"))
    return found


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise MotcuaError(f"{Path(cmd[0]).name} failed: {done.stderr.strip()[-400:]}")


def make_certificates(out: Path, names: list[str], addresses: list[str]) -> None:
    """A site CA (kept if present) and a broker certificate for ``names``/``addresses``."""
    openssl = _tool("openssl", "openssl")
    ca_key, ca_crt = out / "ca.key", out / "ca.crt"
    if not (ca_key.exists() and ca_crt.exists()):
        _run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
              "-subj", "/CN=motcua site CA", "-keyout", str(ca_key), "-out", str(ca_crt),
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    key, csr, crt = out / "server.key", out / "server.csr", out / "server.crt"
    sans = ",".join([f"DNS:{n}" for n in dict.fromkeys([*names, "localhost"])]
                    + [f"IP:{a}" for a in dict.fromkeys([*addresses, "127.0.0.1"])])
    ext = out / "server.ext"
    ext.write_text(f"subjectAltName={sans}\nextendedKeyUsage=serverAuth\n"
                   "basicConstraints=CA:FALSE\n")
    _run([openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={names[0]}",
          "-keyout", str(key), "-out", str(csr)])
    _run([openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
          "-CAcreateserial", "-days", "3650", "-extfile", str(ext), "-out", str(crt)])
    csr.unlink()
    ext.unlink()
    for private in (ca_key, key):
        private.chmod(0o600)


def make_logins(out: Path, users: list[str], url: str) -> dict[str, str]:
    """A password per user (kept from an earlier run), hashed for Mosquitto, and each
    user's ``[broker]`` section in ``credentials/<user>.toml``."""
    tool = _tool("mosquitto_passwd", "mosquitto")
    creds = out / "credentials"
    creds.mkdir(exist_ok=True)
    passwd = out / "motcua.passwd"
    passwd.write_text("")
    passwords: dict[str, str] = {}
    for user in users:
        file = creds / f"{user}.toml"
        old = tomllib.loads(file.read_text()).get("broker", {}) if file.exists() else {}
        password = old.get("password") or secrets.token_urlsafe(18)
        passwords[user] = password
        _run([tool, "-b", str(passwd), user, password])
        file.write_text(
            f"# {user}'s login to the site broker (made by motcua broker-setup)\n"
            f"[broker]\nurl = \"{url}\"\nusername = \"{user}\"\npassword = \"{password}\"\n"
            f"ca_file = \"{out / 'ca.crt'}\"\n")
        file.chmod(0o600)
    passwd.chmod(0o640)
    return passwords


def setup(config_file: Path, out: Path, *, names: list[str], addresses: list[str],
          tls_port: int = 8883, plain_port: int = 1883, run_as_root: bool = False) -> Path:
    """Write everything into ``out``; returns the Mosquitto config file."""
    return setup_site(load_unit_config(config_file), out, names=names, addresses=addresses,
                      tls_port=tls_port, plain_port=plain_port, run_as_root=run_as_root,
                      source=str(config_file))


def setup_site(config: UnitConfig, out: Path, *, names: list[str], addresses: list[str],
               tls_port: int = 8883, plain_port: int = 1883, run_as_root: bool = False,
               source: str = "<config>") -> Path:
    """:func:`setup` from a checked config (the hub card's set-up file, appliance/setup)."""
    config_file = source
    if config.hub is None:
        raise ConfigError([f"{config_file}: broker-setup needs the hub's file (its [hub] "
                           "section lists the site's units)"])
    out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()
    make_certificates(out, names, addresses)
    users = sorted({config.unit, *config.hub.units, MONITOR_USER})
    make_logins(out, users, f"mqtts://{names[0]}:{tls_port}")
    (out / "motcua.acl").write_text(role_acl(config.unit, config.hub))
    conf = out / "motcua.conf"
    conf.write_text(broker_conf(out, tls_port=tls_port, plain_port=plain_port,
                                run_as_root=run_as_root))
    return conf


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, type=Path, metavar=tr("TỆP", "FILE"), help=tr(
        "tệp cấu hình của máy chủ tại chỗ", "the hub's config file"))
    parser.add_argument("--out", type=Path, default=Path("/etc/mosquitto/motcua"),
                        metavar=tr("THƯ_MỤC", "DIR"),
                        help=tr("thư mục ghi ra (mặc định /etc/mosquitto/motcua)",
                                "folder to write into (default /etc/mosquitto/motcua)"))
    parser.add_argument("--name", action="append", default=[], metavar=tr("TÊN_MÁY", "HOST"),
                        help=tr("tên máy của broker trong mạng LAN (lặp lại được; mặc định "
                                "hub.local)",
                                "the broker's host name on the LAN (repeatable; default "
                                "hub.local)"))
    parser.add_argument("--address", action="append", default=[], metavar="IP",
                        help=tr("địa chỉ IP của broker trong mạng LAN (lặp lại được)",
                                "the broker's LAN address (repeatable)"))
    parser.add_argument("--tls-port", type=int, default=8883, metavar=tr("CỔNG", "PORT"),
                        help=tr("cổng TLS của broker (mặc định 8883)",
                                "the broker's TLS port (default 8883)"))
    parser.add_argument("--plain-port", type=int, default=1883, metavar=tr("CỔNG", "PORT"),
                        help=tr("cổng không mã hoá của broker (mặc định 1883)",
                                "the broker's plain port (default 1883)"))


def run(args: argparse.Namespace) -> int:
    conf = setup(args.config, args.out, names=args.name or ["hub.local"],
                 addresses=args.address, tls_port=args.tls_port, plain_port=args.plain_port)
    print(tr(f"đã ghi {conf}; hãy đưa tệp này vào /etc/mosquitto/conf.d/ và chép cho mỗi "
             f"thiết bị mục [broker] trong {args.out}/credentials/<thiết bị>.toml cùng ca.crt",
             f"wrote {conf}; include it from /etc/mosquitto/conf.d/ and give each unit "
             f"its {args.out}/credentials/<unit>.toml [broker] section and ca.crt"))
    return 0
