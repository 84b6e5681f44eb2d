"""Time windows over `started_at` (from exclusive, to inclusive) and their splitting."""

from __future__ import annotations

from bisect import bisect_right
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from source_aircall_salescaling.aircall.windows import TimeWindow, windows_newest_first


def seconds_covered(window: TimeWindow) -> set[int]:
    """The `started_at` values a window holds: start < s <= end."""
    return set(range(window.start + 1, window.end + 1))


# TimeWindow ----------------------------------------------------------------------------


def test_window_excludes_its_start_and_includes_its_end() -> None:
    window = TimeWindow(100, 200)

    assert not window.contains(100)
    assert window.contains(101)
    assert window.contains(200)
    assert not window.contains(201)


def test_window_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError):
        TimeWindow(10, 9)


@pytest.mark.parametrize(("start", "end"), [(0, 2), (0, 3), (100, 101 + 999), (7, 8 + 10_000)])
def test_split_halves_cover_exactly_the_window_without_overlap(start: int, end: int) -> None:
    older, newer = TimeWindow(start, end).split()

    assert older.start == start
    assert older.end == newer.start
    assert newer.end == end
    assert seconds_covered(older) | seconds_covered(newer) == seconds_covered(
        TimeWindow(start, end)
    )
    assert not seconds_covered(older) & seconds_covered(newer)


def test_split_of_a_two_second_window_gives_one_second_each() -> None:
    older, newer = TimeWindow(50, 52).split()

    assert (older, newer) == (TimeWindow(50, 51), TimeWindow(51, 52))


@given(start=st.integers(0, 2_000_000_000), seconds=st.integers(2, 20_000_000))
def test_split_covers_exactly_and_both_halves_are_non_empty(start: int, seconds: int) -> None:
    window = TimeWindow(start, start + seconds)

    older, newer = window.split()

    assert (older.start, older.end, newer.start, newer.end) == (
        start,
        older.end,
        older.end,
        start + seconds,
    )
    assert start < older.end < start + seconds


# windows_newest_first ------------------------------------------------------------------


class CountingCalls:
    """A `count` function over a fixed list of `started_at`, that records its questions."""

    def __init__(self, started: list[int]) -> None:
        self.started = sorted(started)
        self.asked: list[TimeWindow] = []

    def held_by(self, window: TimeWindow) -> int:
        return bisect_right(self.started, window.end) - bisect_right(self.started, window.start)

    def __call__(self, window: TimeWindow) -> int:
        self.asked.append(window)
        return self.held_by(window)


WINDOW = TimeWindow(1_000, 1_000 + 5_000)
CAP = 100


def calls_in_window() -> st.SearchStrategy[list[int]]:
    """Up to ~30,000 calls: spread out, clustered, or many in the same second."""
    spread = st.lists(st.integers(WINDOW.start + 1, WINDOW.end), max_size=400)
    burst = st.tuples(st.integers(WINDOW.start + 1, WINDOW.end), st.integers(0, 30_000)).map(
        lambda pair: [pair[0]] * pair[1]
    )
    cluster = st.tuples(st.integers(WINDOW.start + 1, WINDOW.end - 20), st.integers(0, 3_000)).map(
        lambda pair: [pair[0] + (i % 20) for i in range(pair[1])]
    )
    return st.tuples(spread, st.lists(st.one_of(burst, cluster), max_size=3)).map(
        lambda parts: parts[0] + [s for group in parts[1] for s in group]
    )


@settings(max_examples=150, deadline=None)
@given(started=calls_in_window())
def test_windows_cover_the_window_exactly_contiguously_and_newest_first(
    started: list[int],
) -> None:
    count = CountingCalls(started)

    windows = list(windows_newest_first(WINDOW, count, cap=CAP))

    assert windows[0].end == WINDOW.end
    assert windows[-1].start == WINDOW.start
    for newer, older in pairwise(windows):
        assert older.end == newer.start  # contiguous, no gap and no overlap
    assert all(window.end > window.start for window in windows) or windows == [WINDOW]


@settings(max_examples=150, deadline=None)
@given(started=calls_in_window())
def test_every_call_falls_in_exactly_one_window(started: list[int]) -> None:
    count = CountingCalls(started)

    windows = list(windows_newest_first(WINDOW, count, cap=CAP))

    for second in set(started):
        assert sum(window.contains(second) for window in windows) == 1


@settings(max_examples=150, deadline=None)
@given(started=calls_in_window())
def test_each_window_holds_fewer_than_the_cap_unless_it_is_one_second(
    started: list[int],
) -> None:
    count = CountingCalls(started)

    windows = list(windows_newest_first(WINDOW, count, cap=CAP))

    for window in windows:
        assert count.held_by(window) < CAP or window.seconds == 1


@settings(max_examples=150, deadline=None)
@given(started=calls_in_window())
def test_count_is_asked_only_about_windows_that_are_read_or_split(started: list[int]) -> None:
    count = CountingCalls(started)

    windows = list(windows_newest_first(WINDOW, count, cap=CAP))

    split = [window for window in count.asked if window not in windows]
    assert len(count.asked) == len(set(count.asked))  # never twice for one window
    for window in split:
        assert count.held_by(window) >= CAP  # split only because it was over the cap
        assert set(window.split()) <= set(count.asked) | set(windows)
    for window in count.asked:
        assert window.seconds > 1  # a single second cannot be split: no need to count it


@settings(max_examples=100, deadline=None)
@given(started=calls_in_window())
def test_reading_only_the_newest_window_never_counts_older_parts(started: list[int]) -> None:
    count = CountingCalls(started)

    newest = next(windows_newest_first(WINDOW, count, cap=CAP))

    for window in count.asked:  # only the newest window itself and the windows it lies in
        assert window.start <= newest.start and window.end == newest.end


def test_window_under_the_cap_is_yielded_whole_after_one_count() -> None:
    count = CountingCalls([WINDOW.start + 1] * (CAP - 1))

    windows = list(windows_newest_first(WINDOW, count, cap=CAP))

    assert windows == [WINDOW]
    assert count.asked == [WINDOW]


def test_window_holding_exactly_the_cap_is_split() -> None:
    count = CountingCalls([WINDOW.start + 1] * CAP)

    windows = list(windows_newest_first(WINDOW, count, cap=CAP))

    assert len(windows) > 1


def test_one_second_over_the_cap_is_yielded_as_it_is() -> None:
    busy_second = WINDOW.start + 1_234
    count = CountingCalls([busy_second] * (3 * CAP))

    windows = list(windows_newest_first(WINDOW, count, cap=CAP))

    holding = [window for window in windows if window.contains(busy_second)]
    assert holding == [TimeWindow(busy_second - 1, busy_second)]


def test_first_window_is_the_newest_part() -> None:
    count = CountingCalls([WINDOW.end] * 10 + [WINDOW.start + 1] * CAP)

    windows = list(windows_newest_first(WINDOW, count, cap=CAP))

    assert windows[0].end == WINDOW.end
    assert windows == sorted(windows, reverse=True)


def test_counting_helper_follows_the_half_open_rule() -> None:
    count = CountingCalls([10, 11, 11, 12])

    assert count.held_by(TimeWindow(10, 11)) == 2
    assert count.held_by(TimeWindow(9, 10)) == 1
