"""Which calls a sync emits, and the state that makes a sequence of syncs exact.

See the docstrings of `source_aircall_salescaling/sync/` (state, plan, progress) and the
contract's
"Which records a sequence of syncs emits".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from source_aircall_salescaling.aircall.models import Agent, Call, iso_utc
from source_aircall_salescaling.config import ConfigError, parse_config
from source_aircall_salescaling.import_rules import (
    STALE_IN_PROGRESS_SECONDS,
    Readiness,
    Verdict,
    eligible,
)
from source_aircall_salescaling.sync.plan import (
    MAX_LOOKUPS_PER_SYNC,
    LookupFailed,
    StreamRules,
    SyncBounds,
    SyncPlan,
    batches,
    lookup_due,
    plan_sync,
    relist_overlap,
)
from source_aircall_salescaling.sync.progress import SyncProgress
from source_aircall_salescaling.sync.state import CallCursor, pack_calls, unpack_calls

T = 1_800_000_000  # the sync time
WINDOW_START = T - 14 * 86_400
HORIZON = STALE_IN_PROGRESS_SECONDS + 3_600  # what the streams pass: stale + lookback
OVERLAP = 1_800  # how far before the previous sync's time a sync lists again


def call(call_id: int, started_at: int, done: bool = True, ended_at: int | None = None) -> Call:
    return Call(
        id=call_id,
        direction="inbound",
        aircall_status="done" if done else "answered",
        missed_call_reason=None,
        started_at=started_at,
        answered_at=started_at + 1,
        ended_at=(ended_at if ended_at is not None else started_at + 60) if done else None,
        duration=60 if done else 0,
        has_voicemail=False,
        recording_url=None,
        external_number=None,
        internal_number=None,
        agent=None,
        contact=None,
    )


def newest_first(calls: Iterable[Call]) -> list[Call]:
    return sorted(calls, key=lambda c: (c.started_at, c.id), reverse=True)


def ids(calls: Iterable[Call]) -> list[int]:
    return [c.id for c in calls]


def ready_when_done(c: Call) -> Verdict:
    return Verdict.ready() if c.is_done else Verdict.wait("in progress")


class Recorder:
    """An iterator over calls (newest first) that remembers how many were taken."""

    def __init__(self, calls: list[Call]) -> None:
        self.calls = calls
        self.taken = 0

    def __iter__(self) -> Iterator[Call]:
        for c in self.calls:
            self.taken += 1
            yield c


@dataclass
class Drops:
    seen: dict[int, str] = field(default_factory=dict)

    def __call__(self, call_id: int, why: str) -> None:
        assert call_id not in self.seen, f"call {call_id} dropped twice"
        self.seen[call_id] = why


def plan(
    calls: Iterable[Call],
    old: CallCursor | None = None,
    sync_time: int = T,
    window_start: int = WINDOW_START,
    cap: int = 1_000,
    judge: Callable[[Call], Verdict] = ready_when_done,
    confirm: Callable[[Call], Verdict] | None = None,
    horizon: int = HORIZON,
    overlap: int = OVERLAP,
    drops: Drops | None = None,
    lookup: Callable[[int], Call | None] | None = None,
    fingerprint: Callable[[Call], int] | None = None,
    changes_for: int = 0,
) -> SyncPlan:
    return plan_sync(
        calls if isinstance(calls, Recorder) else newest_first(calls),
        old or CallCursor(),
        SyncBounds(
            sync_time=sync_time,
            window_start=window_start,
            overlap=overlap,
            watch_horizon=horizon,
            first_sync_cap=cap,
            changes_for=changes_for,
        ),
        StreamRules(
            judge=judge,
            confirm=confirm or (lambda c: Verdict.ready()),
            on_drop=drops if drops is not None else Drops(),
            lookup=lookup,
            fingerprint=fingerprint,
        ),
    )


def finish(sync: SyncPlan) -> CallCursor:
    """Emit every call of the plan and return the state saved at the end of the sync."""
    progress = SyncProgress(sync)
    for c in sync.emit:
        progress.emitted(c)
    progress.finished = True
    return progress.state()


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


# Incremental syncs ---------------------------------------------------------------------

CURSOR = T - 3_600  # the previous sync's time
EDGE = CURSOR - OVERLAP  # calls that started after this are listed again


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


def by_id(*calls: Call) -> Callable[[int], Call | None]:
    """`GET /v1/calls/{id}` over these calls: None (a 404) for any other id."""
    known = {c.id: c for c in calls}
    return known.get


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


# SyncProgress: every saved state is a restart point ------------------------------------


def test_state_before_any_batch_is_the_old_state() -> None:
    old = CallCursor(cursor=CURSOR, pending={7: EDGE - 300}, seen={9: CURSOR - 5})

    progress = SyncProgress(plan([call(1, CURSOR + 10)], old=old))

    assert progress.state() == old


def test_state_after_the_last_batch_moves_the_cursor_to_the_sync_time() -> None:
    state = finish(plan([call(1, T - 10), call(2, T - 5, done=False)], cap=10))

    assert state.cursor == T
    assert state.pending == {2: T - 5}


def test_state_after_a_batch_keeps_pending_calls_that_were_not_emitted() -> None:
    old = CallCursor(cursor=CURSOR, pending={7: EDGE + 300, 8: EDGE + 400})
    sync = plan(
        [call(7, EDGE + 300), call(8, EDGE + 400, done=False), call(1, CURSOR + 10)], old=old
    )
    progress = SyncProgress(sync)

    progress.emitted(sync.emit[0])

    assert progress.state().pending == {8: EDGE + 400}


def test_deferred_call_is_watched_in_the_next_state() -> None:
    sync = plan([call(1, T - 10)], cap=10)
    progress = SyncProgress(sync)

    progress.defer(sync.emit[0])
    progress.finished = True

    assert progress.state().pending == {1: T - 10}


@dataclass
class Scenario:
    calls: list[Call]
    judge_then: dict[int, Readiness]  # verdicts at an earlier sync (when there is one)
    judge_now: dict[int, Readiness]
    earlier: int | None  # the earlier sync's time, or None: this is a first sync
    cap: int
    overlap: int
    batch_size: int
    kills: list[int]  # kill after this many batches, then again, ...


def verdicts(table: dict[int, Readiness]) -> Callable[[Call], Verdict]:
    def judge(c: Call) -> Verdict:
        readiness = table[c.id]
        if readiness is Readiness.READY:
            return Verdict.ready()
        if readiness is Readiness.WAIT:
            return Verdict.wait("not yet")
        return Verdict.skip("never")

    return judge


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    count = draw(st.integers(0, 40))
    call_ids = draw(st.lists(st.integers(1, 10_000), min_size=count, max_size=count, unique=True))
    # A narrow range of seconds makes ties and overlap and window edges common.
    low = draw(st.sampled_from([WINDOW_START - 3, T - HORIZON - 5, T - 40]))
    started = draw(st.lists(st.integers(low, T), min_size=count, max_size=count))
    done = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    readiness = st.sampled_from(list(Readiness))
    now = draw(st.lists(readiness, min_size=count, max_size=count))
    then = draw(st.lists(readiness, min_size=count, max_size=count))
    earlier = draw(st.one_of(st.none(), st.integers(low, T)))
    return Scenario(
        calls=[call(i, s, done=d) for i, s, d in zip(call_ids, started, done, strict=True)],
        judge_then=dict(zip(call_ids, then, strict=True)),
        judge_now=dict(zip(call_ids, now, strict=True)),
        earlier=earlier,
        cap=draw(st.integers(1, 12)),
        overlap=draw(st.sampled_from([1, 5, 20, OVERLAP])),
        batch_size=draw(st.integers(1, 5)),
        kills=draw(st.lists(st.integers(0, 6), max_size=3)),
    )


def listed_at(calls: list[Call], sync_time: int) -> list[Call]:
    return newest_first(c for c in calls if c.started_at <= sync_time)


def run(s: Scenario, old: CallCursor, kill_after: int | None) -> tuple[list[int], CallCursor, bool]:
    """One sync at T; returns the ids it emitted, the last state it saved, and whether it
    ran to the end."""
    sync = plan(
        listed_at(s.calls, T),
        old=old,
        cap=s.cap,
        judge=verdicts(s.judge_now),
        overlap=s.overlap,
    )
    progress = SyncProgress(sync)
    emitted: list[int] = []
    saved = old
    for index, batch in enumerate(batches(sync.emit, s.batch_size)):
        if kill_after is not None and index == kill_after:
            return emitted, saved, False
        for c in batch:
            progress.emitted(c)
            emitted.append(c.id)
        saved = progress.state()
    progress.finished = True
    return emitted, progress.state(), True


def start_state(s: Scenario) -> CallCursor:
    if s.earlier is None:
        return CallCursor()
    earlier = plan(
        listed_at(s.calls, s.earlier),
        sync_time=s.earlier,
        cap=s.cap,
        judge=verdicts(s.judge_then),
        overlap=s.overlap,
    )
    return finish(earlier)


def test_killed_first_sync_leaves_behind_the_second_where_paging_stopped() -> None:
    """Capped, the first sync stops paging at a call past the watch horizon that shares
    the second of the oldest call it emits: that call is left behind, also when the sync
    is killed after its first batch and run again from the state it saved."""
    second = WINDOW_START + 100  # far past the watch horizon
    calls = [call(9, second + 1), call(5, second), call(3, second)]
    sync = plan(calls, cap=2)
    progress = SyncProgress(sync)
    first_batch = next(batches(sync.emit, 1))
    for c in first_batch:
        progress.emitted(c)

    rerun = plan(calls, old=progress.state(), cap=2)

    assert ids(sync.emit) == [5, 9] and ids(first_batch) == [5]
    assert ids(rerun.emit) == [9]


@settings(max_examples=400, deadline=None)
@given(s=scenarios())
def test_sync_killed_after_any_batch_and_rerun_from_its_state_emits_the_same_calls_once(
    s: Scenario,
) -> None:
    old = start_state(s)
    uninterrupted, final_state, _ = run(s, old, kill_after=None)

    emitted: list[int] = []
    state = old
    for kill in [*s.kills, None]:
        part, state, finished = run(s, state, kill_after=kill)
        emitted += part
        if finished:
            break

    assert len(emitted) == len(set(emitted)), "a call was emitted twice"
    assert set(emitted) == set(uninterrupted)
    assert set(state.pending) == set(final_state.pending)


@settings(max_examples=200, deadline=None)
@given(s=scenarios())
def test_sync_rerun_from_its_final_state_emits_nothing(s: Scenario) -> None:
    _, state, _ = run(s, start_state(s), kill_after=None)

    again, _, _ = run(s, state, kill_after=None)

    assert again == []


# State round trip ----------------------------------------------------------------------


def test_state_of_a_first_sync_that_emitted_nothing_is_empty() -> None:
    assert CallCursor().to_state() == {}


@pytest.mark.parametrize("state", [None, {}])
def test_no_state_means_a_first_sync(state: dict[str, Any] | None) -> None:
    assert CallCursor.from_state(state, "calls").cursor is None


def test_state_names_the_cursor_as_a_utc_date_time() -> None:
    state = CallCursor(cursor=T, pending={12: T - 5}, seen={3: T - 60}).to_state()

    assert state == {"cursor": iso_utc(T), "pending": {"12": T - 5}, "seen": {"3": T - 60}}
    assert state["cursor"] == "2027-01-15T08:00:00Z"


@given(
    cursor=st.integers(0, 4_000_000_000),
    pending=st.dictionaries(st.integers(1, 2**63 - 1), st.integers(0, 4_000_000_000), max_size=20),
    seen=st.dictionaries(st.integers(1, 2**63 - 1), st.integers(0, 4_000_000_000), max_size=20),
)
def test_state_round_trips_through_json(
    cursor: int, pending: dict[int, int], seen: dict[int, int]
) -> None:
    original = CallCursor(cursor=cursor, pending=pending, seen=seen)

    restored = CallCursor.from_state(json.loads(json.dumps(original.to_state())), "calls")

    assert restored == original


GARBAGE_STATES: list[Any] = [
    {"cursor": 1_800_000_000},
    {"cursor": "yesterday"},
    {"cursor": "2027-01-15 08:00:00"},
    {"pending": {"1": 5}},
    {"cursor": "2027-01-15T08:00:00Z", "pending": {"one": 5}},
    {"cursor": "2027-01-15T08:00:00Z", "pending": {"1": "soon"}},
    {"cursor": "2027-01-15T08:00:00Z", "pending": {"1": None}},
    {"cursor": "2027-01-15T08:00:00Z", "pending": [1, 2]},
    {"cursor": "2027-01-15T08:00:00Z", "seen": 5},
    {"cursor": "2027-01-15T08:00:00Z", "seen": "12"},
    {"cursor": "2027-01-15T08:00:00Z", "seen": {"x": 1}},
    {"cursor": "2027-01-15T08:00:00Z", "seen": [1, 2]},
    "garbage",
    ["cursor"],
]


@pytest.mark.parametrize("state", GARBAGE_STATES)
def test_state_this_connector_did_not_write_fails_naming_the_stream(state: Any) -> None:
    with pytest.raises(ConfigError) as raised:
        CallCursor.from_state(state, "recordings")

    assert "recordings" in raised.value.message


# State size ----------------------------------------------------------------------------

KIB = 1024
DAY = 86_400
CALLS_A_DAY = 10_000


def state_after_a_day(lookback_minutes: int, with_recordings: bool) -> dict[str, Any]:
    """The `recordings` state (as Airbyte stores it) after a sync that lists a day of
    10,000 calls, all by Salescaling users, the newest still in progress; either every
    call has its recording, or none has one yet (every call inside the lookback waits)."""
    config = parse_config(
        {
            "api_id": "id",
            "api_token": "token",
            "salescaling_user_emails": ["ana@example.com"],
            "lookback_minutes": lookback_minutes,
        },
        environ={},
    )
    recording = "https://storage.example/r.mp3" if with_recordings else None
    calls = []
    for n in range(CALLS_A_DAY):
        started = T - DAY + (n * DAY) // CALLS_A_DAY
        base = call(2_100_000_000 + n, started, done=started < T - 300)
        calls.append(
            replace(base, agent=Agent(7, "Ana", "ana@example.com"), recording_url=recording)
        )
    sync = plan(
        calls,
        cap=10 * CALLS_A_DAY,
        judge=lambda c: eligible(c, config, T),
        horizon=STALE_IN_PROGRESS_SECONDS + config.lookback_seconds,
        overlap=relist_overlap(config.lookback_seconds),
    )
    return finish(sync).to_state()


def size(state: dict[str, Any]) -> int:
    return len(json.dumps(state).encode())


@pytest.mark.parametrize("lookback_minutes", [0, 60, 120])
@pytest.mark.parametrize("with_recordings", [True, False], ids=["recorded", "not-recorded"])
def test_state_for_ten_thousand_calls_a_day_stays_under_64_kib(
    lookback_minutes: int, with_recordings: bool
) -> None:
    state = state_after_a_day(lookback_minutes, with_recordings)

    assert size(state) < 64 * KIB


def test_state_size_check_covers_a_state_that_remembers_the_last_hour() -> None:
    state = state_after_a_day(60, with_recordings=True)

    calls_an_hour = CALLS_A_DAY // 24
    assert len(state["seen"]) + len(state["pending"]) >= calls_an_hour - 5


def test_state_for_ten_thousand_calls_a_day_stays_under_64_kib_at_the_largest_lookback() -> None:
    state = state_after_a_day(1440, with_recordings=False)

    assert size(state) < 64 * KIB


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


def test_a_done_call_waiting_for_its_recording_is_looked_for_by_listing_not_by_id() -> None:
    waiting = call(7, T - 3 * 3_600)
    first = plan([waiting], judge=lambda c: Verdict.wait("recording not ready yet"))
    state = finish(first)

    assert state.lower_bound(WINDOW_START, OVERLAP) < waiting.started_at


def test_a_large_state_is_packed_and_reads_back_the_same() -> None:
    pending = {2_100_000_000 + 347 * n: T - DAY + 9 * n for n in range(CALLS_A_DAY)}
    original = CallCursor(cursor=T, pending=pending, seen={5: T - 10}, since=T - 3_601)

    saved = json.loads(json.dumps(original.to_state()))

    assert isinstance(saved["pending"], str)
    assert saved["seen"] == {"5": T - 10}
    assert CallCursor.from_state(saved, "recordings") == original
    assert size(saved) < 64 * KIB


@given(
    entries=st.dictionaries(
        st.integers(1, 2**63 - 1), st.integers(0, 4_000_000_000), min_size=401, max_size=600
    )
)
@settings(max_examples=20, deadline=None)
def test_packed_calls_round_trip(entries: dict[int, int]) -> None:
    assert unpack_calls(pack_calls(entries)) == entries


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


@pytest.mark.parametrize("lookback_minutes", [0, 15, 60, 120, 1440])
def test_calls_state_with_its_prints_for_ten_thousand_calls_a_day_stays_under_64_kib(
    lookback_minutes: int,
) -> None:
    lookback = lookback_minutes * 60
    calls = [
        call(2_100_000_000 + n, T - DAY + (n * DAY) // CALLS_A_DAY, done=True)
        for n in range(CALLS_A_DAY)
    ]
    sync = plan(
        calls,
        cap=10 * CALLS_A_DAY,
        overlap=relist_overlap(lookback),
        fingerprint=lambda c: c.duration,
        changes_for=min(lookback, 2 * 3_600),
    )

    state = finish(sync).to_state()

    assert size(state) < 64 * KIB
    assert len(state.get("prints", {})) >= min(lookback, 2 * 3_600) * CALLS_A_DAY // DAY - 5
