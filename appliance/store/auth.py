"""Staff accounts: bcrypt password hashes in the database, short-lived bearer tokens.

Roles: ``staff`` (cán bộ tiếp nhận, the receiving officer), ``processor`` (cán bộ xử lý),
``leader`` (lãnh đạo), ``admin``. Each account belongs to an office (agency code; an admin
without one manages the whole store) and carries the officer code typed on the counter
keypad. Repeated wrong passwords lock the account for a while (``LOCK_AFTER``/``LOCK_S``).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.engine import Engine

from appliance.errors import ConfigError
from appliance.i18n import tr
from appliance.store.errors import StoreError
from appliance.store.schema import sessions, store_keys, users
from appliance.store.text import clean

ROLES = ("staff", "processor", "leader", "admin")
ROLE_LABELS = {"staff": "Cán bộ tiếp nhận", "processor": "Cán bộ xử lý",
               "leader": "Lãnh đạo", "admin": "Quản trị"}
LOCK_AFTER = 5  # wrong passwords in a row before the account is locked
LOCK_S = 15 * 60


def hash_password(password: str) -> str:
    import bcrypt

    if len(password.encode()) > 72:
        raise StoreError("bad_request", tr("password: tối đa 72 byte",
                                            "password: at most 72 bytes"))
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    office: str | None = None
    full_name: str = ""
    officer_code: str = ""

    @property
    def label(self) -> str:
        return self.full_name or self.name

    def can(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles


class Locked(StoreError):
    """The account is locked after too many wrong passwords."""


# bcrypt of a random password: checked when the user does not exist, so that an unknown
# name takes as long as a wrong password
_DUMMY_HASH = "$2b$12$d8iZqWvDorUVdcGIt48PIem/hBzd/fcZTxZCE5r9mH27qNyepf54a"


class Users:
    def __init__(self, engine: Engine, token_ttl_s: int,
                 monotonic: Callable[[], float] = time.monotonic,
                 default_office: str | None = None) -> None:
        self.engine = engine
        # an account other than an admin is never store-wide: without an office of its own
        # it works for the store's first office
        self.default_office = default_office
        self.ttl = token_ttl_s
        self._now = monotonic
        self._tokens: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def set_user(self, name: str, role: str, *, password: str | None = None,
                 password_hash: str | None = None,
                 audited: Callable[[Connection], None] | None = None, **profile: Any) -> None:
        """Create or update an account. ``profile``: full_name, office, officer_code, active
        (left as they are when not given). Without a password an existing account keeps its
        own; a new one needs one."""
        if role not in ROLES:
            raise StoreError("bad_request", tr(
                f"role: một trong {', '.join(ROLES)}", f"role: one of {', '.join(ROLES)}"))
        unknown = set(profile) - {"full_name", "office", "officer_code", "active"}
        if unknown:
            raise TypeError(f"unknown account fields {sorted(unknown)}")
        values: dict[str, Any] = {"role": role, **profile}
        if password is not None or password_hash is not None:
            values["password_hash"] = password_hash or hash_password(password or "")
            values.update(failed_logins=0, locked_until=None)
        with self.engine.begin() as conn:
            exists = conn.execute(select(users.c.name).where(users.c.name == name)).first()
            if exists:
                conn.execute(update(users).where(users.c.name == name).values(**values))
            else:
                if "password_hash" not in values:
                    raise StoreError("bad_request", tr(
                        "password: tài khoản mới cần mật khẩu",
                        "password: a new account needs one"))
                conn.execute(insert(users).values(name=name, created_at=int(time.time()),
                                                  **values))
            if audited is not None:  # the change and its audit row land together
                audited(conn)
        if password is not None or password_hash is not None or profile.get("active") == 0:
            self.forget(name)

    def unlock(self, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.name == name)
                         .values(failed_logins=0, locked_until=None))

    def forget(self, name: str) -> None:
        """End every session of ``name`` (password changed, account disabled, logged out)."""
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.name == name))
        with self._lock:
            self._tokens = {t: v for t, v in self._tokens.items() if v[0].name != name}

    def key(self, name: str) -> bytes:
        """A random secret kept in the database (e.g. what CSRF tokens are signed with), so
        that forms and sessions outlive a restart of the store."""
        with self.engine.begin() as conn:
            found = conn.execute(select(store_keys.c.value)
                                 .where(store_keys.c.name == name)).scalar()
            if found is None:
                found = secrets.token_hex(32)
                conn.execute(insert(store_keys).values(name=name, value=found))
        return bytes.fromhex(found)

    def list(self, office: str | None = None) -> list[dict[str, Any]]:
        q = select(users.c.name, users.c.role, users.c.full_name, users.c.office,
                   users.c.officer_code, users.c.active, users.c.failed_logins,
                   users.c.locked_until).order_by(users.c.name)
        if office is not None:
            q = q.where(users.c.office == office)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def find(self, name: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
        return dict(row) if row else None

    def change_password(self, name: str, old: str, new: str) -> None:
        row = self.find(name)
        if row is None or not check_password(old, row["password_hash"]):
            raise StoreError("forbidden", "Mật khẩu hiện tại không đúng.")
        if len(new) < 8 or len(new.encode()) > 72:
            raise StoreError("bad_request", "Mật khẩu mới cần từ 8 đến 72 ký tự.")
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.name == name)
                         .values(password_hash=hash_password(new)))
        self.forget(name)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(users.c.name)).all())

    def login(self, name: str, password: str) -> tuple[str, Principal] | None:
        """A session token, or None for a wrong name or password; Locked while the account
        is locked (even with the right password: guessing must not go on)."""
        name = clean(name)[:80]
        wall = int(time.time())
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
        ok = check_password(password, row["password_hash"] if row else _DUMMY_HASH)
        if row is None:
            return None
        if row["locked_until"] is not None and row["locked_until"] > wall:
            raise Locked("locked", "Tài khoản đang bị khoá tạm thời do nhập sai mật khẩu nhiều "
                                   "lần; hãy thử lại sau 15 phút hoặc nhờ quản trị mở khoá.")
        if not ok or not row["active"]:
            failed = row["failed_logins"] + 1
            values: dict[str, Any] = {"failed_logins": failed}
            if failed >= LOCK_AFTER:
                values.update(failed_logins=0, locked_until=wall + LOCK_S)
            with self.engine.begin() as conn:
                conn.execute(update(users).where(users.c.name == name).values(**values))
            return None
        if row["failed_logins"] or row["locked_until"]:
            with self.engine.begin() as conn:
                conn.execute(update(users).where(users.c.name == name)
                             .values(failed_logins=0, locked_until=None))
        who = self._principal(row)
        token = secrets.token_urlsafe(32)
        # kept in the database (a hash of it: a copy of the database opens no session), so
        # a restart of the store does not log every officer out
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires_at <= wall))
            conn.execute(insert(sessions).values(token_hash=_digest(token), name=name,
                                                 expires_at=wall + self.ttl))
        self._remember(token, who, self.ttl)
        return token, who

    def _remember(self, token: str, who: Principal, ttl: float) -> None:
        with self._lock:
            now = self._now()
            self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}
            self._tokens[token] = (who, now + ttl)

    def principal(self, token: str) -> Principal | None:
        with self._lock:
            found = self._tokens.get(token)
        if found is not None:
            return found[0] if found[1] >= self._now() else None
        wall = int(time.time())
        with self.engine.connect() as conn:
            row = conn.execute(
                select(sessions.c.expires_at, users).join(users, users.c.name == sessions.c.name)
                .where(sessions.c.token_hash == _digest(token), sessions.c.expires_at > wall,
                       users.c.active == 1)).mappings().first()
        if row is None:
            return None
        who = self._principal(row)
        self._remember(token, who, row["expires_at"] - wall)
        return who

    def _principal(self, row: Any) -> Principal:
        office = row["office"] or (None if row["role"] == "admin" else self.default_office)
        return Principal(row["name"], row["role"], office, row["full_name"],
                         row["officer_code"])

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
