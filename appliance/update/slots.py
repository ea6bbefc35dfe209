"""Release slots under ``/var/lib/motcua/releases``: one folder per version, ``current``
and ``previous`` symlinks switched by atomic rename, so a power cut at any instant leaves
a unit that starts on one of two complete slots.

A slot counts only once its ``release.json`` is on disk (written last, fsynced); a folder
still being installed is ``.<version>.partial`` and is never started.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from appliance.i18n import tr
from appliance.update.bundle import UpdateRefused

MARKER = "release.json"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pip_install(wheels: list[Path], target: Path) -> None:
    """Install wheels into a folder with pip (no index, no dependencies: the wheels are
    the release; the system's own packages stay what the image put there)."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
         "--disable-pip-version-check", "--no-warn-script-location", "--target", str(target),
         *map(str, wheels)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise UpdateRefused(tr(f"pip không cài được bản phát hành: {done.stderr.strip()[-400:]}",
                               f"pip could not install the release: {done.stderr.strip()[-400:]}"))


class Slots:
    def __init__(self, root: Path) -> None:
        self.root = root

    def slot(self, version: str) -> Path:
        return self.root / version

    def complete(self, version: str | None) -> bool:
        return bool(version) and (self.root / str(version) / MARKER).is_file()

    def _link(self, name: str) -> str | None:
        try:
            return os.readlink(self.root / name)
        except OSError:
            return None

    @property
    def current(self) -> str | None:
        return self._link("current")

    @property
    def previous(self) -> str | None:
        return self._link("previous")

    def start_version(self) -> str | None:
        """The slot to start: ``current`` when complete, else ``previous``, else None (the
        image's own install)."""
        for v in (self.current, self.previous):
            if self.complete(v):
                return v
        return None

    def install(self, version: str, files: Path, manifest: dict[str, Any]) -> Path:
        """Install the verified wheels in ``files`` as slot ``version`` (if not there)."""
        if self.complete(version):
            return self.slot(version)
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.glob(".*.partial"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a power cut mid-install
        partial = self.root / f".{version}.partial"
        (partial / "wheels").mkdir(parents=True)
        wheels = []
        for name in sorted(manifest["files"]):
            shutil.copy2(files / name, partial / "wheels" / name)
            wheels.append(partial / "wheels" / name)
        pip_install(wheels, partial / "lib")
        marker = partial / MARKER
        with marker.open("w") as f:
            json.dump(manifest, f)
            f.flush()
            os.fsync(f.fileno())
        shutil.rmtree(self.slot(version), ignore_errors=True)
        partial.replace(self.slot(version))
        _fsync_dir(self.root)
        return self.slot(version)

    def _set(self, name: str, version: str) -> None:
        tmp = self.root / f".{name}.tmp"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(version, tmp)
        tmp.replace(self.root / name)  # rename(2): the link is old or new, never neither

    def switch(self, version: str) -> None:
        """Make ``version`` current and the running one previous."""
        if not self.complete(version):
            raise UpdateRefused(tr(f"khe {version} chưa cài xong",
                                   f"slot {version} is not completely installed"))
        old = self.start_version()
        if old and old != version:
            self._set("previous", old)
            _fsync_dir(self.root)
        self._set("current", version)
        _fsync_dir(self.root)

    def roll_back(self) -> str | None:
        """Back to ``previous`` (None: back to the image's own install)."""
        prev = self.previous
        failed = self.current
        if self.complete(prev):
            assert prev is not None
            self._set("current", prev)
        else:
            (self.root / "current").unlink(missing_ok=True)
        if failed:
            self._set("previous", failed)  # kept for a look; never started by itself
        _fsync_dir(self.root)
        return prev if self.complete(prev) else None

    def mark_failed(self, version: str, reason: str) -> None:
        """Remember a release that did not come up, so a retained announcement of it is not
        tried again at every restart of the updater."""
        failed = self.failed()
        failed[version] = reason
        tmp = self.root / ".failed.json.tmp"
        tmp.write_text(json.dumps(failed))
        tmp.replace(self.root / "failed.json")

    def failed(self) -> dict[str, str]:
        try:
            data = json.loads((self.root / "failed.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def lib_path(self) -> Path | None:
        v = self.start_version()
        return self.slot(v) / "lib" if v else None
