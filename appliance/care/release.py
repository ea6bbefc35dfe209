"""Signed releases: the project's wheels and a manifest of their SHA-256 sums, signed with
Ed25519 (``cryptography``). The care server holds the private key; every unit holds the
public key and refuses anything it does not verify (appliance/update).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.contract import ROOT
from appliance.errors import MotcuaError
from appliance.i18n import tr

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"


def keygen(private: Path, public: Path) -> None:
    """A new signing key pair (PEM); refuses to overwrite a key that exists."""
    if private.exists():
        raise MotcuaError(tr(f"{private} đã có: khoá mới sẽ làm mọi thiết bị không còn tin bản "
                             "phát hành nào",
                             f"{private} exists: a new key would orphan every unit's trust"))
    key = Ed25519PrivateKey.generate()
    private.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def _load_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except (OSError, ValueError) as exc:
        raise MotcuaError(tr(f"không đọc được khoá ký {path}: {exc}",
                             f"cannot read the release key {path}: {exc}")) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise MotcuaError(tr(f"{path} không phải khoá Ed25519", f"{path} is not an Ed25519 key"))
    return key


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def make_release(bundle: Path, version: str, key_file: Path, releases: Path) -> Path:
    """Copy the bundle's wheels to ``releases/<version>/`` with a signed manifest."""
    wheels = sorted(bundle.glob("*.whl"))
    if not wheels:
        raise MotcuaError(tr(f"{bundle}: không có tệp wheel (*.whl) nào để phát hành",
                             f"{bundle}: no wheels (*.whl) to release"))
    if not version or "/" in version or version.startswith("."):
        raise MotcuaError(tr(f"số phiên bản sai {version!r}", f"bad version {version!r}"))
    out = releases / version
    if out.exists():
        raise MotcuaError(tr(f"bản phát hành {version} đã có: không dùng lại số phiên bản",
                             f"release {version} exists already: versions are never reused"))
    key = _load_key(key_file)
    tmp = releases / f".{version}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    files: dict[str, Any] = {}
    for w in wheels:
        shutil.copy2(w, tmp / w.name)
        files[w.name] = {"sha256": sha256(w), "size": w.stat().st_size}
    manifest = json.dumps({"v": 1, "version": version, "files": files,
                           "created": datetime.now(UTC).isoformat(timespec="seconds")},
                          sort_keys=True, indent=1).encode()
    (tmp / MANIFEST).write_bytes(manifest)
    (tmp / SIGNATURE).write_bytes(key.sign(manifest))
    tmp.replace(out)
    return out


def announcement(version: str, base_url: str) -> dict[str, Any]:
    """The retained ``care/release`` message a site's units act on."""
    return {"v": 1, "version": version, "url": f"{base_url.rstrip('/')}/releases/{version}/"}


def release_topic(site: str) -> str:
    return f"{ROOT}/{site}/care/release"
