"""The calls waiting for an Aircall AI insight: when each is asked again, when it is
dropped, and the state that keeps them (sync/waiting.py)."""

from __future__ import annotations

import json
import random

from source_aircall_salescaling.sync.waiting import (
    MAX_WAITING,
    InsightWait,
    over_capacity,
    pack_waits,
    unpack_waits,
)

ENDED = 1_800_000_000
LOOKBACK = 180 * 60
MINUTE = 60


def a_wait(asked: int = 1) -> InsightWait:
    return InsightWait(started_at=ENDED - 300, ended=ENDED, asked=asked)


def test_packed_waits_read_back_the_same() -> None:
    rng = random.Random(3)
    waits = {
        2_100_000_000 + rng.randrange(10**7): InsightWait(
            s, s + rng.randrange(3600), rng.randrange(6)
        )
        for s in (ENDED - rng.randrange(86_400 * 2) for _ in range(500))
    }
    assert unpack_waits(pack_waits(waits)) == waits


def test_a_waiting_call_is_asked_again_at_the_next_checkpoint_only() -> None:
    wait = a_wait(asked=1)
    assert not wait.due(LOOKBACK, ENDED + 10 * MINUTE)
    assert wait.due(LOOKBACK, ENDED + 16 * MINUTE)
    assert not wait.after_ask(LOOKBACK, ENDED + 16 * MINUTE).due(LOOKBACK, ENDED + 31 * MINUTE)


def test_a_call_asked_at_every_checkpoint_is_over_after_the_lookback() -> None:
    wait, now, asks = a_wait(asked=1), ENDED, 1
    while not wait.over(LOOKBACK, now):
        now += 15 * MINUTE
        if wait.due(LOOKBACK, now):
            wait, asks = wait.after_ask(LOOKBACK, now), asks + 1
    assert asks == 5
    assert now >= ENDED + LOOKBACK


def test_a_call_that_missed_its_last_checkpoint_is_asked_once_after_the_deadline() -> None:
    wait = a_wait(asked=4)
    late = ENDED + LOOKBACK + 30 * MINUTE
    assert not wait.over(LOOKBACK, late) and wait.due(LOOKBACK, late)
    assert wait.after_ask(LOOKBACK, late).over(LOOKBACK, late)


def test_state_of_the_most_calls_that_may_wait_stays_under_64_kib() -> None:
    # 10,000 calls a day, ids spread like Aircall's (a counter shared by all companies).
    rng = random.Random(7)
    call_id, waits = 2_100_000_000, {}
    for n in range(MAX_WAITING):
        call_id += rng.randrange(1, 40_000)
        started = ENDED - 172_800 + n * 9
        waits[call_id] = InsightWait(
            started, started + rng.randrange(20, 3600), rng.randrange(1, 6)
        )
    state = json.dumps({"insights_waiting": pack_waits(waits)})
    assert len(state.encode()) < 64 * 1024


def test_over_capacity_drops_the_most_asked_calls_first() -> None:
    waits = {n: InsightWait(ENDED, ENDED + 60, 1) for n in range(MAX_WAITING)}
    waits[MAX_WAITING] = InsightWait(ENDED, ENDED + 60, 4)
    waits[MAX_WAITING + 1] = InsightWait(ENDED, ENDED + 60, 3)
    assert over_capacity(waits) == [MAX_WAITING, MAX_WAITING + 1]
    assert over_capacity({1: a_wait()}) == []


def test_a_state_of_the_version_before_reads_with_its_schedule_from_the_calls_end() -> None:
    waits = unpack_waits("yqab74:tpig7j:39:2")
    [wait] = waits.values()
    assert (wait.asked, wait.since, wait.follow) == (2, 0, False)
    assert wait.times(LOOKBACK)[0] == wait.ended


def test_an_insight_after_its_transcription_is_asked_on_each_of_the_next_three_syncs() -> None:
    found = ENDED + 40 * MINUTE
    wait = a_wait(asked=3).following(found).after_ask(LOOKBACK, found)
    for k in (1, 2, 3):
        now = found + k * 15 * MINUTE
        assert wait.due(LOOKBACK, now), k
        wait = wait.after_ask(LOOKBACK, now)
    assert not wait.due(LOOKBACK, found + 4 * 15 * MINUTE)
    assert wait.due(LOOKBACK, ENDED + LOOKBACK - 10 * MINUTE)  # the last, in the last 15


def test_a_transcription_missing_at_15_minutes_is_asked_next_at_1_h_15_not_at_1_h() -> None:
    wait = a_wait(asked=1).after_ask(LOOKBACK, ENDED + 15 * MINUTE)  # 404 at +15 min
    assert not wait.due(LOOKBACK, ENDED + 60 * MINUTE)
    assert wait.due(LOOKBACK, ENDED + 75 * MINUTE)
    wait = wait.after_ask(LOOKBACK, ENDED + 75 * MINUTE)
    assert wait.due(LOOKBACK, ENDED + 90 * MINUTE)  # the next sync too


def test_the_transcription_schedule_counts_from_the_first_ask_not_the_calls_end() -> None:
    first_ask = ENDED + 40 * MINUTE  # the recording came late: imported 40 minutes after
    wait = InsightWait(ENDED - 300, ENDED, asked=1, since=first_ask)
    assert wait.due(LOOKBACK, first_ask + 15 * MINUTE)


def test_a_sync_seconds_before_its_checkpoint_asks_and_spends_it() -> None:
    wait = a_wait(asked=1)  # asked when the call ended; the next checkpoint at +15 min
    early = ENDED + 15 * MINUTE - 5  # the next sync's clock, read 5 seconds "early"
    assert wait.due(LOOKBACK, early)
    asked = wait.after_ask(LOOKBACK, early)
    assert asked.asked == 2 and not asked.due(LOOKBACK, ENDED + 20 * MINUTE)
