"""The hub's memory of replies already given, so a retried request is answered, not redone.

Bound (by count and by age, per unit):

* at most ``PER_UNIT`` (1,000) replies per unit, the oldest forgotten first;
* none given before the previous office day (the hub prunes at every day turnover);
* only units declared in the site file are remembered (any other gets ``unknown_unit``,
  which is safe to answer again), and only under ids of at most 100 characters, checked
  before anything is stored (``appliance.contract.request_id``);
* each reply is kept as its compact JSON in UTF-8 bytes (a hub reply is under 2 KB): a
  Python ``str`` holding one Vietnamese letter beyond Latin-1 ("ư", "ạ") stores every
  character in 2 bytes, so bytes keep a ticket reply in about half the memory.

So the memory holds at most ``units × PER_UNIT`` replies — 7,000 for the demo site's seven
units, about 4.3 MB (bench/bench_reply_memory.py: ≈0.61 kB per ticket reply under a
100-character id, all included; 1.04 kB while they were kept as str) — whatever a unit
sends, and a restart loads no more than that. A unit retries a request within minutes,
and its offline catch-up within the office day, long before its 1,000th newer request:
the bound never forgets a reply a retry needs.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

PER_UNIT = 1000

Key = tuple[str, str]


class ReplyMemory:
    def __init__(self, per_unit: int | None = None) -> None:
        self.per_unit = per_unit if per_unit is not None else PER_UNIT
        self._units: dict[str, OrderedDict[str, bytes]] = {}

    def __len__(self) -> int:
        return sum(len(d) for d in self._units.values())

    def __contains__(self, key: Key) -> bool:
        unit = self._units.get(key[0])
        return unit is not None and key[1] in unit

    def get(self, key: Key) -> dict[str, Any] | None:
        unit = self._units.get(key[0])
        body = unit.get(key[1]) if unit is not None else None
        return json.loads(body) if body is not None else None

    def add(self, key: Key, body: str) -> list[Key]:
        """Remember one reply (JSON text); returns the keys forgotten to stay in bound."""
        unit = self._units.setdefault(key[0], OrderedDict())
        unit[key[1]] = body.encode("utf-8")
        unit.move_to_end(key[1])
        forgotten: list[Key] = []
        while len(unit) > self.per_unit:
            old, _ = unit.popitem(last=False)
            forgotten.append((key[0], old))
        return forgotten

    def fill(self, rows: Iterable[tuple[str, str, str]]) -> list[Key]:
        """Load (unit, id, body) rows, oldest first; returns the keys that did not fit."""
        forgotten: list[Key] = []
        for unit, rid, body in rows:
            forgotten.extend(self.add((unit, rid), body))
        return forgotten
