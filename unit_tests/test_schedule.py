"""When a waiting call is asked about again (sync/schedule.py)."""

from __future__ import annotations

import pytest

from source_aircall_salescaling.sync.schedule import (
    EARLY_ASKS,
    FOLLOW_ASKS,
    LAST_ASK_BEFORE_DEADLINE,
    MAX_ASKS,
    TRANSCRIPTION_ASKS,
    ask_due,
    ask_times,
    passed,
)

START = 1_764_000_000
MINUTE = 60
SCHEDULES = pytest.mark.parametrize(
    "early",
    [EARLY_ASKS, TRANSCRIPTION_ASKS, FOLLOW_ASKS],
    ids=["recording", "transcription", "follow"],
)


def test_a_three_hour_deadline_asks_five_times_the_last_in_its_last_15_minutes() -> None:
    deadline = START + 180 * MINUTE
    times = ask_times(START, deadline)
    assert times == (
        START,
        START + 15 * MINUTE,
        START + 60 * MINUTE,
        START + 90 * MINUTE,
        START + 165 * MINUTE,
    )


def test_a_transcription_missing_15_minutes_after_the_first_ask_is_asked_at_1_h_15_and_1_h_30() -> (
    None
):
    times = ask_times(START, START + 180 * MINUTE, early=TRANSCRIPTION_ASKS)
    assert times == (
        START,
        START + 15 * MINUTE,
        START + 75 * MINUTE,
        START + 90 * MINUTE,
        START + 165 * MINUTE,
    )


def test_a_transcription_deadline_too_close_for_1_h_30_asks_at_1_h_and_half_way() -> None:
    times = ask_times(START, START + 90 * MINUTE, early=TRANSCRIPTION_ASKS)
    assert times == (
        START,
        START + 15 * MINUTE,
        START + 45 * MINUTE,
        START + 60 * MINUTE,
        START + 75 * MINUTE,
    )


@SCHEDULES
def test_never_more_than_the_maximum_of_asks_at_any_deadline(early: tuple[int, ...]) -> None:
    for minutes in range(0, 2881, 5):
        times = ask_times(START, START + minutes * MINUTE, early=early)
        assert 1 <= len(times) <= MAX_ASKS
        assert list(times) == sorted(set(times))


@SCHEDULES
def test_the_last_ask_falls_in_the_deadlines_last_15_minutes(early: tuple[int, ...]) -> None:
    for minutes in range(16, 2881, 7):
        deadline = START + minutes * MINUTE
        last = ask_times(START, deadline, early=early)[-1]
        assert deadline - LAST_ASK_BEFORE_DEADLINE <= last < deadline


def test_a_deadline_within_15_minutes_asks_once() -> None:
    assert ask_times(START, START + 10 * MINUTE) == (START,)
    assert ask_times(START, START) == (START,)


def test_syncs_every_15_minutes_ask_once_per_checkpoint() -> None:
    deadline = START + 2880 * MINUTE
    times = ask_times(START, deadline)
    asked, asks = 0, 0
    for now in range(START + 7 * MINUTE, deadline + 60 * MINUTE, 15 * MINUTE):
        if ask_due(times, asked, now, deadline):
            asks += 1
            asked = passed(times, now)
    assert asks == len(times)


def test_checkpoints_that_passed_together_cost_one_ask() -> None:
    times = ask_times(START, START + 180 * MINUTE)
    assert ask_due(times, 1, START + 100 * MINUTE, START + 180 * MINUTE)
    assert passed(times, START + 100 * MINUTE) == 4  # one ask covers three checkpoints


def test_a_sync_after_the_deadline_asks_once_if_the_last_checkpoint_was_missed() -> None:
    deadline = START + 180 * MINUTE
    times = ask_times(START, deadline)
    assert ask_due(times, 3, deadline + 5 * MINUTE, deadline)
    assert not ask_due(times, len(times), deadline + 5 * MINUTE, deadline)


def test_no_ask_before_the_next_checkpoint() -> None:
    times = ask_times(START, START + 180 * MINUTE)
    assert not ask_due(times, 1, START + 14 * MINUTE, START + 180 * MINUTE)
