"""`motcua backup`: every ``interval`` seconds, snapshot each named database and upload
it to the care server with its SHA-256 (a cut upload is refused there). SQLite: the online
backup API (consistent while the hub keeps writing). PostgreSQL (a store on it): a
``pg_dump`` custom-format archive (appliance/backup/pgdump.py says why not WAL archiving).
A failed round is logged and retried at the next; nothing on the unit changes.

    motcua backup --site S --care https://care:8440 --password-file P --ca ca.crt \\
        --db hub=/var/lib/motcua/hub:hub.sqlite3 --db store=/var/lib/motcua/store:store.sqlite3
    motcua backup ... --pg store=postgresql://motcua@127.0.0.1/motcua
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import logging
import sqlite3
import ssl
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from appliance.backup import pgdump
from appliance.errors import MotcuaError
from appliance.i18n import tr
from appliance.runtime import wait_for_signal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Database:
    name: str  # "hub", "store"
    path: Path  # the live database file (SQLite)
    relative: str  # where it goes under the data folder when restored
    url: str | None = None  # a PostgreSQL database instead of a file: dumped with pg_dump

    @property
    def kind(self) -> str:
        return "pg_dump" if self.url else "sqlite"


def snapshot(src: Path, dest: Path) -> None:
    """A consistent copy of a live WAL database (sqlite3's online backup API)."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


class BackupAgent:
    def __init__(self, site: str, care_url: str, password: str, databases: list[Database],
                 *, ca_file: Path | None = None, interval_s: float = 60.0) -> None:
        self.site = site
        self.care_url = care_url.rstrip("/")
        self.auth = "Basic " + base64.b64encode(f"{site}:{password}".encode()).decode()
        self.databases = databases
        self.ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self.interval_s = interval_s
        self.rounds = 0
        self.failures = 0
        self.last_ok: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="backup", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.round()
            self._stop.wait(self.interval_s)

    def round(self) -> None:
        for db in self.databases:
            try:
                self.send(db)
            except (MotcuaError, sqlite3.Error, OSError) as exc:
                self.failures += 1
                log.warning(tr("sao lưu %s không được: %s",
                               "backup of %s failed: %s"), db.name, exc)
        self.rounds += 1

    def send(self, db: Database) -> None:
        if db.url is None and not db.path.exists():
            raise MotcuaError(tr(f"{db.path} chưa có", f"{db.path} does not exist yet"))
        taken = datetime.now(UTC)
        with tempfile.TemporaryDirectory(prefix="motcua-backup-") as tmp:
            copy = Path(tmp) / "copy"
            if db.url is not None:
                pgdump.dump(db.url, copy)
            else:
                snapshot(db.path, copy)
            body = copy.read_bytes()
        query = urllib.parse.urlencode({"path": db.relative, "kind": db.kind,
                                        "sha256": hashlib.sha256(body).hexdigest(),
                                        "taken": taken.isoformat(timespec="milliseconds")})
        req = urllib.request.Request(f"{self.care_url}/backup/{self.site}/{db.name}?{query}",
                                     data=body, method="PUT",
                                     headers={"Authorization": self.auth,
                                              "Content-Type": "application/octet-stream"})
        try:
            with urllib.request.urlopen(req, timeout=60, context=self.ctx) as resp:
                if resp.status != 201:
                    raise MotcuaError(tr(f"máy chủ chăm sóc trả lời {resp.status}",
                                         f"care answered {resp.status}"))
        except urllib.error.HTTPError as exc:
            raise MotcuaError(tr(f"máy chủ chăm sóc từ chối bản sao: {exc.code} {exc.reason}",
                                 f"care refused the backup: {exc.code} {exc.reason}")) from None
        except urllib.error.URLError as exc:
            raise MotcuaError(tr(f"không tới được máy chủ chăm sóc: {exc.reason}",
                                 f"care not reachable: {exc.reason}")) from None
        self.last_ok[db.name] = taken


def _database(spec: str) -> Database:
    name, _, rest = spec.partition("=")
    folder, _, rel = rest.partition(":")
    if not name or not folder or not rel:
        raise argparse.ArgumentTypeError(tr(f"--db {spec!r}: cần dạng TÊN=THƯ_MỤC:TỆP",
                                            f"--db {spec!r}: expected NAME=DATA_DIR:FILE"))
    return Database(name, Path(folder) / rel, rel)


def _pg_database(spec: str) -> Database:
    name, _, url = spec.partition("=")
    if not name or not url.startswith("postgresql"):
        raise argparse.ArgumentTypeError(tr(f"--pg {spec!r}: cần dạng TÊN=postgresql://...",
                                            f"--pg {spec!r}: expected NAME=postgresql://..."))
    return Database(name, Path(f"{name}.pgdump"), f"{name}.pgdump", url=url)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", required=True, help=tr("mã điểm", "the site id"))
    parser.add_argument("--care", required=True, metavar="URL", help=tr(
        "địa chỉ máy chủ chăm sóc, https://...", "https://care-server"))
    parser.add_argument("--password-file", required=True, help=tr(
        "tệp chứa mật khẩu của điểm trên máy chủ chăm sóc", "the site's care password"))
    parser.add_argument("--ca", help=tr(
        "chứng chỉ CA của máy chủ chăm sóc", "the care server's CA certificate"))
    parser.add_argument("--db", action="append", type=_database, default=[],
                        metavar="NAME=DATA_DIR:FILE",
                        help=tr("một cơ sở dữ liệu SQLite cần sao (lặp lại được)",
                                "a SQLite database to copy (repeatable)"))
    parser.add_argument("--pg", action="append", type=_pg_database, default=[],
                        metavar="NAME=URL",
                        help=tr("một cơ sở dữ liệu PostgreSQL cần sao bằng pg_dump (lặp lại "
                                "được), ví dụ store=postgresql://motcua@127.0.0.1/motcua",
                                "a PostgreSQL database to copy with pg_dump (repeatable), "
                                "e.g. store=postgresql://motcua@127.0.0.1/motcua"))
    parser.add_argument("--interval", type=float, default=60.0,
                        help=tr("số giây giữa hai lần sao (mặc định 60: mất tối đa một phút "
                                "dữ liệu)",
                                "seconds between copies (default 60: at most a minute lost)"))


def run(args: argparse.Namespace) -> int:
    if not args.db and not args.pg:
        raise MotcuaError(tr("cần ít nhất một --db hoặc --pg", "give at least one --db or --pg"))
    try:
        password = Path(args.password_file).read_text().strip()
    except OSError as exc:
        raise MotcuaError(tr(f"{args.password_file}: không đọc được mật khẩu ({exc.strerror})",
                             f"{args.password_file}: cannot read the password "
                             f"({exc.strerror})")) from None
    agent = BackupAgent(args.site, args.care, password, [*args.db, *args.pg],
                        ca_file=Path(args.ca) if args.ca else None, interval_s=args.interval)
    agent.start()
    try:
        wait_for_signal()
    finally:
        agent.stop()
    return 0
