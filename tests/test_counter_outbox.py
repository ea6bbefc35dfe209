"""The counter's outbox against a scripted hub over a real mosquitto: order, frozen request
ids, transient refusals kept, final refusals recorded, durability of the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from appliance.bus import Bus, Message
from appliance.contract import error_reply, ok_reply
from appliance.counter.outbox import OutboxSender
from appliance.counter.store import CounterStore


class ScriptedHub:
    """Answers hub requests from a list of (ok | error code); records what it got."""

    def __init__(self, bus: Bus, answers: list[str]) -> None:
        self.bus = bus
        self.answers = answers
        self.got: list[dict[str, Any]] = []
        bus.subscribe(bus.topics.req_filter("hub"), self._on)

    def _on(self, msg: Message) -> None:
        body = json.loads(msg.payload)
        self.got.append(body)
        answer = self.answers.pop(0) if self.answers else "ok"
        if answer == "ok":
            extra = {"applied": len(body.get("events", [])), "skipped": []}
            self.bus.reply(msg, {**ok_reply(body["id"]), **extra})
        elif answer != "silent":
            self.bus.reply(msg, error_reply(body["id"], answer, "scripted"))


def _store(tmp_path: Path) -> CounterStore:
    store = CounterStore(tmp_path / "counter.sqlite3")
    at = "2026-11-30T09:00:00+07:00"
    store.add("event", {"action": "call", "number": "A801", "at": at}, at)
    store.add("event", {"action": "finish", "number": "A801", "at": at}, at)
    assert store.rate_once("2026-11-30", "A801",
                           {"number": "A801", "rating": "satisfied", "officer": "7"}, at)
    assert not store.rate_once("2026-11-30", "A801",
                               {"number": "A801", "rating": "unsatisfied", "officer": "7"}, at)
    store.add("event", {"action": "call", "number": "A802", "at": at}, at)
    return store


def test_outbox_order_frozen_ids_and_refusals(tmp_path, make_bus) -> None:
    hub = ScriptedHub(make_bus("hub", role="hub"),
                      ["silent", "internal", "ok", "ok", "forbidden"])
    store = _store(tmp_path)
    sender = OutboxSender(unit="counter-1", counter="1", bus=make_bus("counter-1", "counter"),
                          store=store, timeout_s=0.3, retries=0)
    assert not sender.flush()  # no answer: nothing lost
    assert not sender.flush()  # "internal": may work later, kept
    assert store.backlog() == 4
    assert sender.flush()  # ok (events 1-2), ok (rating), forbidden (event 4)
    assert store.backlog() == 0
    ops = [(b["op"], b["id"]) for b in hub.got]
    # the first batch kept its id through the silence and the refusal
    assert ops[:3] == [("counter.sync", "counter-1-sync-1-2")] * 3
    assert hub.got[0]["events"] == [
        {"action": "call", "number": "A801", "at": "2026-11-30T09:00:00+07:00"},
        {"action": "finish", "number": "A801", "at": "2026-11-30T09:00:00+07:00"}]
    assert ops[3] == ("rating.submit", "counter-1-rating-3")
    assert hub.got[3]["officer"] == "7" and hub.got[3]["rating"] == "satisfied"
    assert ops[4] == ("counter.sync", "counter-1-sync-4-4")
    results = [r[3] for r in store.history()]
    assert results[:3] == ["applied 2; skipped 0", "applied 2; skipped 0", "rated"]
    assert results[3] is not None and results[3].startswith("refused: forbidden")
    assert sender.rejected == ["forbidden"]
    store.close()
    again = CounterStore(tmp_path / "counter.sqlite3")  # everything survived a restart
    assert [r[2] for r in again.history()] == [1, 1, 1, 1]
    assert again.db_mode() == ("wal", 2)
    again.close()
