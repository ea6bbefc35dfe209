"""Download and verify a release: the signature first, then every file's size and
SHA-256. Anything wrong — a bad signature, a truncated or altered file, a missing one —
raises UpdateRefused and leaves nothing behind."""

from __future__ import annotations

import hashlib
import json
import shutil
import ssl
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.errors import MotcuaError
from appliance.i18n import tr

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
MAX_FILE = 200 * 2**20


class UpdateRefused(MotcuaError):
    """The release cannot be trusted or was not fully received: nothing was changed."""


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise UpdateRefused(tr(f"không đọc được khoá công khai {path}: {exc}",
                               f"cannot read the release public key {path}: {exc}")) from None
    if not isinstance(key, Ed25519PublicKey):
        raise UpdateRefused(tr(f"{path} không phải khoá công khai Ed25519",
                               f"{path} is not an Ed25519 public key"))
    return key


def verify_manifest(manifest: bytes, signature: bytes, key: Ed25519PublicKey) -> dict[str, Any]:
    try:
        key.verify(signature, manifest)
    except InvalidSignature:
        raise UpdateRefused(tr("chữ ký của bản kê phát hành sai",
                               "bad signature on the release manifest")) from None
    try:
        body = json.loads(manifest)
    except ValueError:
        raise UpdateRefused(tr("bản kê đã ký không phải JSON",
                               "the signed manifest is not JSON")) from None
    files = body.get("files") if isinstance(body, dict) else None
    if body.get("v") != 1 or not isinstance(files, dict) or not isinstance(
            body.get("version"), str):
        raise UpdateRefused(tr("bản kê thiếu v/version/files",
                               "the manifest lacks v/version/files"))
    for name in files:
        if "/" in name or name.startswith(".") or not name.endswith(".whl"):
            raise UpdateRefused(tr(f"bản kê ghi một tệp sai {name!r}",
                                   f"the manifest names a bad file {name!r}"))
    return body


class Fetcher:
    """Reads release files over HTTPS (the care server's CA) — or a local folder."""

    def __init__(self, ca_file: Path | None = None, timeout_s: float = 30.0) -> None:
        self.ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self.timeout_s = timeout_s

    def get(self, url: str, limit: int = MAX_FILE) -> bytes:
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s, context=self.ctx) as r:
                data: bytes = r.read(limit + 1)
        except (urllib.error.URLError, OSError) as exc:
            raise UpdateRefused(tr(f"tải {url} không được: {exc}",
                                   f"download of {url} failed: {exc}")) from None
        if len(data) > limit:
            raise UpdateRefused(tr(f"{url} lớn hơn {limit} byte",
                                   f"{url} is larger than {limit} bytes"))
        return data


def download(url: str, key: Ed25519PublicKey, fetcher: Fetcher) -> tuple[dict[str, Any], Path]:
    """Fetch and verify the release at ``url`` into a fresh temp folder (the caller moves
    or removes it); every file checked against the signed manifest."""
    base = url.rstrip("/") + "/"
    manifest = fetcher.get(base + MANIFEST, 1 << 20)
    body = verify_manifest(manifest, fetcher.get(base + SIGNATURE, 1024), key)
    tmp = Path(tempfile.mkdtemp(prefix="motcua-release-"))
    try:
        for name, meta in sorted(body["files"].items()):
            data = fetcher.get(base + name)
            if len(data) != meta.get("size"):
                raise UpdateRefused(tr(f"{name}: {len(data)} byte, bản kê ghi "
                                       f"{meta.get('size')} (tải về bị cắt?)",
                                       f"{name}: {len(data)} bytes, the manifest says "
                                       f"{meta.get('size')} (truncated download?)"))
            if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
                raise UpdateRefused(tr(f"{name}: mã kiểm tra không khớp bản kê",
                                       f"{name}: checksum does not match the manifest"))
            (tmp / name).write_bytes(data)
        (tmp / MANIFEST).write_bytes(manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return body, tmp
