"""The stage machine: allowed moves only, the clock stops while awaiting supplement."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.clock import VN_TZ
from appliance.store.calendar import load_calendar
from appliance.store.stages import ALLOWED, STAGES, TERMINAL, Progress, StageError, move

CAL = load_calendar()
START = datetime(2026, 11, 30, 9, tzinfo=VN_TZ)


def fresh() -> Progress:
    return Progress(stage="received", due_at=CAL.due_at(START, 5))


moves = st.lists(st.tuples(st.sampled_from([*STAGES, "archived"]),
                           st.integers(min_value=60, max_value=5 * 86400)), max_size=25)


@settings(max_examples=300, deadline=None)
@given(moves)
def test_random_walks_keep_the_invariants(steps: list[tuple[str, int]]) -> None:
    p = fresh()
    at = START
    for target, gap in steps:
        at += timedelta(seconds=gap)
        before = p
        try:
            p = move(p, target, at, CAL)
        except StageError as exc:
            assert target not in ALLOWED[before.stage]
            assert exc.code in ("conflict", "bad_request")
            assert p is before
            continue
        assert target in ALLOWED[before.stage]
        assert p.stage == target
        # the due date only ever moves later, and only when a pause ends
        assert p.due_at >= before.due_at
        if before.stage != "awaiting_supplement":
            assert p.due_at == before.due_at
        assert (p.paused_since is not None) == (p.stage == "awaiting_supplement")
        if p.stage in TERMINAL:
            assert p.finished_at == at
        if p.stage in ("ready", "returned"):
            assert p.ready_at is not None and p.ready_at <= at


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(TERMINAL)), st.sampled_from(STAGES))
def test_closed_dossiers_never_move(end: str, target: str) -> None:
    p = Progress(stage=end, due_at=START)
    with pytest.raises(StageError) as err:
        move(p, target, START, CAL)
    assert "closed" in str(err.value)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=30 * 86400))
def test_pause_adds_exactly_its_counted_time(pause_s: int) -> None:
    p = move(fresh(), "processing", START, CAL)
    p = move(p, "awaiting_supplement", START + timedelta(hours=1), CAL)
    resumed_at = START + timedelta(hours=1, seconds=pause_s)
    p2 = move(p, "processing", resumed_at, CAL)
    counted = CAL.working_seconds(START + timedelta(hours=1), resumed_at)
    assert CAL.working_seconds(p.due_at, p2.due_at) == pytest.approx(counted, abs=1)


def test_the_happy_path_and_a_clear_refusal() -> None:
    p = fresh()
    for stage in ("processing", "awaiting_supplement", "processing", "ready", "returned"):
        p = move(p, stage, START + timedelta(days=1), CAL)
    with pytest.raises(StageError, match="from received to returned"):
        move(fresh(), "returned", START, CAL)
    with pytest.raises(StageError, match="unknown stage 'archived'"):
        move(fresh(), "archived", START, CAL)
