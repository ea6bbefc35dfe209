"""The demo's generated dossiers read like a real office's: times the office was open,
a history of every stage, statuses that agree with the stage."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy import select

from appliance.store.core import Store
from appliance.store.generate import fill
from appliance.store.schema import dossiers, history

pytest_plugins = ["tests.pg"]

ORDER = ["received", "processing", "awaiting_supplement", "ready", "returned"]


def _open(store: Store, when: datetime) -> bool:
    local = store.dossiers.cal.local(when)
    cal = store.dossiers.cal
    return cal.is_working(local.date()) and cal.day_start <= local.time() < cal.day_end


def test_generated_dossiers_happen_in_office_hours_with_their_whole_history(
        store: Store) -> None:
    made = fill(store.dossiers, 1500, seed=5)
    assert made == 1500
    now = store.dossiers.clock.now()
    tz = store.dossiers.cal.tz
    with store.dossiers.engine.connect() as conn:
        rows = conn.execute(select(dossiers)).mappings().all()
        steps: dict[int, list[tuple[str | None, str, int]]] = {}
        for h in conn.execute(select(history).order_by(history.c.id)).mappings():
            steps.setdefault(h["dossier_id"], []).append((h["from_stage"], h["stage"], h["at"]))

    def when(ep: int) -> datetime:
        return datetime.fromtimestamp(ep, tz)  # type: ignore[arg-type]

    stages = {r["stage"] for r in rows}
    assert {"received", "processing", "ready", "returned"} <= stages
    for r in rows:
        for name in ("ready_at", "finished_at"):
            if r[name] is not None:
                assert _open(store, when(r[name])), (r["code"], name, when(r[name]))
                assert when(r[name]) <= now
        story = steps[r["id"]]
        # a chain of stages from "received" to the dossier's own, each from the one before
        assert story[0][:2] == (None, "received") and story[-1][1] == r["stage"]
        for (_, stage, at), (came_from, _, later) in itertools.pairwise(story):
            assert came_from == stage and at <= later
        for _, stage, at in story[1:]:
            assert _open(store, when(at)), (r["code"], stage, when(at))
        if r["stage"] in ("ready", "returned"):
            assert [s for _, s, _ in story if s == "ready"] and r["ready_at"] is not None
            assert "processing" in [s for _, s, _ in story]
        if r["stage"] == "returned":
            assert r["finished_at"] >= r["ready_at"]
        if r["stage"] == "ready":
            assert r["finished_at"] is None and r["pickup_counter"]
    multi = sum(len(steps[r["id"]]) > 1 for r in rows)
    assert multi > len(rows) * 0.8  # most dossiers went further than the reception desk


def test_generated_statuses_agree_with_the_stage(store: Store) -> None:
    fill(store.dossiers, 800, seed=6)
    now = store.dossiers.clock.now()
    with store.dossiers.engine.connect() as conn:
        rows = conn.execute(select(dossiers.c.code, dossiers.c.secret, dossiers.c.stage)
                            ).all()
    seen: dict[str, set[str]] = {}
    for code, secret, stage in rows:
        d = store.dossiers.lookup(code, secret)
        assert d is not None
        seen.setdefault(stage, set()).add(str(d["timing"]))
        if stage in ("ready", "returned"):
            assert d["timing"] in ("early", "on_time", "late"), (code, d)
        elif stage in ("received", "processing", "awaiting_supplement"):
            due = datetime.fromisoformat(d["due_at"])
            assert d["timing"] == ("overdue" if now > due else "not_yet_due"), (code, d)
        # what the kiosk shows as the history is the dossier's own story, oldest first
        hist = [h["stage"] for h in d["history"]]
        assert hist[0] == "received" and hist[-1] == stage
        assert all(datetime.fromisoformat(a["at"]) <= datetime.fromisoformat(b["at"])
                   for a, b in itertools.pairwise(d["history"]))
    assert "not_yet_due" in seen.get("processing", set())
