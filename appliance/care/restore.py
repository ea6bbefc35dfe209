"""`motcua restore --config care.toml --site S --to DIR`: put the latest copy of a site's
databases onto a spare card's data partition (mounted at DIR). Stale ``-wal``/``-shm``
files beside a target are removed first: SQLite would replay an old log over the copy.
The units' outboxes then fill in what happened after the copy (docs/care.md)."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from appliance.care.config import load_care_config
from appliance.care.vault import Vault
from appliance.errors import MotcuaError
from appliance.i18n import tr


def restore(vault: Vault, site: str, to: Path) -> list[tuple[str, Path, str]]:
    """(name, file written, taken) for each database of the site."""
    latest = vault.latest(site)
    if not latest:
        raise MotcuaError(f"no backup of site {site!r} in {vault.root}")
    done = []
    for name, meta in latest.items():
        target = to / meta["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        tmp = target.with_name(target.name + ".restoring")
        shutil.copyfile(meta["source"], tmp)
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        tmp.replace(target)
        done.append((name, target, meta["taken"]))
    return done


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar=tr("TỆP", "FILE"),
                        help=tr("tệp cấu hình care.toml", "care.toml"))
    parser.add_argument("--site", required=True, help=tr("mã điểm", "the site id"))
    parser.add_argument("--to", required=True, metavar=tr("THƯ_MỤC", "DIR"), help=tr(
        "thư mục dữ liệu trên thẻ nhớ dự phòng (ví dụ /mnt/card/var/lib/motcua/hub)",
        "the spare card's data folder (e.g. /mnt/card/var/lib/motcua/hub)"))


def run(args: argparse.Namespace) -> int:
    config = load_care_config(args.config)
    for name, path, taken in restore(Vault(config.data_path / "backups"), args.site,
                                     Path(args.to)):
        print(tr(f"{name}: {path} (bản sao lấy lúc {taken})",
                 f"{name}: {path} (copy taken {taken})"))
    return 0
