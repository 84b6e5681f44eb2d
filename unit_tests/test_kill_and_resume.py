"""Every saved state is a restart point: a sync killed after any batch and run again
emits the same calls once.

See the docstrings of `source_aircall_salescaling/sync/` (state, plan, progress) and
docs/aircall-salescaling.md, "Import rules", "Across syncs".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import Readiness, Verdict
from source_aircall_salescaling.sync.plan import batches
from source_aircall_salescaling.sync.progress import SyncProgress
from source_aircall_salescaling.sync.state import CallCursor
from unit_tests.cursor_kit import (
    CURSOR,
    EDGE,
    HORIZON,
    OVERLAP,
    WINDOW_START,
    T,
    call,
    finish,
    ids,
    listed_at,
    plan,
)

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
