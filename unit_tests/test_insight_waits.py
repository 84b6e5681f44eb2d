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
