"""Months of syncs: clock jumps, first-sync failures, lookups and retries by id.

See the docstrings of `source_aircall_salescaling/sync/` (state, plan, progress) and
docs/aircall-salescaling.md, "Import rules", "Across syncs".
"""

from __future__ import annotations

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import Verdict
from source_aircall_salescaling.sync.plan import MAX_LOOKUPS_PER_SYNC, LookupFailed, lookup_due
from source_aircall_salescaling.sync.progress import SyncProgress
from source_aircall_salescaling.sync.state import CallCursor
from unit_tests.cursor_kit import (
    CURSOR,
    DAY,
    EDGE,
    WINDOW_START,
    Drops,
    T,
    by_id,
    call,
    finish,
    ids,
    listed_at,
    plan,
)

# Months of syncs: clock jumps, first-sync failures, retries by id -----------------------


def test_a_clock_two_days_ahead_then_corrected_never_duplicates_nor_loses_a_call() -> None:
    calls = [call(i, T - 3_000 + 100 * i) for i in range(60)]  # up to T + 2_900
    ahead, corrected = T + 2 * DAY, T + 900
    first = plan(listed_at(calls, T), cap=1_000)
    state = finish(first)
    emitted = ids(first.emit)
    for clock, really in [
        (ahead, T + 300),
        (corrected, T + 900),
        (T + 1_800, T + 1_800),
        (T + 2 * 3_600, T + 2 * 3_600),
    ]:
        sync = plan(
            listed_at(calls, really), old=state, sync_time=clock, window_start=clock - 14 * DAY
        )
        assert state.cursor is not None
        state = finish(sync)
        assert state.cursor >= clock or state.cursor == ahead
        emitted += ids(sync.emit)

    assert sorted(emitted) == sorted(c.id for c in calls)


def test_the_cursor_never_moves_backwards_when_the_clock_does() -> None:
    state = finish(plan([call(1, T - 10)], sync_time=T + 2 * DAY))

    later = finish(plan([call(1, T - 10), call(2, T + 100)], old=state, sync_time=T + 600))

    assert later.cursor == T + 2 * DAY
    assert later.since is not None and later.since <= T - 10


def test_first_sync_files_that_fail_keep_their_slot_so_later_syncs_stay_under_the_cap() -> None:
    calls = [call(i, T - 60 * i) for i in range(1, 41)]
    first = plan(calls, cap=5, confirm=lambda c: Verdict.wait("recording unavailable"))
    state = finish(first)

    second = plan(calls, old=state, sync_time=T + 900, window_start=WINDOW_START + 900)

    assert first.emit == []
    assert len(state.pending) == 5
    assert sorted(ids(second.emit)) == [1, 2, 3, 4, 5]


def test_first_sync_slots_freed_at_download_go_to_the_newest_calls_left_behind() -> None:
    calls = [call(i, T - 10 * i) for i in range(1, 7)]  # 1 newest ... 6 oldest
    sync = plan(calls, cap=2)
    progress = SyncProgress(sync)
    progress.skipped(sync.emit[0])  # call 2: over the size limit once downloaded
    progress.slot_freed()
    progress.skipped(sync.emit[1])  # call 1: the same
    progress.slot_freed()
    progress.finished = True

    state = progress.state()

    assert ids(sync.emit) == [2, 1]
    assert state.pending == {3: T - 30, 4: T - 40}
    assert sync.left_behind == 2
    assert ids(plan(calls, old=state, cap=2).emit) == [4, 3]


def test_a_pending_call_gone_from_aircall_is_dropped_with_its_reason() -> None:
    drops = Drops()
    old = CallCursor(cursor=CURSOR, pending={7: EDGE - 3_000})

    later = plan([], old=old, drops=drops, lookup=by_id())

    assert later.watch == {}
    assert later.gone == [7]
    assert "deleted in Aircall" in drops.seen[7]


def test_a_pending_call_that_cannot_be_fetched_now_stays_pending() -> None:
    def failing(call_id: int) -> Call | None:
        raise LookupFailed("HTTP 503, retries exhausted")

    old = CallCursor(cursor=CURSOR, pending={7: EDGE - 3_000})

    later = plan([], old=old, lookup=failing)

    assert later.watch == {7: EDGE - 3_000}


def test_lookups_by_id_are_bounded_per_sync() -> None:
    old = CallCursor(cursor=CURSOR, pending={i: EDGE - 3_000 - i for i in range(100)})
    asked: list[int] = []

    def lookup(call_id: int) -> Call | None:
        asked.append(call_id)
        return call(call_id, EDGE - 3_000 - call_id, done=False)

    later = plan([], old=old, lookup=lookup)

    assert len(asked) == MAX_LOOKUPS_PER_SYNC
    assert set(later.watch) == set(range(100))


def test_an_old_pending_call_is_looked_up_every_sync_for_a_day_then_less_often() -> None:
    every_15_minutes = [T + 900 * n for n in range(4 * 20)]  # 20 hours of syncs
    young, old_call = T - 3_600, T - 3 * DAY

    young_checks = sum(lookup_due(young, t - 900, t) for t in every_15_minutes)
    old_checks = sum(lookup_due(old_call, t - 900, t) for t in every_15_minutes)

    assert young_checks == len(every_15_minutes)
    assert 3 <= old_checks <= 5  # every 6 hours


def test_a_failing_transfer_of_an_old_call_is_retried_by_id_every_sync_of_its_first_day() -> None:
    started = T - 5 * DAY
    old = CallCursor(cursor=T - 900, pending={7: started}, failing={7: T - 3_600})
    asked: list[int] = []

    def lookup(call_id: int) -> Call | None:
        asked.append(call_id)
        return call(call_id, started)

    later = plan([], old=old, lookup=lookup)

    assert asked == [7]
    assert ids(later.emit) == [7]


def test_when_transfers_started_failing_is_kept_while_the_call_is_pending() -> None:
    sync = plan([call(1, T - 10), call(2, T - 20)], cap=10)
    progress = SyncProgress(sync)
    sync.failing[1] = T - 50

    progress.defer(sync.emit[1])  # call 1 (oldest first: call 2, call 1)
    progress.emitted(sync.emit[0])
    progress.finished = True

    assert progress.state().failing == {1: T - 50}
