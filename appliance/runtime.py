"""Shared plumbing for role commands: common options, logging, waiting for a signal."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from appliance.config import UnitConfig, load_unit_config
from appliance.i18n import tr


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar=tr("TỆP", "FILE"),
                        help=tr("tệp TOML của thiết bị", "the unit's TOML file"))
    parser.add_argument("--broker", metavar="URL", help=tr(
        "địa chỉ broker MQTT (thay cho địa chỉ trong tệp)", "broker URL (overrides the file)"))
    parser.add_argument("--data", metavar=tr("THƯ_MỤC", "DIR"), help=tr(
        "thư mục dữ liệu (thay cho thư mục trong tệp)", "data folder (overrides the file)"))


def load_from_args(args: argparse.Namespace) -> UnitConfig:
    return load_unit_config(
        args.config, broker_url=args.broker, data_dir=Path(args.data) if args.data else None
    )


def wait_for_signal(done: threading.Event | None = None) -> None:
    """Block until SIGTERM or SIGINT (systemd stop, Ctrl-C), or until ``done`` is set."""
    done = done or threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()


def return_large_buffers(threshold: int = 128 * 1024, arenas: int = 2) -> None:
    """Have glibc give large freed buffers back to the system at once, from few arenas.

    glibc raises its mmap threshold each time a large block is freed, so after a burst of
    big MQTT payloads (up to the broker's 1 MiB packet limit, refused by the contract at
    64 KiB) later ones are carved from the heap and the process keeps the peak for good: a
    flood of junk would leave a Pi's hub tens of MB larger. A fixed threshold keeps such
    buffers mmapped and returned when freed. glibc also gives each thread that allocates an
    arena of its own (up to 8 per core), each keeping its own free pages; a unit's few
    threads allocate little, so two arenas do (glibc's MALLOC_ARENA_MAX=2, set here so it
    holds however the unit is started: -0.4 MiB on the hub after 5,000 tickets,
    bench/bench_hub.py rss). Not glibc (musl, macOS): nothing to do.
    """
    import ctypes

    try:
        # the process's own symbols, libc's among them: no ctypes.util.find_library, which
        # runs ldconfig in a child process and leaves its modules loaded
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_mmap_threshold, m_arena_max = -3, -8  # glibc's malloc.h
    mallopt(m_mmap_threshold, threshold)
    mallopt(m_arena_max, arenas)
