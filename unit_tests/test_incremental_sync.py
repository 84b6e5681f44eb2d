"""Incremental syncs: new, pending and late-listed calls of the overlap, each emitted once.

See the docstrings of `source_aircall_salescaling/sync/` (state, plan, progress) and
docs/aircall-salescaling.md, "Import rules", "Across syncs".
"""

from __future__ import annotations

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import STALE_IN_PROGRESS_SECONDS, Verdict
from source_aircall_salescaling.sync.state import CallCursor
from unit_tests.cursor_kit import (
    CURSOR,
    EDGE,
    OVERLAP,
    WINDOW_START,
    Drops,
    Recorder,
    T,
    by_id,
    call,
    finish,
    ids,
    newest_first,
    plan,
)

# Incremental syncs ---------------------------------------------------------------------


def test_incremental_sync_judges_only_new_pending_or_unseen_calls_of_the_overlap() -> None:
    judged: list[int] = []
    old = CallCursor(cursor=CURSOR, pending={2: EDGE + 100}, seen={4: CURSOR - 10})
    calls = [
        call(1, CURSOR + 5),  # new
        call(2, EDGE + 100),  # pending
        call(3, EDGE),  # on the edge of the overlap (exclusive): decided earlier
        call(4, CURSOR - 10),  # seen: decided earlier
        call(5, CURSOR - 20),  # in the overlap but not seen: listed late by Aircall
        call(6, EDGE - 50),  # older than the overlap and not pending
    ]

    def judge(c: Call) -> Verdict:
        judged.append(c.id)
        return Verdict.ready()

    plan(calls, old=old, judge=judge)

    assert sorted(judged) == [1, 2, 5]


def test_incremental_sync_emits_new_ready_calls() -> None:
    old = CallCursor(cursor=CURSOR)

    later = plan([call(1, CURSOR + 1), call(2, T)], old=old)

    assert ids(later.emit) == [1, 2]


def test_call_that_appears_late_with_a_started_at_inside_the_overlap_is_emitted() -> None:
    old = CallCursor(cursor=CURSOR, seen={4: CURSOR - 10})

    later = plan([call(4, CURSOR - 10), call(8, CURSOR - 60)], old=old)

    assert ids(later.emit) == [8]


def test_call_older_than_the_overlap_that_was_not_pending_is_not_emitted() -> None:
    later = plan([call(8, EDGE), call(9, EDGE - 500)], old=CallCursor(cursor=CURSOR))

    assert later.emit == []


def test_pending_call_that_became_ready_is_emitted() -> None:
    old = CallCursor(cursor=CURSOR, pending={7: EDGE + 300})

    later = plan([call(7, EDGE + 300, done=True)], old=old)

    assert ids(later.emit) == [7]
    assert later.watch == {}


def test_pending_call_still_not_ready_stays_watched() -> None:
    old = CallCursor(cursor=CURSOR, pending={7: EDGE + 300})

    later = plan([call(7, EDGE + 300, done=False)], old=old)

    assert later.emit == []
    assert later.watch == {7: EDGE + 300}


def test_pending_call_whose_started_at_moved_one_second_is_still_found() -> None:
    old = CallCursor(cursor=CURSOR, pending={7: EDGE + 300})

    later = plan([call(7, EDGE + 301)], old=old)

    assert ids(later.emit) == [7]


def test_seen_call_is_not_emitted_again_when_its_started_at_moves_one_second() -> None:
    old = CallCursor(cursor=CURSOR, seen={5: CURSOR})

    later = plan([call(5, CURSOR + 1), call(6, CURSOR + 1)], old=old)

    assert ids(later.emit) == [6]


def test_call_emitted_on_the_sync_time_is_not_emitted_again_after_moving_a_second() -> None:
    state = finish(plan([call(5, T)], cap=10))

    later = plan([call(5, T + 1)], old=state, sync_time=T + 600)

    assert later.emit == []


def test_call_emitted_on_the_edge_of_the_overlap_is_not_emitted_again_after_moving_a_second() -> (
    None
):
    state = finish(plan([call(5, T - OVERLAP), call(6, T - 10)], cap=10))

    later = plan([call(5, T - OVERLAP + 1), call(6, T - 10)], old=state, sync_time=T + 600)

    assert later.emit == []


def test_state_remembers_the_calls_decided_within_the_overlap_and_on_its_edge_only() -> None:
    calls = [call(1, T - OVERLAP - 5), call(2, T - OVERLAP), call(3, T - OVERLAP + 1), call(4, T)]

    state = finish(plan(calls, cap=10))

    assert state.seen == {2: T - OVERLAP, 3: T - OVERLAP + 1, 4: T}


def test_state_remembers_skipped_calls_of_the_overlap_as_seen() -> None:
    state = finish(plan([call(1, T - 10)], judge=lambda c: Verdict.skip("no recording")))

    assert state.seen == {1: T - 10}


def test_pending_call_that_left_the_window_is_dropped() -> None:
    drops = Drops()
    old = CallCursor(cursor=CURSOR, pending={7: WINDOW_START - 10})

    later = plan([call(7, WINDOW_START - 10, done=False)], old=old, drops=drops)

    assert 7 not in later.watch
    assert "window" in drops.seen[7]


def test_pending_call_no_longer_listed_is_dropped() -> None:
    drops = Drops()
    old = CallCursor(cursor=CURSOR, pending={7: EDGE + 300})

    later = plan([call(8, CURSOR + 10)], old=old, drops=drops)

    assert 7 not in later.watch
    assert "no longer listed" in drops.seen[7]


def test_call_in_progress_for_longer_than_six_hours_stays_watched() -> None:
    drops = Drops()
    stuck_since = T - STALE_IN_PROGRESS_SECONDS - 1
    old = CallCursor(cursor=CURSOR, pending={7: stuck_since})

    later = plan([], old=old, drops=drops, lookup=by_id(call(7, stuck_since, done=False)))

    assert later.watch == {7: stuck_since}
    assert drops.seen == {}


def test_call_in_progress_for_just_under_six_hours_stays_watched() -> None:
    drops = Drops()
    since = T - STALE_IN_PROGRESS_SECONDS + 1
    old = CallCursor(cursor=CURSOR, pending={7: since})

    later = plan([call(7, since, done=False)], old=old, drops=drops)

    assert later.watch == {7: since}
    assert drops.seen == {}


def test_done_call_waiting_for_its_recording_is_not_dropped_as_stale() -> None:
    since = T - STALE_IN_PROGRESS_SECONDS - 600
    old = CallCursor(cursor=CURSOR, pending={7: since})

    later = plan(
        [call(7, since, done=True)], old=old, judge=lambda c: Verdict.wait("no recording yet")
    )

    assert later.watch == {7: since}


def test_pending_call_that_is_ready_is_not_also_dropped() -> None:
    drops = Drops()
    old = CallCursor(cursor=CURSOR, pending={7: EDGE + 300})

    plan([call(7, EDGE + 300)], old=old, drops=drops)

    assert drops.seen == {}


def test_incremental_sync_stops_paging_at_its_lower_bound() -> None:
    old = CallCursor(cursor=CURSOR, pending={7: EDGE - 300})
    listing = Recorder(
        newest_first(
            [
                call(1, CURSOR + 1),
                call(6, EDGE + 1),
                call(8, EDGE),  # on the lower bound (exclusive): the first not needed
                call(7, EDGE - 300),  # pending, but older than the re-listed range
                call(9, EDGE - 5_000),
            ]
        )
    )

    plan(listing, old=old, lookup=by_id(call(7, EDGE - 300, done=False)))

    assert listing.taken == 3


def test_second_sync_over_the_same_calls_emits_nothing() -> None:
    calls = [call(i, T - 60 * i) for i in range(1, 20)]
    state = finish(plan(calls, cap=100))

    again = plan(calls, old=state, sync_time=T + 60)

    assert again.emit == []


def test_call_in_progress_at_one_sync_is_emitted_once_done_at_the_next() -> None:
    first = plan([call(1, T - 100), call(2, T - 50, done=False)], cap=100)
    state = finish(first)

    second = plan(
        [call(3, T + 200), call(1, T - 100), call(2, T - 50, done=True)],
        old=state,
        sync_time=T + 600,
    )
    third = plan(
        [call(3, T + 200), call(1, T - 100), call(2, T - 50)],
        old=finish(second),
        sync_time=T + 1_200,
    )

    assert ids(first.emit) == [1]
    assert ids(second.emit) == [2, 3]
    assert third.emit == []
