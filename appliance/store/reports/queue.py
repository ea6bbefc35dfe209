"""Queue figures from the hub's day records: pure functions of aggregate rows (counted by
the database, see ``queue_sql``), the waits of the called tickets and the counter events.

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
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

Row = Mapping[str, Any]
RATINGS = ("very_satisfied", "satisfied", "unsatisfied")
RATING_LABELS = {"very_satisfied": "Rất hài lòng", "satisfied": "Hài lòng",
                 "unsatisfied": "Không hài lòng"}
DEFAULT_TARGET_S = 15 * 60
WAIT_BUCKETS_MIN = (0, 5, 10, 15, 20, 30, 45, 60)  # the last bucket is "60 min and more"
GROUPS = ("service", "counter", "officer")


def counted_percentile(counts: Counter[int], share: float) -> float | None:
    """Nearest-rank percentile (``share`` in 0..1) of the values ``counts`` holds (value →
    how many times); None for none."""
    n = counts.total()
    if not n:
        return None
    rank, seen = max(1, math.ceil(share * n)), 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the ranks add up to n")


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class QueueFigures:
    """One row of a queue table: an aggregate row (``AGGREGATES``) and the group's waits."""

    key: str = ""
    issued: int = 0
    served: int = 0
    no_show: int = 0
    expired: int = 0
    wait_sum: float = 0.0
    service_sum: float = 0.0
    service_n: int = 0
    within: int = 0  # served within the report's target
    busy_s: float = 0.0  # calling and serving, at a counter
    # the group's waits: whole seconds → how many tickets waited exactly that long (exact,
    # and a province's 660,000 waits fold to a few thousand keys counted in C, no sort)
    wait_counts: Counter[int] = field(default_factory=Counter, repr=False)
    ratings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RATINGS, 0))
    open_s: float = 0.0

    @property
    def waits_s(self) -> list[float]:
        """Every wait, sorted."""
        return sorted(self.wait_counts.elements())

    @classmethod
    def of(cls, row: Row, waits: Counter[int]) -> QueueFigures:
        f = cls(key=row["key"] or "", issued=int(row["issued"]), served=int(row["served"]),
                no_show=int(row["no_show"]), expired=int(row["expired"]),
                wait_sum=float(row["wait_sum"] or 0), service_sum=float(row["service_sum"] or 0),
                service_n=int(row["service_n"]), within=int(row["within"]),
                busy_s=float(row["busy"] or 0), wait_counts=waits)
        for r in RATINGS:
            f.ratings[r] = int(row[r])
        return f

    def merge(self, other: QueueFigures) -> None:
        for name in ("issued", "served", "no_show", "expired", "wait_sum", "service_sum",
                     "service_n", "within"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for r in RATINGS:
            self.ratings[r] += other.ratings[r]

    @property
    def avg_wait_s(self) -> float | None:
        n = self.wait_counts.total()
        return self.wait_sum / n if n else None

    @property
    def p90_wait_s(self) -> float | None:
        return counted_percentile(self.wait_counts, 0.9)

    @property
    def avg_service_s(self) -> float | None:
        return self.service_sum / self.service_n if self.service_n else None

    @property
    def service_level(self) -> float | None:
        return self.within / self.served if self.served else None

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
    # (priority category, issued, served): the tickets issued with a category
    categories: list[tuple[str, int, int]] = field(default_factory=list)


_AT_SEQ = itemgetter("at", "seq")  # in C: a province's month is 26,000 events


def _in_order(events: Iterable[Row]) -> list[Row]:
    return sorted(events, key=_AT_SEQ)


def days_left_open(events: Iterable[Row]) -> set[str]:
    """The days on which a counter was open at the day's turnover or is still open: the
    only days whose last finishes ``_spans`` reads."""
    opened: set[tuple[str, str]] = set()
    out: set[str] = set()
    for e in _in_order(events):
        if e["type"] == "counter.opened" and e["counter"]:
            opened.add((e["day"], e["counter"]))
        elif e["type"] == "counter.closed" and e["counter"]:
            opened.discard((e["day"], e["counter"]))
        elif e["type"] == "day.reset" and any(k[0] == e["day"] for k in opened):
            out.add(e["day"])
            opened = {k for k in opened if k[0] != e["day"]}
    return out | {day for day, _ in opened}


def _spans(events: Iterable[Row], last_finish: Mapping[tuple[str, str], int]
           ) -> dict[tuple[str, str], float]:
    """Seconds each (day, counter) was open."""
    open_at: dict[tuple[str, str], int] = {}
    total: dict[tuple[str, str], float] = defaultdict(float)
    for e in _in_order(events):
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


SUMMED = ("issued", "served", "no_show", "expired", "wait_sum", "service_sum", "service_n",
          "within", "busy", *RATINGS)


Combo = tuple[Any, Any, Any]  # (service, counter, officer)


@dataclass
class Waits:
    """The waits of the called tickets per (service, counter, officer), and how many of the
    served ones were within the report's target."""

    lists: dict[Combo, list[int]]
    within: dict[Combo, int]

    @classmethod
    def of(cls, rows: Iterable[tuple[Any, ...]], target_s: float) -> Waits:
        """From (service, counter, officer, waits, served waits) rows of the day summaries,
        the waits "," separated (``queue_summary``): split, converted and compared in C, so a
        year's 70,000 waits cost some 6,000 Python steps."""
        lists: dict[Combo, list[int]] = defaultdict(list)
        served: dict[Combo, list[int]] = defaultdict(list)
        for service, counter, officer, waits, served_waits in rows:
            if waits:
                lists[(service, counter, officer)].extend(map(int, waits.split(",")))
            if served_waits:
                served[(service, counter, officer)].extend(map(int, served_waits.split(",")))
        limit = float(target_s)
        within = {k: sum(map(limit.__ge__, v)) for k, v in served.items()}
        return cls(dict(lists), within)

    def of_group(self, i: int) -> dict[Any, Counter[int]]:
        """The waits counted per key of GROUPS[i] (service: "" for none; others: named
        only)."""
        parts: dict[Any, list[int]] = defaultdict(list)
        for combo, values in self.lists.items():
            if combo[i] or i == 0:
                parts[combo[i] or ""].extend(values)
        return {k: Counter(v) for k, v in parts.items()}  # counted in C


def regroup(combos: Iterable[Row], waits: Waits) -> dict[str, list[dict[str, Any]]]:
    """Aggregate rows per (service, counter, officer) summed per service, counter and
    officer (``key``); ``within`` (served within the target) from ``waits``, since the
    target is chosen per report."""
    groups: dict[str, dict[Any, dict[str, Any]]] = {g: {} for g in GROUPS}
    for row in combos:
        n_within = waits.within.get((row["service"], row["counter"], row["officer"]), 0)
        for g in GROUPS:
            acc = groups[g].setdefault(row[g], {"key": row[g], **dict.fromkeys(SUMMED, 0)})
            for name in SUMMED:
                acc[name] += n_within if name == "within" else (row[name] or 0)
    return {g: list(v.values()) for g, v in groups.items()}


def queue_report(groups: Mapping[str, Iterable[Row]], waits: Waits,
                 hours: Iterable[tuple[int, int]], last_finish: Iterable[tuple[str, str, int]],
                 counter_events: Iterable[Row] = (), *,
                 target_s: float = DEFAULT_TARGET_S,
                 categories: Iterable[tuple[str, int, int]] = ()) -> QueueReport:
    """The figures from aggregate rows: ``groups`` maps "service"/"counter"/"officer" to
    rows of ``AGGREGATES`` (``key`` the group); ``waits`` those of every called ticket;
    ``hours`` (hour, tickets issued); ``last_finish`` (day, counter, last finish) for
    counters never closed; ``categories`` (priority category, issued, served)."""
    by = {g: waits.of_group(i) for i, g in enumerate(GROUPS)}
    everyone = Counter(itertools.chain.from_iterable(waits.lists.values()))
    out: dict[str, list[QueueFigures]] = {}
    for g in GROUPS:
        rows = [r for r in groups.get(g, ()) if g == "service" or r["key"]]
        out[g] = sorted((QueueFigures.of(r, by[g].get(r["key"] or "", Counter()))
                         for r in rows),
                        key=lambda f: f.key)
    total = QueueFigures(wait_counts=everyone)
    for f in out["service"]:  # every ticket has a service: the total is their sum
        total.merge(f)
    finish = {(d, c): int(t) for d, c, t in last_finish}
    open_by_counter: dict[str, float] = defaultdict(float)
    for (_, c), secs in _spans(counter_events, finish).items():
        open_by_counter[c] += secs
    for f in out["counter"]:
        f.open_s = open_by_counter.get(f.key, 0.0)
    total.open_s = sum(open_by_counter.values())
    # the office's idle time: of the counters whose openings are known
    total.busy_s = sum(f.busy_s for f in out["counter"] if f.key in open_by_counter)
    arrivals = dict.fromkeys(range(24), 0)
    for hour, n in hours:
        arrivals[int(hour)] += int(n)
    return QueueReport(target_s=target_s, total=total, groups=out, arrivals_by_hour=arrivals,
                       wait_buckets=counted_buckets(total.wait_counts),
                       categories=sorted(categories))


def counted_buckets(counts: Counter[int]) -> list[tuple[str, int]]:
    """Counts per bucket of ``WAIT_BUCKETS_MIN`` of the waits ``counts`` holds (seconds →
    how many times)."""
    keys = sorted(counts)
    n = [0]
    for k in keys:
        n.append(n[-1] + counts[k])  # n[i]: waits below keys[i]
    edges = WAIT_BUCKETS_MIN
    cuts = [n[bisect_left(keys, lo * 60)] for lo in edges[1:]]
    bounds = [0, *cuts, n[-1]]
    counts_ = [bounds[i + 1] - bounds[i] for i in range(len(edges))]
    labels = [f"{lo}–{hi}" for lo, hi in itertools.pairwise(edges)] + [f"≥{edges[-1]}"]
    return list(zip(labels, counts_, strict=True))


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
     lambda f, t: share(f.service_level)),
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
