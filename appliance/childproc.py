"""Child processes that die with their parent: a broker, hub or unit started by a test, a
benchmark or the demo must not outlive it (a pytest killed by its timeout, or by -9, left
Mosquittos listening and units reconnecting for ever).

The kernel does it (``PR_SET_PDEATHSIG``), set by util-linux's ``setpriv --pdeathsig``,
which then execs the program (same pid): no ``preexec_fn``, which is not safe in a process
with threads (paho's network loops). The signal is SIGTERM, so the child still stops
cleanly; it follows the death of the *thread* that started the child, so only a child
started from the main thread is tied (a worker thread ending must not take its broker
with it). Where setpriv is missing, the command is run as it is.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Sequence


def tied_to_parent(argv: Sequence[str]) -> list[str]:
    """``argv`` to run so that the child gets SIGTERM when this process dies, even by -9."""
    tool = shutil.which("setpriv")
    if tool is None or threading.current_thread() is not threading.main_thread():
        return list(argv)
    return [tool, "--pdeathsig", "TERM", "--", *argv]
