"""The first sync: the newest ready calls up to the cap, in the window, oldest first.

See the docstrings of `source_aircall_salescaling/sync/` (state, plan, progress) and
docs/aircall-salescaling.md, "Import rules", "Across syncs".
"""

from __future__ import annotations

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import Verdict
from unit_tests.cursor_kit import (
    HORIZON,
    WINDOW_START,
    Recorder,
    T,
    call,
    finish,
    ids,
    newest_first,
    plan,
)

# First sync ----------------------------------------------------------------------------


def test_first_sync_emits_exactly_the_newest_ready_calls_up_to_the_cap() -> None:
    calls = [call(i, T - 100 * i) for i in range(1, 11)]

    first = plan(calls, cap=4)

    assert sorted(ids(first.emit)) == [1, 2, 3, 4]


def test_first_sync_cap_counts_only_ready_calls() -> None:
    calls = [
        call(1, T - 10, done=False),
        call(2, T - 20),
        call(3, T - 30, done=False),
        call(4, T - 40),
        call(5, T - 50),
    ]

    first = plan(calls, cap=2)

    assert sorted(ids(first.emit)) == [2, 4]


def test_first_sync_breaks_ties_in_started_at_by_id_newest_first() -> None:
    same_second = T - 500
    calls = [call(30, same_second), call(10, same_second), call(20, same_second)]

    first = plan(calls, cap=2)

    assert sorted(ids(first.emit)) == [20, 30]


def test_first_sync_emits_oldest_first() -> None:
    calls = [call(5, T - 10), call(9, T - 30), call(1, T - 20), call(7, T - 20)]

    first = plan(calls, cap=10)

    assert ids(first.emit) == [9, 1, 7, 5]


def test_first_sync_leaves_older_ready_calls_behind() -> None:
    calls = [call(i, T - 100 * i) for i in range(1, 8)]

    first = plan(calls, cap=3)

    assert first.left_behind == 4
    assert not {4, 5, 6, 7} & set(ids(first.emit))
    assert not {4, 5, 6, 7} & set(first.watch)


def test_calls_left_behind_by_the_first_sync_are_never_imported_later() -> None:
    calls = [call(i, T - 100 * i) for i in range(1, 8)]
    state = finish(plan(calls, cap=3))

    later = plan(calls, old=state, sync_time=T + 3_600)

    assert later.emit == []


def test_first_sync_watches_calls_that_are_not_ready_yet() -> None:
    calls = [call(1, T - 10, done=False), call(2, T - 20), call(3, T - 30, done=False)]

    first = plan(calls, cap=10)

    assert first.watch == {1: T - 10, 3: T - 30}


def test_first_sync_watches_calls_not_ready_that_are_older_than_the_capped_ones() -> None:
    calls = [call(1, T - 10), call(2, T - 20), call(3, T - 600, done=False)]

    first = plan(calls, cap=1)

    assert first.watch == {3: T - 600}


def test_first_sync_stops_paging_once_capped_and_past_the_watch_horizon() -> None:
    horizon_edge = T - HORIZON
    listing = Recorder(
        newest_first(
            [
                call(1, T - 10),
                call(2, T - 20),
                call(3, horizon_edge + 5),  # waits for its recording: still watched
                call(4, horizon_edge - 1),  # first call past the horizon: paging stops here
                call(5, horizon_edge - 2),
                call(6, horizon_edge - 3_000),
            ]
        )
    )

    first = plan(
        listing,
        cap=2,
        judge=lambda c: Verdict.wait("no recording yet") if c.id == 3 else Verdict.ready(),
    )

    assert listing.taken == 4
    assert first.watch == {3: horizon_edge + 5}
    assert first.listed == 3


def test_first_sync_under_the_cap_pages_down_to_the_window_start() -> None:
    listing = Recorder(newest_first([call(i, T - 86_400 * i) for i in range(1, 6)]))

    first = plan(listing, cap=100)

    assert listing.taken == 5
    assert len(first.emit) == 5


def test_first_sync_never_emits_a_call_started_at_or_before_the_window_start() -> None:
    calls = [call(1, WINDOW_START + 1), call(2, WINDOW_START), call(3, WINDOW_START - 10)]

    first = plan(calls, cap=10)

    assert ids(first.emit) == [1]


def test_first_sync_cap_counts_calls_that_confirm_keeps() -> None:
    calls = [call(i, T - 10 * i) for i in range(1, 6)]
    too_big = {1, 3}

    first = plan(
        calls,
        cap=2,
        confirm=lambda c: Verdict.skip("too big") if c.id in too_big else Verdict.ready(),
    )

    assert sorted(ids(first.emit)) == [2, 4]
    assert sorted(c.id for c, _ in first.skipped) == [1, 3]


def test_confirm_is_not_asked_about_calls_past_the_cap() -> None:
    asked: list[int] = []
    calls = [call(i, T - 10 * i) for i in range(1, 6)]

    def confirm(c: Call) -> Verdict:
        asked.append(c.id)
        return Verdict.ready()

    plan(calls, cap=2, confirm=confirm)

    assert asked == [1, 2]


def test_skipped_calls_are_reported_with_their_reason() -> None:
    calls = [call(1, T - 10), call(2, T - 20)]

    first = plan(calls, judge=lambda c: Verdict.skip("no recording"))

    assert [(c.id, why) for c, why in first.skipped] == [(1, "no recording"), (2, "no recording")]
