"""Staff accounts: bcrypt password hashes in the database, short-lived bearer tokens."""

from __future__ import annotations

import secrets
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from appliance.errors import ConfigError
from appliance.store.errors import StoreError
from appliance.store.schema import users
from appliance.store.text import clean

ROLES = ("staff", "admin")


def hash_password(password: str) -> str:
    import bcrypt

    if len(password.encode()) > 72:
        raise StoreError("bad_request", "password: at most 72 bytes")
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def check_password(password: str, hashed: str) -> bool:
    import bcrypt

    try:
        return bcrypt.checkpw(password.encode()[:72], hashed.encode())
    except ValueError:
        return False


@dataclass(frozen=True)
class Principal:
    name: str
    role: str


# bcrypt of a random password: checked when the user does not exist, so that an unknown
# name takes as long as a wrong password
_DUMMY_HASH = "$2b$12$d8iZqWvDorUVdcGIt48PIem/hBzd/fcZTxZCE5r9mH27qNyepf54a"


class Users:
    def __init__(self, engine: Engine, token_ttl_s: int,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.ttl = token_ttl_s
        self._now = monotonic
        self._tokens: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def set_user(self, name: str, role: str, *, password: str | None = None,
                 password_hash: str | None = None) -> None:
        if role not in ROLES:
            raise StoreError("bad_request", f"role: one of {', '.join(ROLES)}")
        hashed = password_hash or hash_password(password or "")
        with self.engine.begin() as conn:
            exists = conn.execute(select(users.c.name).where(users.c.name == name)).first()
            if exists:
                conn.execute(update(users).where(users.c.name == name)
                             .values(password_hash=hashed, role=role))
            else:
                conn.execute(insert(users).values(name=name, password_hash=hashed, role=role,
                                                  created_at=int(time.time())))

    def count(self) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(users.c.name)).all())

    def login(self, name: str, password: str) -> tuple[str, Principal] | None:
        name = clean(name)[:80]
        with self.engine.connect() as conn:
            row = conn.execute(select(users.c.password_hash, users.c.role)
                               .where(users.c.name == name)).first()
        ok = check_password(password, row[0] if row else _DUMMY_HASH)
        if row is None or not ok:
            return None
        who = Principal(name, row[1])
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self._now()
            self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}
            self._tokens[token] = (who, now + self.ttl)
        return token, who

    def principal(self, token: str) -> Principal | None:
        with self._lock:
            found = self._tokens.get(token)
        if found is None or found[1] < self._now():
            return None
        return found[0]

    def load_file(self, path: Path) -> int:
        """Create or update the accounts of a users file ([[users]] name, role, password_hash)."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError([f"{path}: users file not found"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
        problems = []
        entries = raw.get("users", [])
        if set(raw) - {"users"} or not isinstance(entries, list):
            problems.append(f"{path}: only [[users]] tables belong here")
            entries = []
        for i, u in enumerate(entries):
            where = f"{path}: users[{i}]"
            if not isinstance(u, dict) or set(u) != {"name", "role", "password_hash"}:
                problems.append(f"{where}: needs exactly name, role, password_hash")
            elif u["role"] not in ROLES:
                problems.append(f"{where}.role: one of {', '.join(ROLES)}")
            elif not str(u["password_hash"]).startswith("$2"):
                problems.append(f"{where}.password_hash: not a bcrypt hash")
        if problems:
            raise ConfigError(problems)
        for u in entries:
            self.set_user(u["name"], u["role"], password_hash=u["password_hash"])
        return len(entries)
