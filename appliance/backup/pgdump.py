"""PostgreSQL stores, backed up with PostgreSQL's own tools: ``pg_dump --format=custom``
on the backup agent's schedule, checked with ``pg_restore`` on the care server, and put
back with ``pg_restore --single-transaction`` (all of it or nothing).

Why a logical dump on a schedule and not WAL archiving: a commune's dossier store is small
(a dump of years of dossiers takes seconds), so a dump every minute meets the 5-minute goal
with one self-contained file that goes through the same checked HTTPS upload as the SQLite
copies. WAL archiving would need ``archive_mode`` (a server restart and a config change on
the card), base backups and their retention, and an ``archive_command`` that, when the care
server is unreachable, keeps WAL on the SD card until the data partition fills: a full disk
is a death in the field. A custom-format dump is also restored into a newer PostgreSQL on
a spare card, which a physical copy is not.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from appliance.errors import MissingDependency, MotcuaError
from appliance.i18n import tr

MAGIC = b"PGDMP"  # the first bytes of a custom-format archive


class BadDump(MotcuaError):
    """Not a whole custom-format dump that pg_restore can read."""


def tool(name: str) -> str:
    """The newest installed PostgreSQL's ``name`` (pg_dump must be at least the server's
    version), else the one on PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    path = found[-1] if found else shutil.which(name)
    if not path:
        raise MissingDependency(tr(f"không có {name}: sudo apt-get install postgresql-client",
                                   f"{name} is missing: sudo apt-get install postgresql-client"))
    return path


def conninfo(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for ``url`` (the store's SQLAlchemy URL or a libpq
    ``postgresql://`` URL) and the environment holding its password: a password on a
    command line is visible to every user of the machine."""
    try:
        u = make_url(url)
    except ArgumentError:
        raise MotcuaError(tr(f"địa chỉ PostgreSQL không đọc được: {url!r}",
                             f"not a PostgreSQL URL: {url!r}")) from None
    if not u.drivername.startswith("postgresql"):
        raise MotcuaError(tr(f"không phải địa chỉ PostgreSQL: {url!r}",
                             f"not a PostgreSQL URL: {url!r}"))
    parts = {"host": u.host, "port": str(u.port) if u.port else None, "user": u.username,
             "dbname": u.database}
    info = " ".join(f"{k}={v}" for k, v in parts.items() if v)
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return info, env


def _run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 600) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        raise MotcuaError(tr(f"{Path(cmd[0]).name} chạy quá {timeout:.0f} giây",
                             f"{Path(cmd[0]).name} took over {timeout:.0f} s")) from None
    if done.returncode != 0:
        raise MotcuaError(f"{Path(cmd[0]).name}: {done.stderr.strip()[-400:]}")
    return done.stdout


def dump(url: str, dest: Path) -> None:
    """A consistent dump of the live database (pg_dump takes it in one snapshot)."""
    info, env = conninfo(url)
    _run([tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
          f"--file={dest}", f"--dbname={info}"], env)


def check(path: Path) -> None:
    """Read the whole archive (its table of contents and every table's data) without
    writing anywhere: a truncated or damaged dump fails here, before it is kept."""
    with path.open("rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise BadDump(tr("không phải bản sao pg_dump dạng custom",
                             "not a pg_dump custom-format archive"))
    try:
        _run([tool("pg_restore"), "--list", str(path)])
        _run([tool("pg_restore"), "--file=/dev/null", str(path)])
    except MotcuaError as exc:
        raise BadDump(tr(f"bản sao PostgreSQL hỏng: {exc}",
                         f"the PostgreSQL dump is damaged: {exc}")) from None


def restore(path: Path, url: str) -> None:
    """Load the dump into the (empty or old) database at ``url`` in one transaction: a
    failure leaves the database as it was."""
    info, env = conninfo(url)
    _run([tool("pg_restore"), "--no-owner", "--no-privileges", "--clean", "--if-exists",
          "--single-transaction", "--exit-on-error", f"--dbname={info}", str(path)], env)
