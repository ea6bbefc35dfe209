"""The care server's store of sites' database copies: each upload checked to be whole
(its SHA-256, when the site sends it) and sound (SQLite: ``quick_check``; a PostgreSQL
``pg_dump`` archive: read through by ``pg_restore``) before it replaces anything; the
last ``keep`` copies kept per database.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import bcrypt

from appliance.backup import pgdump
from appliance.errors import MotcuaError
from appliance.i18n import tr

KEEP = 24
KINDS = {"sqlite": ".sqlite3", "pg_dump": ".pgdump"}  # kind -> the stored file's suffix


class BadBackup(MotcuaError):
    """The upload is not a sound SQLite database (or names a bad place): nothing stored."""


def secret_path(data: Path, site: str) -> Path:
    return data / "site-secrets" / f"{site}.bcrypt"


def save_site_secret(data: Path, site: str, password: str) -> None:
    path = secret_path(data, site)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bcrypt.hashpw(password.encode(), bcrypt.gensalt()))
    path.chmod(0o600)


_checked: dict[tuple[str, bytes], bytes] = {}


def check_site_secret(data: Path, site: str, password: str) -> bool:
    """bcrypt is slow on purpose; a site sends a copy a minute, so a password once proven
    is remembered (by its SHA-256, against the hash it was proven with) for this process."""
    try:
        hashed = secret_path(data, site).read_bytes()
    except OSError:
        return False
    key = (site, hashlib.sha256(password.encode()).digest())
    if _checked.get(key) == hashed:
        return True
    if bcrypt.checkpw(password.encode(), hashed):
        _checked[key] = hashed
        return True
    return False


class Vault:
    def __init__(self, root: Path, keep: int = KEEP) -> None:
        self.root = root
        self.keep = keep

    def put(self, site: str, name: str, relative: str, taken: str, body: bytes, *,
            kind: str = "sqlite", sha256: str | None = None) -> Path:
        rel = PurePosixPath(relative)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise BadBackup(tr(f"đường dẫn khôi phục sai {relative!r}",
                               f"bad restore path {relative!r}"))
        if kind not in KINDS:
            raise BadBackup(tr(f"loại bản sao không biết {kind!r}",
                               f"unknown kind of copy {kind!r}"))
        try:
            stamp = datetime.fromisoformat(taken)
        except ValueError:
            raise BadBackup(tr(f"thời điểm sai {taken!r}", f"bad time {taken!r}")) from None
        digest = hashlib.sha256(body).hexdigest()
        if sha256 is not None and sha256 != digest:
            raise BadBackup(tr(f"bản sao không trọn vẹn ({len(body)} byte, SHA-256 không khớp)",
                               f"the copy is not whole ({len(body)} bytes, SHA-256 differs)"))
        folder = self.root / site / name
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".upload-{os.getpid()}.tmp"
        tmp.write_bytes(body)
        try:
            _check(tmp, kind)
        except BadBackup:
            tmp.unlink(missing_ok=True)
            raise
        final = folder / f"{stamp.strftime('%Y%m%dT%H%M%S.%f')}{KINDS[kind]}"
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        tmp.replace(final)
        meta = {"file": final.name, "path": str(rel), "taken": taken, "kind": kind,
                "sha256": digest, "size": len(body)}
        latest = folder / "latest.json"
        latest.with_suffix(".tmp").write_text(json.dumps(meta))
        latest.with_suffix(".tmp").replace(latest)
        for old in sorted(folder.glob(f"*{KINDS[kind]}"))[:-self.keep]:
            old.unlink()
        return final

    def latest(self, site: str) -> dict[str, dict[str, Any]]:
        """Per database name: the latest copy's metadata, with ``source`` its file."""
        out = {}
        for folder in sorted((self.root / site).glob("*")):
            try:
                meta = json.loads((folder / "latest.json").read_text())
            except (OSError, ValueError):
                continue
            meta["source"] = str(folder / meta["file"])
            out[folder.name] = meta
        return out


def _check(path: Path, kind: str) -> None:
    if kind == "pg_dump":
        try:
            pgdump.check(path)
        except MotcuaError as exc:
            raise BadBackup(str(exc)) from None
        return
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = db.execute("PRAGMA quick_check").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise BadBackup(tr(f"không phải cơ sở dữ liệu SQLite: {exc}",
                           f"not a SQLite database: {exc}")) from None
    if not ok or ok[0] != "ok":
        raise BadBackup(tr(f"bản sao cơ sở dữ liệu bị hỏng: {ok}",
                           f"the database copy is damaged: {ok}"))
