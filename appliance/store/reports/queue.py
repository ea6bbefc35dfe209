"""Queue figures from the hub's day records: pure functions of ticket and counter rows.

Definitions (docs/reports.md): issued = every ticket but voided ones; wait = first call −
issue; service time = finish − (last) call of a served ticket; service level = share of
served tickets whose wait was within the target; the 90th percentile is the nearest rank
(the smallest wait that at least 90 % of waits do not exceed). A counter is open from its
``counter.opened`` to its ``counter.closed`` (or the day's turnover, or else its last
finished ticket); its idle time is the time open minus the time spent calling and serving.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Row = Mapping[str, Any]
RATINGS = ("very_satisfied", "satisfied", "unsatisfied")
RATING_LABELS = {"very_satisfied": "Rất hài lòng", "satisfied": "Hài lòng",
                 "unsatisfied": "Không hài lòng"}
DEFAULT_TARGET_S = 15 * 60
WAIT_BUCKETS_MIN = (0, 5, 10, 15, 20, 30, 45, 60)  # the last bucket is "60 min and more"
GROUPS = ("service", "counter", "officer")


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class QueueFigures:
    key: str = ""
    issued: int = 0
    served: int = 0
    no_show: int = 0
    expired: int = 0
    waits_s: list[float] = field(default_factory=list, repr=False)
    service_s: list[float] = field(default_factory=list, repr=False)
    served_waits_s: list[float] = field(default_factory=list, repr=False)
    ratings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RATINGS, 0))
    open_s: float = 0.0
    busy_s: float = 0.0

    def add(self, t: Row) -> None:
        self.issued += 1
        state = t["state"]
        wait = (t["first_called_at"] - t["issued_at"]) if t["first_called_at"] else None
        if wait is not None:
            self.waits_s.append(wait)
        if state == "finished":
            self.served += 1
            if wait is not None:
                self.served_waits_s.append(wait)
            if t["called_at"] is not None and t["finished_at"] is not None:
                self.service_s.append(t["finished_at"] - t["called_at"])
        elif state == "no_show":
            self.no_show += 1
        elif state == "expired":
            self.expired += 1
        if t["rating"] in self.ratings:
            self.ratings[t["rating"]] += 1

    @property
    def avg_wait_s(self) -> float | None:
        return _mean(self.waits_s)

    @property
    def p90_wait_s(self) -> float | None:
        return percentile(self.waits_s, 0.9)

    @property
    def avg_service_s(self) -> float | None:
        return _mean(self.service_s)

    def service_level(self, target_s: float) -> float | None:
        if not self.served:
            return None
        return sum(1 for w in self.served_waits_s if w <= target_s) / self.served

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def rated_share(self) -> float | None:
        return self.rated / self.served if self.served else None

    @property
    def satisfied_share(self) -> float | None:
        """Quyết định 766's satisfaction: (very) satisfied among the rated."""
        if not self.rated:
            return None
        return (self.ratings["very_satisfied"] + self.ratings["satisfied"]) / self.rated

    @property
    def idle_s(self) -> float | None:
        return max(0.0, self.open_s - self.busy_s) if self.open_s else None


@dataclass
class QueueReport:
    target_s: float
    total: QueueFigures
    groups: dict[str, list[QueueFigures]]  # "service" / "counter" / "officer" → rows
    arrivals_by_hour: dict[int, int]
    wait_buckets: list[tuple[str, int]]


def _spans(events: Iterable[Row], last_finish: Mapping[tuple[str, str], int]
           ) -> dict[tuple[str, str], float]:
    """Seconds each (day, counter) was open."""
    open_at: dict[tuple[str, str], int] = {}
    total: dict[tuple[str, str], float] = defaultdict(float)
    for e in sorted(events, key=lambda e: (e["at"], e["seq"])):
        if e["type"] == "counter.opened" and e["counter"]:
            open_at.setdefault((e["day"], e["counter"]), e["at"])
        elif e["type"] == "counter.closed" and e["counter"]:
            start = open_at.pop((e["day"], e["counter"]), None)
            if start is not None:
                total[(e["day"], e["counter"])] += e["at"] - start
        elif e["type"] == "day.reset":
            for key in [k for k in open_at if k[0] == e["day"]]:
                end = last_finish.get(key, e["at"])
                total[key] += max(0, end - open_at.pop(key))
    for key, start in open_at.items():  # still open (today), or never closed
        total[key] += max(0, last_finish.get(key, start) - start)
    return total


def queue_report(tickets: Iterable[Row], counter_events: Iterable[Row] = (), *,
                 target_s: float = DEFAULT_TARGET_S) -> QueueReport:
    total = QueueFigures(key="")
    groups: dict[str, dict[str, QueueFigures]] = {g: {} for g in GROUPS}
    hours: dict[int, int] = dict.fromkeys(range(24), 0)
    last_finish: dict[tuple[str, str], int] = {}
    busy: dict[str, float] = defaultdict(float)
    for t in tickets:
        if t["state"] == "voided":
            continue
        total.add(t)
        hours[t["issued_hour"]] += 1
        for g in GROUPS:
            key = t[g] or ""
            if g != "service" and not key:
                continue  # never called: no counter or officer to count it for
            groups[g].setdefault(key, QueueFigures(key=key)).add(t)
        c, end, called = t["counter"], t["finished_at"], t["called_at"]
        if c and end is not None and called is not None:
            busy[c] += end - called
            k = (t["day"], c)
            last_finish[k] = max(last_finish.get(k, 0), end)
    open_by_counter: dict[str, float] = defaultdict(float)
    for (_, c), secs in _spans(counter_events, last_finish).items():
        open_by_counter[c] += secs
    for c, f in groups["counter"].items():
        f.open_s, f.busy_s = open_by_counter.get(c, 0.0), busy.get(c, 0.0)
    total.open_s = sum(open_by_counter.values())
    # the office's idle time: of the counters whose openings are known
    total.busy_s = sum(busy.get(c, 0.0) for c in open_by_counter)
    return QueueReport(target_s=target_s, total=total,
                       groups={g: sorted(v.values(), key=lambda f: f.key)
                               for g, v in groups.items()},
                       arrivals_by_hour=hours, wait_buckets=wait_buckets(total.waits_s))


def wait_buckets(waits_s: list[float]) -> list[tuple[str, int]]:
    edges = WAIT_BUCKETS_MIN
    counts = [0] * len(edges)
    for w in waits_s:
        counts[max(0, bisect_right(edges, w / 60) - 1)] += 1
    labels = [f"{lo}–{hi}" for lo, hi in itertools.pairwise(edges)] + [f"≥{edges[-1]}"]
    return list(zip(labels, counts, strict=True))


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def share(x: float | None) -> float | None:
    return None if x is None else round(100 * x, 1)


Column = tuple[str, str, str, Callable[[QueueFigures, float], Any]]
# (key, Vietnamese heading, English heading, value) of the queue table and its exports;
# times in minutes, shares in per cent
QUEUE_COLUMNS: list[Column] = [
    ("issued", "Số phát", "Issued", lambda f, t: f.issued),
    ("served", "Đã phục vụ", "Served", lambda f, t: f.served),
    ("no_show", "Vắng mặt", "No-show", lambda f, t: f.no_show),
    ("expired", "Hết hạn", "Expired", lambda f, t: f.expired),
    ("avg_wait", "Chờ TB (phút)", "Avg wait (min)", lambda f, t: minutes(f.avg_wait_s)),
    ("p90_wait", "Chờ P90 (phút)", "P90 wait (min)", lambda f, t: minutes(f.p90_wait_s)),
    ("avg_service", "Phục vụ TB (phút)", "Avg service (min)",
     lambda f, t: minutes(f.avg_service_s)),
    ("service_level", "Đạt mức phục vụ (%)", "Service level (%)",
     lambda f, t: share(f.service_level(t))),
    ("idle", "Quầy rảnh (phút)", "Counter idle (min)", lambda f, t: minutes(f.idle_s)),
]
SATISFACTION_COLUMNS: list[Column] = [
    ("very_satisfied", "Rất hài lòng", "Very satisfied",
     lambda f, t: f.ratings["very_satisfied"]),
    ("satisfied", "Hài lòng", "Satisfied", lambda f, t: f.ratings["satisfied"]),
    ("unsatisfied", "Không hài lòng", "Unsatisfied", lambda f, t: f.ratings["unsatisfied"]),
    ("rated_share", "Tỷ lệ được đánh giá (%)", "Served and rated (%)",
     lambda f, t: share(f.rated_share)),
    ("satisfied_share", "Tỷ lệ hài lòng (%)", "Satisfaction rate (%)",
     lambda f, t: share(f.satisfied_share)),
]
