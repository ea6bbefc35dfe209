"""The short version of `./run.sh soak`: kill -9 of the hub during bursts, retries with the
same ids, then the database read back. Nothing lost, doubled, or changed on retry."""

from __future__ import annotations

from bench.soak import soak


def test_hub_killed_during_bursts_loses_doubles_and_changes_nothing() -> None:
    result = soak(8, seed=7, say=lambda _: None)
    print(result.line())
    assert result.kills == 8 and len(result.acked) >= 8
    assert result.interrupted > 0, "no kill landed mid-burst"
    assert (result.lost, result.duplicated, result.changed_on_retry, result.phantom) == \
        (0, 0, 0, 0), result.line()
