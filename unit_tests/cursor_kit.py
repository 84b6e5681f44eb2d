"""What the sync planning tests share: the sync time, calls as listed, and `plan_sync` and
`SyncProgress` driven with the streams' defaults (see `sync/plan.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import STALE_IN_PROGRESS_SECONDS, Verdict
from source_aircall_salescaling.sync.plan import (
    MAX_LOOKUPS_PER_SYNC,
    StreamRules,
    SyncBounds,
    SyncPlan,
    plan_sync,
)
from source_aircall_salescaling.sync.progress import SyncProgress
from source_aircall_salescaling.sync.state import CallCursor
from tests.builders import CallBuilder, a_call

T = 1_800_000_000  # the sync time
DAY = 86_400
WINDOW_START = T - 14 * 86_400
HORIZON = STALE_IN_PROGRESS_SECONDS + 3_600  # what the streams pass: stale + lookback
OVERLAP = 1_800  # how far before the previous sync's time a sync lists again


def a_listed_call(
    call_id: int, started_at: int, done: bool = True, ended_at: int | None = None
) -> CallBuilder:
    """A call as the planning tests list it: answered a second after it started and,
    once done, lasting 60 s (ended 60 s after it started unless `ended_at` says)."""
    listed = a_call(call_id).started(started_at).answered(started_at + 1)
    if not done:
        return listed.in_progress()
    return listed.ended(ended_at if ended_at is not None else started_at + 60).lasting(60)


def call(call_id: int, started_at: int, done: bool = True, ended_at: int | None = None) -> Call:
    return a_listed_call(call_id, started_at, done, ended_at).parsed()


def newest_first(calls: Iterable[Call]) -> list[Call]:
    return sorted(calls, key=lambda c: (c.started_at, c.id), reverse=True)


def listed_at(calls: list[Call], sync_time: int) -> list[Call]:
    """What `GET /v1/calls` lists at `sync_time`, newest first: no call from the future."""
    return newest_first(c for c in calls if c.started_at <= sync_time)


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
    lookback: int = 3_600,
    aircall_clock: bool = False,
    max_lookups: int = MAX_LOOKUPS_PER_SYNC,
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
            max_lookups=max_lookups,
            lookback=lookback,
            aircall_clock=aircall_clock,
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


# An incremental sync
CURSOR = T - 3_600  # the previous sync's time
EDGE = CURSOR - OVERLAP  # calls that started after this are listed again


def waiting_for_recording(c: Call) -> Verdict:
    """`recordings` in short: a done call is ready once its recording came."""
    if not c.is_done:
        return Verdict.wait("in progress")
    return Verdict.ready() if c.recording_url else Verdict.wait("recording not ready yet")


def by_id(*calls: Call) -> Callable[[int], Call | None]:
    """`GET /v1/calls/{id}` over these calls: None (a 404) for any other id."""
    known = {c.id: c for c in calls}
    return known.get
