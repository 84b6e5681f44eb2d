"""How far back a sync lists (`lower_bound`, the overlap) and how it cuts its batches.

See the docstrings of `source_aircall_salescaling/sync/` (state, plan, progress) and
docs/aircall-salescaling.md, "Import rules", "Across syncs".
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from source_aircall_salescaling.sync.plan import batches, relist_overlap
from source_aircall_salescaling.sync.state import CallCursor
from unit_tests.cursor_kit import CURSOR, EDGE, OVERLAP, WINDOW_START, T, call, ids

# lower_bound and overlap ---------------------------------------------------------------


def test_lower_bound_of_a_first_sync_is_the_window_start() -> None:
    assert CallCursor().lower_bound(WINDOW_START, OVERLAP) == WINDOW_START


def test_lower_bound_without_pending_calls_is_the_start_of_the_overlap() -> None:
    assert CallCursor(cursor=CURSOR).lower_bound(WINDOW_START, OVERLAP) == CURSOR - OVERLAP


def test_lower_bound_does_not_reach_back_to_old_pending_calls() -> None:
    old = CallCursor(cursor=CURSOR, pending={1: EDGE - 50, 2: EDGE - 900, 3: CURSOR - 10})

    assert old.lower_bound(WINDOW_START, OVERLAP) == EDGE


def test_pending_call_inside_the_overlap_does_not_move_the_lower_bound() -> None:
    old = CallCursor(cursor=CURSOR, pending={1: CURSOR - 10})

    assert old.lower_bound(WINDOW_START, OVERLAP) == CURSOR - OVERLAP


def test_lower_bound_is_never_before_the_window_start() -> None:
    old = CallCursor(cursor=CURSOR, since=WINDOW_START - 86_400)

    assert old.lower_bound(WINDOW_START, OVERLAP) == WINDOW_START


def test_lower_bound_of_a_cursor_older_than_the_window_is_the_window_start() -> None:
    old = CallCursor(cursor=WINDOW_START - 5)

    assert old.lower_bound(WINDOW_START, OVERLAP) == WINDOW_START


@pytest.mark.parametrize(
    ("lookback_seconds", "overlap"),
    [(0, 15 * 60), (15 * 60, 15 * 60), (3_600, 3_600), (2 * 3_600, 2 * 3_600), (86_400, 7_200)],
)
def test_overlap_is_the_lookback_kept_between_15_minutes_and_2_hours(
    lookback_seconds: int, overlap: int
) -> None:
    assert relist_overlap(lookback_seconds) == overlap


# batches -------------------------------------------------------------------------------


def test_batches_of_distinct_seconds_have_the_requested_size() -> None:
    calls = [call(i, T + i) for i in range(7)]

    assert [len(b) for b in batches(calls, 3)] == [3, 3, 1]


def test_batch_grows_past_its_size_rather_than_split_a_second() -> None:
    calls = [call(1, T), call(2, T + 1), call(3, T + 1), call(4, T + 1), call(5, T + 2)]

    assert [ids(b) for b in batches(calls, 2)] == [[1, 2, 3, 4], [5]]


def test_batches_of_nothing_is_no_batch() -> None:
    assert list(batches([], 5)) == []


@given(
    seconds=st.lists(st.integers(0, 30), max_size=80).map(sorted),
    size=st.integers(1, 10),
)
def test_batches_keep_every_call_in_order_and_never_split_a_second(
    seconds: list[int], size: int
) -> None:
    calls = [call(i, T + s) for i, s in enumerate(seconds)]

    cut = list(batches(calls, size))

    assert [c for b in cut for c in b] == calls
    assert all(b for b in cut)
    for earlier, later in pairwise(cut):
        assert earlier[-1].started_at != later[0].started_at
        assert len(earlier) >= size
    for b in cut:  # past `size`, a batch only takes calls of its last second
        assert len({c.started_at for c in b[size - 1 :]}) <= 1
