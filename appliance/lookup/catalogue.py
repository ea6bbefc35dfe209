"""The procedure catalogue, cached on the kiosk's disk so browsing works when the store is away.

The cache is one JSON file replaced atomically (write a temp file, fsync, rename, fsync the
folder): a power cut leaves either the old catalogue or the new one, never half of one.
It is refreshed only when the store's retained ``store/catalogue`` version differs.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.errors import ContractError, StorageError
from appliance.i18n import tr

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
MAX_PROCEDURES = 20000


@dataclass(frozen=True)
class Catalogue:
    """An immutable catalogue: the state machine holds it, a refresh swaps in a new one."""

    version: str = ""
    procedures: tuple[Mapping[str, Any], ...] = ()
    fetched_at: str | None = None
    by_code: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, compare=False)
    sectors: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def build(cls, version: str, procedures: list[Mapping[str, Any]],
              fetched_at: str | None = None) -> Catalogue:
        from appliance.lookup.search import sectors

        clean = tuple(_clean(p) for p in procedures)
        return cls(version, clean, fetched_at, {str(p["code"]): p for p in clean},
                   tuple(sectors(clean)))

    @property
    def empty(self) -> bool:
        return not self.procedures

    def get(self, code: str) -> Mapping[str, Any] | None:
        return self.by_code.get(code)


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _nfc(v) for k, v in value.items()}
    return value


def _clean(proc: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(proc, Mapping):
        raise ContractError("bad_request", "a catalogue entry is not an object")
    code, name = proc.get("code"), proc.get("name")
    if not isinstance(code, str) or not code or not isinstance(name, str) or not name:
        raise ContractError("bad_request", "a catalogue entry lacks its code or name")
    cleaned: dict[str, Any] = _nfc(dict(proc))
    return cleaned


def load(path: Path) -> Catalogue:
    """The cached catalogue, or an empty one if there is none yet (a fresh kiosk)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Catalogue()
    except OSError as exc:
        raise StorageError(tr(f"không đọc được bản lưu danh mục thủ tục {path}: {exc}",
                              f"cannot read the catalogue cache {path}: {exc}")) from exc
    try:
        data = json.loads(raw.decode("utf-8"))
        if data.get("format") != CACHE_FORMAT:
            raise ValueError(tr(f"định dạng bản lưu không rõ {data.get('format')!r}",
                                f"unknown cache format {data.get('format')!r}"))
        return Catalogue.build(str(data["version"]), list(data["procedures"]),
                               data.get("fetched_at"))
    except (ValueError, KeyError, TypeError, AttributeError, ContractError) as exc:
        # a damaged cache is replaced at the next refresh; browsing shows "not available"
        log.error(tr("bản lưu danh mục thủ tục %s không đọc được (%s); bỏ qua",
                     "catalogue cache %s is unreadable (%s); ignoring it"), path, exc)
        return Catalogue()


def save(path: Path, catalogue: Catalogue) -> None:
    """Replace the cache atomically and durably."""
    body = json.dumps(
        {"format": CACHE_FORMAT, "version": catalogue.version,
         "fetched_at": catalogue.fetched_at, "procedures": list(catalogue.procedures)},
        ensure_ascii=False, separators=(",", ":"),
    ).encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".catalogue-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise StorageError(tr(f"không ghi được bản lưu danh mục thủ tục {path}: {exc}",
                               f"cannot write the catalogue cache {path}: {exc}")) from exc


Request = Callable[[dict[str, Any]], dict[str, Any]]


def fetch(request: Request, *, page_size: int, fetched_at: str | None = None) -> Catalogue:
    """Every page of ``procedure.catalogue``; raises if the version moves while paging.

    ``request`` sends one store request and returns the reply (raising RequestTimeout etc.).
    """
    procedures: list[Mapping[str, Any]] = []
    version: str | None = None
    offset = 0
    while True:
        reply = request({"op": "procedure.catalogue", "offset": offset, "limit": page_size})
        if not reply.get("ok"):
            err = reply.get("error") or {}
            raise ContractError(str(err.get("code", "internal")),
                                str(err.get("message", "catalogue refused")))
        page = reply.get("procedures")
        total = reply.get("total")
        if not isinstance(page, list) or not isinstance(total, int):
            raise ContractError("bad_request", "catalogue reply lacks procedures or total")
        if version is None:
            version = str(reply.get("version", ""))
        elif str(reply.get("version", "")) != version:
            raise ContractError("conflict", "the catalogue changed while it was being read")
        procedures.extend(page)
        offset += len(page)
        if offset >= total or not page:
            break
        if offset > MAX_PROCEDURES:
            raise ContractError("too_large", f"catalogue larger than {MAX_PROCEDURES}")
    return Catalogue.build(version or "", procedures, fetched_at)
