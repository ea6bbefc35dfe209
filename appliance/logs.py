"""Log lines with their priority: journald reads a ``<N>`` prefix (sd-daemon(3)).

Under systemd (``$JOURNAL_STREAM`` set: stderr goes to the journal) each line starts with its
syslog priority, so ``journalctl -p warning -u motcua-hub`` shows the hub's warnings and
errors; journald adds the time itself. On a terminal the lines keep a readable time stamp.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

# Python level -> syslog priority (LOG_ERR 3, LOG_WARNING 4, LOG_INFO 6, LOG_DEBUG 7)
PRIORITIES = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6,
              logging.DEBUG: 7}


def priority(levelno: int) -> int:
    for level in sorted(PRIORITIES, reverse=True):
        if levelno >= level:
            return PRIORITIES[level]
    return 7


class JournalFormatter(logging.Formatter):
    """``<N>name: message``; every line of a traceback carries the record's priority, so a
    crash is found with ``-p err`` and not only its first line."""

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


def under_journal(environ: Mapping[str, str] | None = None) -> bool:
    return bool((os.environ if environ is None else environ).get("JOURNAL_STREAM"))


def configure_logging(*, verbose: bool = False,
                      environ: Mapping[str, str] | None = None) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    if under_journal(environ):
        handler = logging.StreamHandler()
        handler.setFormatter(JournalFormatter())
        logging.basicConfig(level=level, handlers=[handler])
    else:
        logging.basicConfig(level=level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
