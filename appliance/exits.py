"""Why a role's last run ended, and how long to wait before the next one.

systemd runs ``motcua record-exit --data DIR`` after every run of a role (``ExecStopPost=``,
with ``$SERVICE_RESULT``, ``$EXIT_CODE`` and ``$EXIT_STATUS`` set). The next run reads it: the
role says ``alert`` with that reason for a while (appliance.watchdog), and ``motcua
record-exit --backoff`` (``ExecStartPre=``) waits longer after each failure in a row, so a
unit that keeps crashing keeps trying — systemd 252 has no growing RestartSec= — without
spinning the CPU of a small board.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from appliance.i18n import tr

log = logging.getLogger(__name__)

EXITS_FILE = "exits.json"
KEEP_EXITS = 10
BACKOFF_MAX_S = 60.0
RECENT_S = 3600.0


def record_exit(data_dir: Path, environ: Mapping[str, str], wall: float) -> dict[str, Any]:
    """Append systemd's account of the run that just ended to ``data_dir/exits.json``."""
    entry = {"at": wall, "result": environ.get("SERVICE_RESULT", "unknown"),
             "code": environ.get("EXIT_CODE", ""), "status": environ.get("EXIT_STATUS", "")}
    path = data_dir / EXITS_FILE
    exits = [*read_exits(path)[-(KEEP_EXITS - 1):], entry]
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(exits, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return entry


def read_exits(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:  # a torn file must not stop the role starting
        log.warning(tr("bỏ qua tệp không đọc được %s: %s", "ignoring unreadable %s: %s"), path, exc)
        return []
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []


def describe_exit(entry: Mapping[str, Any]) -> str:
    """systemd's words (SERVICE_RESULT / EXIT_CODE / EXIT_STATUS) as one reason."""
    result = str(entry.get("result", "unknown"))
    code, status = entry.get("code", ""), entry.get("status", "")
    if result == "watchdog":
        signal = status or "SIGABRT"
        return "watchdog: " + tr(f"vòng làm việc bị treo, đã bị dừng ({signal})",
                                 f"work loop stuck, killed ({signal})")
    if code == "exited":
        return f"{result}: " + tr(f"thoát với mã {status}", f"exit status {status}")
    if code in ("killed", "dumped"):
        return f"{result}: " + tr(f"bị dừng bởi {status}", f"killed by {status}")
    return result


def last_failure(data_dir: Path, wall: float, within_s: float = RECENT_S) -> str | None:
    """The reason the previous run failed, if it ended badly within the last hour."""
    exits = read_exits(data_dir / EXITS_FILE)
    if not exits:
        return None
    last = exits[-1]
    if last.get("result") == "success" or wall - float(last.get("at", 0)) > within_s:
        return None
    failures = sum(1 for e in exits if e.get("result") != "success"
                   and wall - float(e.get("at", 0)) <= within_s)
    reason = describe_exit(last)
    return reason if failures < 2 else f"{reason} ({failures} failures in the last hour)"


def failures_in_a_row(data_dir: Path, wall: float, within_s: float = RECENT_S) -> int:
    n = 0
    for entry in reversed(read_exits(data_dir / EXITS_FILE)):
        if entry.get("result") == "success" or wall - float(entry.get("at", 0)) > within_s:
            break
        n += 1
    return n


def backoff_s(failures: int) -> float:
    """0 after a clean stop, then 1, 2, 4 ... seconds, at most a minute."""
    return 0.0 if failures <= 1 else min(BACKOFF_MAX_S, 2.0 ** (failures - 2))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar=tr("THƯ_MỤC", "DIR"),
                        help=tr("thư mục dữ liệu của vai trò", "the role's data folder"))
    parser.add_argument("--backoff", action="store_true",
                        help=tr("không ghi lại: chỉ chờ đúng khoảng mà số lần lỗi liên tiếp "
                                "đòi hỏi",
                                "do not record: wait as long as the failures in a row ask"))


def run(args: argparse.Namespace) -> int:
    """``motcua record-exit --data DIR`` (ExecStopPost=) or ``--backoff`` (ExecStartPre=)."""
    data = Path(args.data)
    if args.backoff:
        wait = backoff_s(failures_in_a_row(data, time.time()))
        if wait:
            log.warning(tr("lỗi %d lần liền: chờ %.0f s rồi mới chạy lại",
                           "failed %d times in a row: waiting %.0f s before starting again"),
                        failures_in_a_row(data, time.time()), wait)
            time.sleep(wait)
        return 0
    entry = record_exit(data, os.environ, time.time())
    if entry["result"] != "success":
        log.warning(tr("lần chạy kết thúc: %s", "run ended: %s"), describe_exit(entry))
    return 0
