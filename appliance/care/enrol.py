"""``motcua care enrol SITE``: everything a site's card needs to bridge to the care broker.

Writes the site card folder (``ca.crt``, ``site.crt``, ``site.key``, ``bridge.conf``,
``credentials.txt``) and adds the site's password to the care broker's password file.
Run it again to replace a lost card's credentials: the old password stops working.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

from appliance.care.bridge import (
    care_acl,
    care_broker_config,
    set_password,
    site_bridge_config,
    site_of,
)
from appliance.care.config import CareConfig
from appliance.care.pki import Authority, new_password, write_private
from appliance.care.vault import save_site_secret
from appliance.errors import ConfigError
from appliance.i18n import tr

DEFAULT_CARD_DIR = Path("/etc/motcua/care")


@dataclass(frozen=True)
class BrokerFiles:
    pki: Path
    password_file: Path
    acl_file: Path

    @property
    def pid_file(self) -> Path:
        return self.password_file.parent / "mosquitto.pid"

    def config(self, *, tls_port: int, local_port: int, bind: str = "0.0.0.0") -> str:
        return care_broker_config(self.pki, tls_port=tls_port, local_port=local_port,
                                  password_file=self.password_file, acl_file=self.acl_file,
                                  pid_file=self.pid_file, bind=bind)


def reload_broker(files: BrokerFiles) -> bool:
    """Make a running care broker read its password file and ACL again (Mosquitto does on
    SIGHUP; connected sites stay connected), so a site enrolled now can bridge at once.
    False when no care broker runs from these files (it reads them when it starts)."""
    try:
        pid = int(files.pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return False
    if b"mosquitto" not in cmdline:
        return False  # a stale pid file: that number is another program now
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        return False
    return True


def broker_files(config: CareConfig) -> BrokerFiles:
    broker = config.data_path / "broker"
    return BrokerFiles(config.data_path / "pki", broker / "passwords", broker / "acl")


def ensure_broker(config: CareConfig) -> BrokerFiles:
    """The CA, the care broker's certificate, its ACL and the care server's own login."""
    pki = config.data_path / "pki"
    auth = Authority(pki).ensure()
    server_crt, server_key = pki / "server.crt", pki / "server.key"
    if not server_crt.exists():
        hosts = sorted({config.care_broker.public_host, "127.0.0.1", "localhost"})
        auth.issue("care-broker", server_crt, server_key, server=True, hosts=hosts)
    files = broker_files(config)
    files.acl_file.parent.mkdir(parents=True, exist_ok=True)
    acl = care_acl(config.broker.username or "care")
    if not files.acl_file.exists() or files.acl_file.read_text() != acl:
        files.acl_file.write_text(acl)
    if config.broker.username and config.broker.password:
        set_password(files.password_file, config.broker.username, config.broker.password)
    return files


@dataclass(frozen=True)
class Enrolment:
    site: str
    out: Path
    password: str
    bridge_conf: str
    reloaded: bool = False  # whether a running care broker was told of the new password


def enrol(config: CareConfig, site: str, out: Path, *, card_dir: Path | None = None,
          site_file: Path | None = None) -> Enrolment:
    if site_file is not None:
        file_site = site_of(site_file)
        if file_site != site:
            raise ConfigError([tr(f"{site_file}: tệp cấu hình điểm này là của điểm "
                                  f"{file_site!r}, không phải {site!r}",
                                  f"{site_file}: the site file is for site {file_site!r}, "
                                  f"not {site!r}")])
    if site not in config.sites:
        raise ConfigError([tr(f"điểm {site!r} không có trong mục [sites] của care.toml "
                              f"(hãy thêm [sites.{site}] trước, để bảng theo dõi chờ điểm này)",
                              f"site {site!r} is not in the care config's [sites] "
                              f"(add [sites.{site}] first, so the dashboard expects it)")])
    files = ensure_broker(config)
    out.mkdir(parents=True, exist_ok=True)
    auth = Authority(files.pki)
    auth.issue(site, out / "site.crt", out / "site.key", server=False)
    (out / "ca.crt").write_bytes(auth.ca_cert.read_bytes())
    password = new_password()
    set_password(files.password_file, site, password)
    save_site_secret(config.data_path, site, password)  # the same password sends backups
    conf = site_bridge_config(site, host=config.care_broker.public_host,
                              port=config.care_broker.public_port, password=password,
                              card_dir=card_dir or DEFAULT_CARD_DIR,
                              keepalive_s=config.care_broker.keepalive_s,
                              heartbeat_s=config.care_broker.site_heartbeat_s)
    (out / "bridge.conf").write_text(conf)
    write_private(out / "site.password", (password + "\n").encode())  # motcua-backup.service's
    # motcua-backup.service's settings: the hub's database; a store's is added by hand
    (out / "backup.env").write_text(
        f"MOTCUA_SITE={site}\nMOTCUA_CARE_URL={config.web.public_url or ''}\n"
        f"MOTCUA_BACKUP_DBS=--db hub=/var/lib/motcua/hub:hub.sqlite3\n")
    release_pub = config.data_path / "release.pub"
    if release_pub.exists():  # what the units' updaters check releases with
        (out / "release.pub").write_bytes(release_pub.read_bytes())
    card = card_dir or DEFAULT_CARD_DIR
    (out / "credentials.txt").write_text(
        f"site = {site}\nusername = {site}\npassword = {password}\n"
        f"care broker = {config.care_broker.public_host}:{config.care_broker.public_port}\n"
        + tr(f"Chép ca.crt, site.crt, site.key, site.password, backup.env, release.pub "
             f"vào {card} trên thẻ nhớ của hub,\n"
             "và bridge.conf thành /etc/mosquitto/conf.d/care.conf; rồi khởi động lại "
             "mosquitto của điểm.\n",
             f"Copy ca.crt, site.crt, site.key, site.password, backup.env, release.pub to "
             f"{card} on the hub's card,\n"
             "and bridge.conf to /etc/mosquitto/conf.d/care.conf; then restart the site's "
             "mosquitto.\n"))
    return Enrolment(site, out, password, conf, reloaded=reload_broker(files))
