"""A unit's health driven from outside (tests, the demo): set a fact, the next status says it.

It reports only what it was told plus what it was built with; it never invents readings.
``from_file`` reads its facts from a JSON file at each status, so a test can change the
facts of a unit running in another process (fill its disk, take its paper).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from appliance.health.facts import HealthFacts


class FakeHealth:
    def __init__(self, path: Path | None = None, **facts: Any) -> None:
        HealthFacts.model_validate(facts)  # a typo in a test's fact is an error, not ignored
        self._facts = dict(facts)
        self._path = path
        self._lock = threading.Lock()

    def set(self, **facts: Any) -> None:
        HealthFacts.model_validate(facts)
        with self._lock:
            self._facts.update(facts)

    def read(self) -> dict[str, Any]:
        with self._lock:
            facts = dict(self._facts)
        if self._path is not None:
            try:
                facts.update(json.loads(self._path.read_text()))
            except (OSError, ValueError):
                pass  # no file yet (or mid-write): the facts it was built with still hold
        return facts

    @staticmethod
    def write(path: Path, **facts: Any) -> None:
        """Tell a unit in another process its new facts (atomic: write, then rename)."""
        HealthFacts.model_validate(facts)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(facts))
        tmp.replace(path)
