"""Quiet syncs stay small: a done call waiting for its recording longer than the re-listed
overlap is fetched by id on a spaced schedule, never listed back to (issue 18).

    ended    + overlap (listed)      end + 12 h (ask)             end + 24 h (ask: decided)
    |-----------|.............................|...............................|
     syncs every 15 min list only (T - overlap, T]; the call is fetched by id on its
     checkpoints (`sync/schedule.py`), the nearest deadline first, at most
     MAX_LOOKUPS_PER_SYNC a sync; a due lookup not made stays `overdue`

See the docstrings of `source_aircall_salescaling/sync/plan.py` and `sync/state.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import Verdict
from source_aircall_salescaling.sync.plan import MAX_LOOKUPS_PER_SYNC, relist_overlap
from source_aircall_salescaling.sync.state import CallCursor
from unit_tests.cursor_kit import DAY, T, a_listed_call, finish, ids, plan
from unit_tests.test_state import KIB, state_after_a_day

LOOKBACK = 1_440 * 60  # the largest lookback: a day
OVERLAP = relist_overlap(LOOKBACK)  # 2 hours
EVERY = 900  # a sync every 15 minutes


def recording_rules(now: int, lookback: int = LOOKBACK) -> Callable[[Call], Verdict]:
    """`recordings` in short: ready once the recording came; a done call without one is
    watched until `lookback` after it ended, then given up."""

    def judge(c: Call) -> Verdict:
        if not c.is_done:
            return Verdict.wait("in progress")
        if c.recording_url is not None:
            return Verdict.ready()
        assert c.ended_at is not None
        if now < c.ended_at + lookback:
            return Verdict.wait("recording not ready yet")
        return Verdict.skip("no recording")

    return judge


@dataclass
class Account:
    """One call as Aircall serves it over time: done at `ended`, its recording from
    `recording_at` (None: never)."""

    started: int
    ended: int
    recording_at: int | None = None
    call_id: int = 7

    def at(self, moment: int) -> Call:
        served = a_listed_call(self.call_id, self.started, ended_at=self.ended)
        if self.recording_at is not None and moment >= self.recording_at:
            served = served.with_recording()
        return served.parsed()


@dataclass
class Syncs:
    """What a run of 15-minute syncs on Aircall's clock did with the account's call."""

    looked_up_at: list[int] = field(default_factory=list)
    listed_at: list[int] = field(default_factory=list)
    emitted_at: list[int] = field(default_factory=list)
    state: CallCursor = field(default_factory=CallCursor)


def sync_every_15_minutes(account: Account, first: int, last: int) -> Syncs:
    """A first sync at `first`, then one every 15 minutes up to `last`, each from the
    state of the one before; Aircall lists the call to a sync whose range reaches it."""
    run = Syncs()
    for moment in range(first, last + 1, EVERY):

        def lookup(call_id: int, moment: int = moment) -> Call | None:
            run.looked_up_at.append(moment)
            return account.at(moment)

        lower = run.state.lower_bound(moment - 14 * DAY, OVERLAP)
        if account.started > lower:
            run.listed_at.append(moment)
        sync = plan(
            [account.at(moment)],
            old=run.state,
            sync_time=moment,
            window_start=moment - 14 * DAY,
            overlap=OVERLAP,
            judge=recording_rules(moment),
            lookup=lookup,
            lookback=LOOKBACK,
            aircall_clock=True,
        )
        run.emitted_at += [moment for _ in sync.emit]
        run.state = finish(sync)
    return run


def test_a_call_waiting_longer_than_the_overlap_is_not_listed_back_to() -> None:
    account = Account(started=T - 120, ended=T - 60)  # never gets its recording

    run = sync_every_15_minutes(account, T, T + 6 * 3_600)

    assert max(run.listed_at) <= account.started + OVERLAP + EVERY  # the range moved on
    assert 7 in run.state.pending


def test_a_waiting_call_out_of_the_listing_is_looked_up_on_its_checkpoints_only() -> None:
    account = Account(started=T - 120, ended=T - 60)  # never gets its recording

    run = sync_every_15_minutes(account, T, T + DAY + 3_600)

    half_way = account.ended + (LOOKBACK + 15 * 60) // 2
    lookback_ends = account.ended + LOOKBACK
    first_sync_at_or_after = [T + EVERY * -(-(m - T) // EVERY) for m in (half_way, lookback_ends)]
    assert run.looked_up_at == first_sync_at_or_after
    assert run.looked_up_at[-1] - lookback_ends < EVERY
    assert 7 not in run.state.pending  # decided (no recording) at its last lookup


def test_a_recording_that_comes_20_hours_after_the_call_still_arrives_by_a_lookup() -> None:
    account = Account(started=T - 120, ended=T - 60, recording_at=T - 60 + 20 * 3_600)

    run = sync_every_15_minutes(account, T, T + DAY + 3_600)

    assert len(run.emitted_at) == 1
    assert run.emitted_at[0] >= account.recording_at  # type: ignore[operator]
    assert run.emitted_at[0] in run.looked_up_at
    assert len(run.looked_up_at) <= 5


def test_a_waiting_call_that_ended_within_the_overlap_is_looked_up_every_sync() -> None:
    # A long call: it started before the re-listed range but ended just now.
    long_call = Account(started=T - 3 * 3_600, ended=T - 60)

    run = sync_every_15_minutes(long_call, T, T + 3 * 3_600)

    within_the_overlap = list(range(T + EVERY, long_call.ended + OVERLAP + 1, EVERY))
    assert run.looked_up_at == within_the_overlap  # then nothing till end + 12 h


# Over the cap: nearest deadline first, none starves ----------------------------------


def waiting_calls_at_their_half_way_checkpoint(count: int) -> CallCursor:
    """`count` done calls waiting for their recording, each of which passed its half-way
    checkpoint since the last sync (T - 15 min); the later a call ended, the earlier it
    started, so that ordering by start is the opposite of ordering by deadline."""
    half_way = (LOOKBACK + 15 * 60) // 2
    ends = {i: T - half_way - i for i in range(count)}
    pending = {i: T - DAY + i for i in range(count)}
    return CallCursor(cursor=T - EVERY, pending=pending, since=T - EVERY - OVERLAP, ends=ends)


def still_waiting(call_id: int) -> Call:
    half_way = (LOOKBACK + 15 * 60) // 2
    return a_listed_call(call_id, T - DAY + call_id, ended_at=T - half_way - call_id).parsed()


def test_over_the_cap_the_lookups_nearest_their_deadline_go_first() -> None:
    asked: list[int] = []

    def lookup(call_id: int) -> Call | None:
        asked.append(call_id)
        return still_waiting(call_id)

    plan(
        [],
        old=waiting_calls_at_their_half_way_checkpoint(100),
        judge=recording_rules(T),
        lookup=lookup,
        overlap=OVERLAP,
        lookback=LOOKBACK,
        aircall_clock=True,
    )

    assert sorted(asked) == list(range(100 - MAX_LOOKUPS_PER_SYNC, 100))  # ended first


def test_lookups_over_the_cap_are_made_on_the_next_syncs_so_none_starves() -> None:
    state = waiting_calls_at_their_half_way_checkpoint(100)
    asked: list[int] = []

    def lookup(call_id: int) -> Call | None:
        asked.append(call_id)
        return still_waiting(call_id)

    for moment in (T, T + EVERY, T + 2 * EVERY, T + 3 * EVERY):
        sync = plan(
            [],
            old=state,
            sync_time=moment,
            window_start=moment - 14 * DAY,
            judge=recording_rules(moment),
            lookup=lookup,
            overlap=OVERLAP,
            lookback=LOOKBACK,
            aircall_clock=True,
        )
        state = finish(sync)
        assert sync.looked_up <= MAX_LOOKUPS_PER_SYNC

    assert sorted(asked) == list(range(100))  # each once, within four syncs
    assert state.overdue == frozenset()


# The state ------------------------------------------------------------------------------


def test_the_state_keeps_when_each_waiting_call_ended() -> None:
    account = Account(started=T - 120, ended=T - 60)
    first = plan([account.at(T)], judge=recording_rules(T), lookback=LOOKBACK)

    saved = json.loads(json.dumps(finish(first).to_state()))

    assert CallCursor.from_state(saved, "recordings").ends == {7: T - 60}


def test_a_day_of_waiting_calls_with_their_ends_stays_under_64_kib_at_the_largest_lookback() -> (
    None
):
    state = state_after_a_day(1440, with_recordings=False)

    entries = str(state["pending"]).split(",")
    done = [e for e in entries if len(e.split(":")) == 3]
    assert len(done) >= len(entries) - 40  # the newest calls, still in progress, have none
    assert len(json.dumps(state).encode()) < 64 * KIB


def test_on_aircalls_clock_a_quiet_sync_lists_only_the_overlap_before_the_sync_time() -> None:
    evening = [
        a_listed_call(i, T - 4 * 3_600 + 60 * i).with_recording().parsed() for i in range(50)
    ]
    state = finish(plan(evening, overlap=OVERLAP, lookback=LOOKBACK, aircall_clock=True))

    quiet = plan(
        evening,
        old=state,
        sync_time=T + EVERY,
        overlap=OVERLAP,
        lookback=LOOKBACK,
        aircall_clock=True,
    )

    assert quiet.listed == 0
    assert ids(quiet.emit) == []
    assert finish(quiet).lower_bound(T - 14 * DAY, OVERLAP) == T + EVERY - OVERLAP - 1
