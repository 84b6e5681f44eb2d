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
from typing import Any

import pytest

from source_aircall_salescaling.ai_records import INSIGHT_STREAM_NAMES
from source_aircall_salescaling.config import parse_config
from source_aircall_salescaling.sync.context import SyncContext, SyncRequest
from source_aircall_salescaling.sync.emitted import (
    FULL_LISTS,
    RELATIVE,
    pack_emitted,
    pack_relative,
    to_the_minute,
    unpack_emitted,
    unpack_relative,
)
from source_aircall_salescaling.sync.recheck import (
    DAY_SECONDS,
    EMITTED_KEY,
    REMOVED_KEY,
    RecheckCursor,
    lookups_allowed,
    plan_recheck,
    turn_due,
)

WINDOW = 14 * DAY_SECONDS
OVERLAP = 3600
START = 1_800_000_000


def context_with(states: dict[str, dict[str, Any]], tmp_path: Path) -> SyncContext:
    """A sync's context over these old states, every stream named in them selected."""
    request = SyncRequest(dict.fromkeys(states, True), states)
    config = parse_config(
        {"api_id": "id", "api_token": "token", "salescaling_user_emails": ["ana@example.com"]},
        environ={"AIRCALL_API_URL": "https://api.aircall.io"},
    )
    return SyncContext(config, logging.getLogger("test_recheck"), request, tmp_path)


def ten_thousand_a_day(seed: int = 7) -> tuple[dict[int, int], dict[int, int]]:
    """14 days of 10,000 calls a day: the done calls of Salescaling users with a recording
    (`calls`' list, 32%), and those imported (30%), id -> started_at."""
    rng = random.Random(seed)
    listed: dict[int, int] = {}
    imported: dict[int, int] = {}
    call_id, started = 2_100_000_000, START - WINDOW
    for _ in range(140_000):
        call_id += rng.randint(1, 9)
        started += rng.randint(0, 17)
        draw = rng.random()
        if draw < 0.32:
            listed[call_id] = started
        if draw < 0.3:
            imported[call_id] = started
    return listed, imported


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
    context = context_with(states, tmp_path)
    reads: list[str] = []
    emitted_by = context.emitted.emitted_by

    def counted(stream: str) -> tuple[dict[int, int], bool]:
        reads.append(stream)
        return emitted_by(stream)

    monkeypatch.setattr(context.emitted, "emitted_by", counted)
    starts = [context.emitted.exact_start(call_id) for call_id in [*exact, 5_000, 9_999]]

    assert starts == [*exact.values(), START + 7, None]
    assert len(reads) <= len(states)


def test_an_ai_streams_list_reads_back_exactly_beside_the_list_it_was_written_against() -> None:
    listed, imported = ten_thousand_a_day()
    base = pack_emitted(listed, exact=False)
    some = dict(itertools.islice(imported.items(), 0, None, 3))
    some[2_000_000_001] = START - 3_000  # not in the base: kept beside it
    relative = unpack_relative(pack_relative(some, "calls", base, listed))
    assert relative.written_beside(base)
    assert relative.exact(base) == {k: to_the_minute(v) for k, v in some.items()}


def test_beside_another_version_of_its_base_it_reads_every_call_the_base_had_or_removed() -> None:
    """A sync stopped after `calls` saved (and reported a removal) but before the Aircall
    AI stream saved: the stream's older list is read as a superset, the removed call in it."""
    listed, imported = ten_thousand_a_day()
    before = pack_emitted(listed, exact=False)
    emitted = dict(itertools.islice(imported.items(), 0, None, 2))
    relative = unpack_relative(pack_relative(emitted, "calls", before, listed))
    gone = next(iter(emitted))
    newer_call = max(listed) + 5
    kept = {k: v for k, v in listed.items() if k != gone}
    after = pack_emitted({**kept, newer_call: START}, exact=False)
    assert not relative.written_beside(after)
    calls = relative.superset({**unpack_emitted(after)[0], gone: listed[gone]})
    assert set(emitted) <= set(calls)
    assert newer_call not in calls  # newer than anything the stream's list was written with
    assert set(calls) <= set(listed)


def test_an_ai_stream_saves_the_shorter_of_its_full_list_and_the_difference(
    tmp_path: Path,
) -> None:
    listed, imported = ten_thousand_a_day()
    context = context_with({"calls": {EMITTED_KEY: pack_emitted(listed, exact=False)}}, tmp_path)
    assert context.emitted.save("calls", listed)[0] in FULL_LISTS
    assert context.emitted.save("transcriptions", imported)[0] == RELATIVE
    assert context.emitted.save("summaries", dict(list(imported.items())[:3]))[0] in FULL_LISTS


def test_every_stream_at_ten_thousand_calls_a_day_stays_under_the_bound(tmp_path: Path) -> None:
    """The contract's bound, 512 KiB for all the states: `calls`, `recordings` (exact),
    nine Aircall AI streams each with a random half of the imported calls (the
    difference's worst case: a bit a call that deflate cannot shrink), `import_decisions`."""
    listed, imported = ten_thousand_a_day()
    last_sync = sorted(imported)[-30:]  # the calls imported since the sync before
    before = {k: v for k, v in imported.items() if k not in last_sync}
    context = context_with({"recordings": {EMITTED_KEY: pack_emitted(before, True)}}, tmp_path)
    rng = random.Random(11)
    saved = {
        "calls": context.emitted.save("calls", listed),
        "recordings": context.emitted.save("recordings", imported),
    }
    for name in INSIGHT_STREAM_NAMES:
        half = {k: v for k, v in imported.items() if rng.random() < 0.5}
        saved[name] = context.emitted.save(name, half)
    saved["import_decisions"] = context.emitted.save("import_decisions", imported)
    total = len(json.dumps(saved))
    print(f"{len(imported):,} calls imported, 12 streams: {total / 1024:.0f} KiB")
    assert total < 512 * 1024 - 64 * 1024  # room for the rest of the states


def test_a_stream_reads_its_saved_removals_back(tmp_path: Path) -> None:
    removed = {2_100_000_001: START - 60}
    context = context_with({"calls": {REMOVED_KEY: pack_emitted(removed, exact=False)}}, tmp_path)
    assert context.emitted.removed_by("calls") == removed
    assert context.emitted.removed_by("recordings") == {}


def test_with_its_base_gone_an_ai_streams_list_is_read_from_the_other_full_lists(
    tmp_path: Path,
) -> None:
    """`calls` deselected, and its state dropped with it: `transcriptions`' list, written
    beside `calls`' list, is read from `recordings`' (every imported call) instead."""
    listed, imported = ten_thousand_a_day()
    emitted = dict(itertools.islice(imported.items(), 0, None, 2))
    relative = pack_relative(emitted, "calls", pack_emitted(listed, exact=False), listed)
    states = {
        "recordings": {EMITTED_KEY: pack_emitted(imported, exact=True)},
        "transcriptions": {EMITTED_KEY: relative},
    }
    calls, _ = context_with(states, tmp_path).emitted.emitted_by("transcriptions")
    assert set(emitted) <= set(calls) <= set(imported)


def test_beside_an_older_version_of_its_base_it_still_holds_the_calls_of_its_last_sync() -> None:
    """A destination committed `transcriptions`' state and not `recordings`' newer one:
    the calls both emitted in that sync are not in the older `recordings` list, and are
    kept beside the bits so that the list still holds them."""
    _, imported = ten_thousand_a_day()
    older = dict(list(imported.items())[:-40])
    newer = pack_emitted(imported, exact=True)
    emitted = dict(itertools.islice(imported.items(), 0, None, 2))
    relative = unpack_relative(pack_relative(emitted, "recordings", newer, older))
    assert relative.exact(newer) == emitted  # `recordings` keeps exact starts
    assert set(emitted) <= set(relative.superset(older))


def test_import_decisions_saves_a_difference_beside_recordings_and_a_full_list_alone(
    tmp_path: Path,
) -> None:
    """Its calls are the imported ones, `recordings`' too: beside `recordings` its list is
    a bit a call; without it, it keeps the exact starts, so a full list of its own."""
    _, imported = ten_thousand_a_day()
    old = {EMITTED_KEY: pack_emitted(imported, exact=True)}
    beside = context_with({"recordings": old, "import_decisions": old}, tmp_path).emitted
    beside.save("recordings", imported)
    assert beside.save("import_decisions", imported)[0] == RELATIVE
    alone = context_with({"import_decisions": old}, tmp_path).emitted
    assert alone.save("import_decisions", imported)[0] == "x"
