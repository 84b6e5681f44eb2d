"""The rolling re-check (sync/recheck.py): every call in the window is looked at again
within a day, whatever the syncs' rhythm; a sync's share stays near a pass / 96; the
list of emitted calls stays small in the state."""

from __future__ import annotations

import json
import math
import random

import pytest

from source_aircall_salescaling.sync.recheck import (
    DAY_SECONDS,
    RecheckCursor,
    lookups_allowed,
    pack_emitted,
    plan_recheck,
    turn_due,
    unpack_emitted,
)

WINDOW = 14 * DAY_SECONDS
OVERLAP = 3600
START = 1_800_000_000


def sweep(every: int, days: int, calls_a_day: int = 0) -> tuple[dict[int, list[int]], list[int]]:
    """Syncs every `every` seconds for `days`: when each call (one a minute, by start) was
    re-checked, and the calls (of `calls_a_day`, uniformly) each sync listed."""
    cursor = None
    checked: dict[int, list[int]] = {}
    listed_per_sync: list[int] = []
    previous = None
    starts = list(range(START - WINDOW, START + days * DAY_SECONDS, 60))
    for now in range(START, START + days * DAY_SECONDS, every):
        edge = now - OVERLAP
        plan = plan_recheck(cursor, now, previous, now - WINDOW, edge, starts)
        for s in starts:
            if plan.low < s <= plan.high:
                checked.setdefault(s, []).append(now)
        listed_per_sync.append(
            round((plan.high - plan.low) * calls_a_day / DAY_SECONDS) if plan.listing else 0
        )
        cursor, previous = plan.after, now
    return checked, listed_per_sync


@pytest.mark.parametrize("every", [900, 3600, 4 * 3600 + 7])
def test_every_call_in_the_window_is_checked_again_within_a_day(every: int) -> None:
    checked, _ = sweep(every, days=4)
    end = START + 4 * DAY_SECONDS
    for start, times in checked.items():
        # From when it left the re-listed edge to when it leaves the window (or the end).
        since = max(start + OVERLAP, START)
        until = min(start + WINDOW, end - every)
        visits = [since, *(t for t in times if since <= t <= until), until]
        gaps = [b - a for a, b in zip(visits, visits[1:], strict=False)]
        assert max(gaps) <= DAY_SECONDS + 2 * every, (start, every, gaps)


def test_a_sync_lists_about_one_ninety_sixth_of_a_pass_at_10000_calls_a_day() -> None:
    _, listed = sweep(900, days=3, calls_a_day=10_000)
    pages = [math.ceil(n / 50) for n in listed[96:]]  # after the first day
    window_pages = math.ceil(10_000 * 14 / 50)
    assert max(pages) <= math.ceil(window_pages / 96) + 1


def test_the_cursor_reads_back_and_anything_else_starts_a_new_pass() -> None:
    cursor = RecheckCursor(START, START - 10, START - 500, 3)
    assert RecheckCursor.from_state(cursor.to_state()) == cursor
    assert RecheckCursor.from_state("garbage") is None
    assert RecheckCursor.from_state(None) is None


def test_nothing_is_listed_where_no_emitted_call_started() -> None:
    cursor = RecheckCursor(START, START - OVERLAP, START - OVERLAP, 0)
    plan = plan_recheck(cursor, START + 900, START, START - WINDOW, START, [START - 9 * DAY_SECONDS])
    assert plan.listing is None and plan.low < plan.high


def test_waiting_calls_take_turns_of_a_quarter() -> None:
    ids = range(2_100_000_000, 2_100_000_040)
    for call_id in ids:
        assert sum(turn_due(call_id, turn) for turn in range(4)) == 1
    assert lookups_allowed(30, 40) == 30 and lookups_allowed(30, 400) == 100


def test_the_emitted_calls_of_ten_thousand_calls_a_day_stay_small() -> None:
    """14 days of 10,000 imported calls a day (Aircall ids, every call a Salescaling
    user's: the worst case), in each of the 7 streams that keep them."""
    rng = random.Random(7)
    emitted: dict[int, int] = {}
    call_id, started = 2_100_000_000, START - WINDOW
    for _ in range(140_000):
        call_id += rng.randint(1, 40)
        started += rng.randint(0, 17)
        emitted[call_id] = started
    packed = pack_emitted(emitted)
    assert unpack_emitted(packed) == emitted
    per_stream = len(json.dumps(packed))
    print(f"emitted calls of one stream, 140,000 calls: {per_stream / 1024:.0f} KiB")
    assert per_stream < 512 * 1024
