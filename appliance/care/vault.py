"""The care server's store of sites' database copies: each upload checked to be a whole,
sound SQLite file before it replaces anything, the last ``keep`` copies kept per database.
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

from appliance.errors import MotcuaError

KEEP = 24


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

    def put(self, site: str, name: str, relative: str, taken: str, body: bytes) -> Path:
        rel = PurePosixPath(relative)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise BadBackup(f"bad restore path {relative!r}")
        try:
            stamp = datetime.fromisoformat(taken)
        except ValueError:
            raise BadBackup(f"bad time {taken!r}") from None
        folder = self.root / site / name
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".upload-{os.getpid()}.tmp"
        tmp.write_bytes(body)
        try:
            db = sqlite3.connect(f"file:{tmp}?mode=ro", uri=True)
            try:
                ok = db.execute("PRAGMA quick_check").fetchone()
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            tmp.unlink(missing_ok=True)
            raise BadBackup(f"not a SQLite database: {exc}") from None
        if not ok or ok[0] != "ok":
            tmp.unlink(missing_ok=True)
            raise BadBackup(f"the database copy is damaged: {ok}")
        final = folder / f"{stamp.strftime('%Y%m%dT%H%M%S.%f')}.sqlite3"
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        tmp.replace(final)
        meta = {"file": final.name, "path": str(rel), "taken": taken,
                "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
        latest = folder / "latest.json"
        latest.with_suffix(".tmp").write_text(json.dumps(meta))
        latest.with_suffix(".tmp").replace(latest)
        for old in sorted(folder.glob("*.sqlite3"))[:-self.keep]:
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
