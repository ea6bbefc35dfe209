"""`motcua restore --config care.toml --site S --to DIR`: put the latest copy of a site's
databases onto a spare card's data partition (mounted at DIR). Stale ``-wal``/``-shm``
files beside a target are removed first: SQLite would replay an old log over the copy.
A PostgreSQL store's dump goes into the database named with ``--pg NAME=URL`` through
``pg_restore`` in one transaction (without it the dump file is written under DIR, to load
later). The units' outboxes then fill in what happened after the copy (docs/care.md)."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from appliance.backup import pgdump
from appliance.care.config import load_care_config
from appliance.care.vault import Vault
from appliance.errors import MotcuaError
from appliance.i18n import tr


def restore(vault: Vault, site: str, to: Path, pg: dict[str, str] | None = None,
            ) -> list[tuple[str, str, str]]:
    """(name, where it went, taken) for each database of the site."""
    latest = vault.latest(site)
    if not latest:
        raise MotcuaError(tr(f"không có bản sao nào của điểm {site!r} trong {vault.root}",
                             f"no backup of site {site!r} in {vault.root}"))
    unknown = sorted(set(pg or {}) - set(latest))
    if unknown:
        raise MotcuaError(tr(f"--pg {unknown[0]}: điểm {site!r} không có bản sao tên này",
                             f"--pg {unknown[0]}: site {site!r} has no copy of that name"))
    done = []
    for name, meta in latest.items():
        url = (pg or {}).get(name)
        if url is not None:
            if meta.get("kind") != "pg_dump":
                raise MotcuaError(tr(f"{name}: bản sao là SQLite, không nạp vào PostgreSQL được",
                                     f"{name}: the copy is SQLite, not a PostgreSQL dump"))
            pgdump.restore(Path(meta["source"]), url)
            done.append((name, pgdump.conninfo(url)[0], meta["taken"]))
            continue
        target = to / meta["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        tmp = target.with_name(target.name + ".restoring")
        shutil.copyfile(meta["source"], tmp)
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        tmp.replace(target)
        done.append((name, str(target), meta["taken"]))
    return done


def _pg(spec: str) -> tuple[str, str]:
    name, _, url = spec.partition("=")
    if not name or not url:
        raise argparse.ArgumentTypeError(tr(f"--pg {spec!r}: cần dạng TÊN=URL",
                                            f"--pg {spec!r}: expected NAME=URL"))
    return name, url


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar=tr("TỆP", "FILE"),
                        help=tr("tệp cấu hình care.toml", "care.toml"))
    parser.add_argument("--site", required=True, help=tr("mã điểm", "the site id"))
    parser.add_argument("--to", required=True, metavar=tr("THƯ_MỤC", "DIR"), help=tr(
        "thư mục dữ liệu trên thẻ nhớ dự phòng (ví dụ /mnt/card/var/lib/motcua/hub)",
        "the spare card's data folder (e.g. /mnt/card/var/lib/motcua/hub)"))
    parser.add_argument("--pg", action="append", type=_pg, default=[], metavar="NAME=URL",
                        help=tr("nạp bản sao PostgreSQL tên NAME vào cơ sở dữ liệu này "
                                "(lặp lại được)",
                                "load the PostgreSQL copy NAME into this database "
                                "(repeatable)"))


def run(args: argparse.Namespace) -> int:
    config = load_care_config(args.config)
    for name, where, taken in restore(Vault(config.data_path / "backups"), args.site,
                                      Path(args.to), dict(args.pg)):
        print(tr(f"{name}: {where} (bản sao lấy lúc {taken})",
                 f"{name}: {where} (copy taken {taken})"))
    return 0
