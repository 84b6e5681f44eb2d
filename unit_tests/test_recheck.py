"""The rolling re-check (sync/recheck.py): every call in the window is looked at again
within a day, whatever the syncs' rhythm; a sync's share stays near a pass / 96; the
list of emitted calls stays small in the state."""

from __future__ import annotations

import itertools
import json
import logging
import math
import random
from pathlib import Path

import pytest

from source_aircall_salescaling.config import parse_config
from source_aircall_salescaling.sync.context import SyncContext, SyncRequest
from source_aircall_salescaling.sync.emitted import pack_emitted, to_the_minute, unpack_emitted
from source_aircall_salescaling.sync.recheck import (
    DAY_SECONDS,
    EMITTED_KEY,
    RecheckCursor,
    lookups_allowed,
    plan_recheck,
    turn_due,
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
        gaps = [b - a for a, b in itertools.pairwise(visits)]
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
    plan = plan_recheck(
        cursor, START + 900, START, START - WINDOW, START, [START - 9 * DAY_SECONDS]
    )
    assert plan.listing is None and plan.low < plan.high


def test_waiting_calls_take_turns_of_a_quarter() -> None:
    ids = range(2_100_000_000, 2_100_000_040)
    for call_id in ids:
        assert sum(turn_due(call_id, turn) for turn in range(4)) == 1
    assert lookups_allowed(30, 40) == 30 and lookups_allowed(30, 400) == 100


def test_the_emitted_calls_read_back_exact_or_to_the_minute() -> None:
    emitted = {2_100_000_007: START + 1, 2_100_000_003: START + 59, 2_100_000_050: START - 61}
    assert unpack_emitted(pack_emitted(emitted, exact=True)) == (emitted, True)
    rounded = {k: to_the_minute(v) for k, v in emitted.items()}
    assert unpack_emitted(pack_emitted(emitted, exact=False)) == (rounded, False)
    assert unpack_emitted(pack_emitted({}, exact=True)) == ({}, True)
    with pytest.raises(ValueError):
        unpack_emitted("x" + "0" * 10)


def test_a_start_kept_to_the_minute_falls_in_the_slice_of_its_real_start() -> None:
    for started in range(START - 180, START + 180):
        low, high = START - 120, START
        assert (low < started <= high) == (low < to_the_minute(started) <= high)


def test_the_emitted_calls_of_ten_thousand_calls_a_day_stay_small() -> None:
    """14 days of 10,000 calls a day, 30% of them imported (a Salescaling user's, with a
    recording), in the 8 streams that keep them: one exact list, seven to the minute."""
    rng = random.Random(7)
    emitted: dict[int, int] = {}
    call_id, started = 2_100_000_000, START - WINDOW
    for _ in range(140_000):
        call_id += 1
        started += rng.randint(0, 17)
        if rng.random() < 0.3:
            emitted[call_id] = started
    exact, minutes = pack_emitted(emitted, exact=True), pack_emitted(emitted, exact=False)
    assert unpack_emitted(exact) == (emitted, True)
    total = len(json.dumps(exact)) + 7 * len(json.dumps(minutes))
    print(
        f"{len(emitted):,} calls: exact {len(exact) / 1024:.0f} KiB, to the minute "
        f"{len(minutes) / 1024:.0f} KiB, 8 streams {total / 1024:.0f} KiB"
    )
    assert total < 400 * 1024


def test_the_exact_starts_of_a_large_deletion_are_read_from_the_saved_lists_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each deleted call is reported with its exact start: the saved lists are unpacked
    and gathered once per sync, not once per deleted call."""
    exact = {call_id: START + call_id for call_id in range(1, 2_001)}
    states = {
        "recordings": {EMITTED_KEY: pack_emitted(exact, exact=True)},
        "import_decisions": {EMITTED_KEY: pack_emitted({5_000: START + 7}, exact=True)},
        "calls": {EMITTED_KEY: pack_emitted(exact, exact=False)},
    }
    request = SyncRequest(dict.fromkeys(states, True), states)
    config = parse_config(
        {"api_id": "id", "api_token": "token", "salescaling_user_emails": ["ana@example.com"]},
        environ={"AIRCALL_API_URL": "https://api.aircall.io"},
    )
    context = SyncContext(config, logging.getLogger("test_recheck"), request, tmp_path)
    reads: list[str] = []
    emitted_by = context.emitted_by

    def counted(stream: str) -> tuple[dict[int, int], bool]:
        reads.append(stream)
        return emitted_by(stream)

    monkeypatch.setattr(context, "emitted_by", counted)
    starts = [context.exact_start(call_id) for call_id in [*exact, 5_000, 9_999]]

    assert starts == [*exact.values(), START + 7, None]
    assert len(reads) <= len(states)
