"""Sending the counter's outbox to the hub: offline events as ``counter.sync`` batches,
ratings as ``rating.submit``, strictly in the order they were stored.

A row gets its request id before its first send and keeps it: a retry after a lost
reply repeats the same id, so the hub applies the batch once.
"""

from __future__ import annotations

import logging
from typing import Any

from appliance.bus import Bus
from appliance.counter.store import CounterStore, OutboxRow
from appliance.errors import MotcuaError, NotConnected, RequestTimeout
from appliance.i18n import tr

log = logging.getLogger(__name__)
MAX_EVENTS = 200
# Answers that will never change on retry: the row is done (and the answer logged).
FINAL_ERRORS = ("bad_request", "forbidden", "unknown_counter", "unknown_unit", "unknown_op")
FINAL_RATING_ERRORS = ("already_rated", "not_found", *FINAL_ERRORS)


class Offline(MotcuaError):
    """The hub did not answer (or the broker is unreachable)."""


class OutboxSender:
    def __init__(self, *, unit: str, counter: str, bus: Bus, store: CounterStore,
                 timeout_s: float, retries: int) -> None:
        self.unit = unit
        self.counter = counter
        self.bus = bus
        self.store = store
        self.timeout_s = timeout_s
        self.retries = retries
        self.last_counter: dict[str, Any] | None = None
        self.rejected: list[str] = []

    def flush(self) -> bool:
        """Send everything pending; True when the outbox is empty, False when the hub is
        not answering (nothing is lost: the rest waits for the next try)."""
        self.last_counter = None
        while True:
            rows = self.store.pending()
            if not rows:
                return True
            try:
                if rows[0].kind == "event":
                    self._send_events(rows)
                else:
                    self._send_rating(rows[0])
            except Offline as exc:
                log.info(tr("hàng gửi chờ: %s", "outbox waits: %s"), exc)
                return False

    def _batch(self, rows: list[OutboxRow]) -> tuple[list[OutboxRow], str]:
        first = rows[0]
        if first.req_id is not None:  # sent before: the same rows, the same id
            return [r for r in rows if r.req_id == first.req_id], first.req_id
        batch: list[OutboxRow] = []
        for r in rows:
            if r.kind != "event" or r.req_id is not None or len(batch) >= MAX_EVENTS:
                break
            batch.append(r)
        req_id = f"{self.unit}-sync-{batch[0].id}-{batch[-1].id}"
        self.store.freeze([r.id for r in batch], req_id)
        return batch, req_id

    def _send_events(self, rows: list[OutboxRow]) -> None:
        batch, req_id = self._batch(rows)
        officer = self.store.get("officer")
        body: dict[str, Any] = {"op": "counter.sync", "counter": self.counter,
                                "events": [r.body for r in batch]}
        if officer:
            body["officer"] = officer
        reply = self._request(body, req_id)
        ids = [r.id for r in batch]
        if reply.get("ok"):
            self.last_counter = reply.get("counter")
            skipped = reply.get("skipped") or []
            if skipped:
                log.warning(tr("hub bỏ qua các thao tác lúc mất kết nối: %s",
                               "hub skipped offline events: %s"), "; ".join(map(str, skipped)))
            self.store.done(ids, f"applied {reply.get('applied')}; skipped {len(skipped)}")
        else:
            err = reply.get("error") or {}
            code = str(err.get("code"))
            if code not in FINAL_ERRORS:  # e.g. "internal": the hub may take it later
                raise Offline(tr(f"lúc này hub chưa nhận các thao tác lúc mất kết nối ({code})",
                                 f"hub could not take the offline events now ({code})"))
            # Kept on the unit with the reason; sending it again would be refused again.
            log.error(tr("hub từ chối các thao tác lúc mất kết nối %s: %s",
                         "hub refused offline events %s: %s"), req_id, err)
            self.rejected.append(code)
            self.store.done(ids, f"refused: {code}: {err.get('message')}")

    def _send_rating(self, row: OutboxRow) -> None:
        req_id = row.req_id or f"{self.unit}-rating-{row.id}"
        if row.req_id is None:
            self.store.freeze([row.id], req_id)
        body = {"op": "rating.submit", "counter": self.counter, "number": row.body["number"],
                "rating": row.body["rating"]}
        if row.body.get("officer"):
            body["officer"] = row.body["officer"]
        reply = self._request(body, req_id)
        if reply.get("ok"):
            self.store.done([row.id], "rated")
            return
        code = str((reply.get("error") or {}).get("code"))
        if code in FINAL_RATING_ERRORS:
            log.warning(tr("hub từ chối đánh giá của số %s: %s",
                           "hub refused rating of %s: %s"), row.body["number"], code)
            self.store.done([row.id], f"refused: {code}")
            return
        raise Offline(tr(f"lúc này hub chưa nhận được đánh giá ({code})",
                         f"hub could not take the rating now ({code})"))

    def _request(self, body: dict[str, Any], req_id: str) -> dict[str, Any]:
        for _ in range(self.retries + 1):
            try:
                return self.bus.request("hub", body, timeout=self.timeout_s, req_id=req_id)
            except NotConnected as exc:
                raise Offline(str(exc)) from exc
            except RequestTimeout:
                continue
        raise Offline(tr(f"hub không trả lời {body['op']}", f"the hub did not answer {body['op']}"))
