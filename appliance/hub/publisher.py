"""The hub's retained queue and counter state, coalesced and rate-limited under load.

Events go out one per change, at once, in ``seq`` order (the hub does that itself). The
retained pictures only let a late or lost listener catch up, so a burst of changes needs
one fresh picture, not one per change. Each committed batch marks what changed; the
picture goes out

- at once when the hub is idle (no request waiting behind the batch): a unit that got a
  reply then already finds the retained state up to date, as before;
- under load (requests waiting), only when a token is free: a token bucket of ``burst``
  tokens refilled at ``rate_per_s`` keeps it to at most ``rate_per_s`` a second, and the
  pending picture goes out as soon as a token is free or the hub goes idle.

A pending picture is never dropped, and never built from uncommitted state: the hub calls
:meth:`RetainedPublisher.flush` only between batches or right after a commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from appliance.bus import Bus
from appliance.clock import Clock
from appliance.core.engine import QueueEngine
from appliance.core.snapshot import counter_state, queue_state

RATE_PER_S = 10.0
BURST = 2


class RetainedPublisher:
    def __init__(self, bus: Bus, engine: Callable[[], QueueEngine], clock: Clock, *,
                 rate_per_s: float = RATE_PER_S, burst: int = BURST,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self._bus = bus
        self._engine = engine  # a getter: the hub replaces its engine after a reload
        self._clock = clock
        self._rate = rate_per_s
        self._burst = float(burst)
        self._mono = monotonic
        self._tokens = float(burst)
        self._filled_at = monotonic()
        self._queue_dirty = False
        self._counters_dirty: set[str] = set()
        self.published = 0  # pictures sent (read by the tests and the benchmark)

    @property
    def pending(self) -> bool:
        return self._queue_dirty or bool(self._counters_dirty)

    def changed(self, counters: Iterable[str] = ()) -> None:
        """The queue changed in a committed batch (and these counters with it)."""
        self._queue_dirty = True
        self._counters_dirty.update(counters)

    def flush(self, *, idle: bool) -> bool:
        """Publish what is pending if the hub is ``idle`` or a token is free; True if it
        did. The engine's state must be the committed one."""
        if not self.pending:
            return False
        self._refill()
        if self._tokens < 1.0 and not idle:
            return False
        self._tokens = max(0.0, self._tokens - 1.0)
        self._send(qos=0)
        return True

    def publish_all(self) -> None:
        """Every retained picture now, at QoS 1, token or not (on every (re)connect, so a
        broker that lost its retained store is refilled)."""
        self._counters_dirty.update(self._engine().state.counters)
        self._queue_dirty = True
        self._send(qos=1)

    def _refill(self) -> None:
        now = self._mono()
        self._tokens = min(self._burst, self._tokens + (now - self._filled_at) * self._rate)
        self._filled_at = now

    def _send(self, qos: int) -> None:
        # Changes go at QoS 0: each retained message replaces the last, and all of them
        # go again at QoS 1 whenever the hub reconnects, so none stays lost.
        engine = self._engine()
        topics = self._bus.topics
        if self._queue_dirty:
            self._bus.publish(topics.queue_state, queue_state(engine, self._clock.now()),
                              retain=True, qos=qos)
        for cid in sorted(self._counters_dirty):
            if cid in engine.state.counters:
                self._bus.publish(topics.counter_state(cid), counter_state(engine, cid),
                                  retain=True, qos=qos)
        self._queue_dirty = False
        self._counters_dirty.clear()
        self.published += 1
