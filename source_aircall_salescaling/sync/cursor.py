"""Which calls a sync emits, and the small state that makes a sequence of syncs exact.

Aircall calls have no `updated_at`: a call appears at `started_at` while it rings, is
`done` some seconds after it ends, and gets its recording minutes later. A cursor on
`started_at` alone would lose every call that was still in progress at a sync. So the
state of `calls` and `recordings` is

    {"cursor": "2026-11-23T10:15:00Z",            the previous sync's time T
     "pending": {"2100000123": 1763892000},       calls seen not ready yet -> started_at
     "seen": {"2100000130": 1763891900, ...}}     calls handled (emitted, or skipped for
                                                  good) that started in the overlap

A sync at time T lists, newest first, the calls in

    (lower_bound ......... cursor - overlap ........ cursor ................... T]
     oldest pending - 1s   |<------- overlap ------->| new calls
                           re-listed: a call that shows up late in Aircall with an
                           earlier started_at is still caught, and `seen` keeps the
                           calls handled there from coming back

and handles a listed call if it is pending, or started after `cursor - overlap` and
is not in `seen`. `lower_bound` reaches back to the oldest pending call (less one
second: Aircall was seen moving `started_at` by +1 s when a call settles), never past
the import window. The overlap is the lookback, kept between 15 minutes and 2 hours,
so `seen` stays small (about 800 ids at 10,000 calls a day).

First sync (no cursor): the newest `first_sync_max_calls` ready calls are emitted; older
ready calls stay behind for good (they go to `seen` while in the overlap); calls not
ready yet become pending, so they still arrive once they are ready.

Calls are emitted oldest first, in batches that end between two `started_at` values,
so the state after each batch is a safe restart point (see `SyncProgress`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from source_aircall_salescaling.aircall.models import Call, iso_utc
from source_aircall_salescaling.config import ConfigError

# A call still "in progress" this long after it started is stuck in Aircall; watching it
# would mean re-listing that many hours on every sync, so it is dropped (and logged).
STALE_IN_PROGRESS_SECONDS = 6 * 3600
STARTED_AT_DRIFT_SECONDS = 1
MIN_OVERLAP_SECONDS = 15 * 60
MAX_OVERLAP_SECONDS = 2 * 3600


def relist_overlap(lookback_seconds: int) -> int:
    """How far before the cursor each sync looks again for calls that appeared late."""
    return min(max(lookback_seconds, MIN_OVERLAP_SECONDS), MAX_OVERLAP_SECONDS)


class Readiness(Enum):
    READY = "ready"  # emit now
    WAIT = "wait"  # not ready yet, may become ready: keep watching
    SKIP = "skip"  # never imported (the reason says why)


@dataclass(frozen=True)
class Verdict:
    readiness: Readiness
    reason: str | None = None

    @staticmethod
    def ready() -> Verdict:
        return Verdict(Readiness.READY)

    @staticmethod
    def wait(reason: str) -> Verdict:
        return Verdict(Readiness.WAIT, reason)

    @staticmethod
    def skip(reason: str) -> Verdict:
        return Verdict(Readiness.SKIP, reason)


@dataclass(frozen=True)
class CallCursor:
    """The state of the `calls` and `recordings` streams (see the module docstring)."""

    cursor: int | None = None
    pending: Mapping[int, int] = field(default_factory=dict)
    seen: Mapping[int, int] = field(default_factory=dict)

    def lower_bound(self, window_start: int, overlap: int) -> int:
        """Listing starts after this moment (exclusive, like Aircall's `from`)."""
        if self.cursor is None:
            return window_start
        oldest = min(self.pending.values(), default=self.cursor) - STARTED_AT_DRIFT_SECONDS
        return max(window_start, min(self.cursor - overlap, oldest))

    def handles(self, call: Call, overlap: int) -> bool:
        """Whether this sync decides about `call` (else an earlier sync already did)."""
        if self.cursor is None or call.id in self.pending:
            return True
        return call.id not in self.seen and call.started_at > self.cursor - overlap

    def to_state(self) -> dict[str, Any]:
        if self.cursor is None:
            return {}
        return {
            "cursor": iso_utc(self.cursor),
            "pending": {str(key): value for key, value in sorted(self.pending.items())},
            "seen": {str(key): value for key, value in sorted(self.seen.items())},
        }

    @staticmethod
    def from_state(state: Mapping[str, Any] | None, stream: str) -> CallCursor:
        """Read a state; one this connector did not write fails naming the stream."""
        if not state:
            return CallCursor()
        try:
            raw_cursor = state["cursor"]
            moment = datetime.strptime(raw_cursor, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            pending = {int(k): int(v) for k, v in dict(state.get("pending", {})).items()}
            seen = {int(k): int(v) for k, v in dict(state.get("seen", {})).items()}
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(
                f"The saved state of stream '{stream}' cannot be read ({error!r}); reset the "
                "stream in Airbyte to start it again."
            ) from None
        return CallCursor(int(moment.timestamp()), pending, seen)


@dataclass
class SyncPlan:
    """What one stream does in one sync: emit these, watch those, skip the rest."""

    old: CallCursor
    sync_time: int
    overlap: int
    emit: list[Call]  # oldest first
    watch: dict[int, int]  # pending after this sync: call id -> started_at
    skipped: list[tuple[Call, str]]
    settled: dict[int, int] = field(default_factory=dict)  # decided for good: id -> started_at
    left_behind: int = 0  # first sync: ready calls older than the cap
    listed: int = 0


def plan_sync(
    calls_newest_first: Iterable[Call],
    old: CallCursor,
    sync_time: int,
    window_start: int,
    first_sync_cap: int,
    judge: Callable[[Call], Verdict],
    confirm: Callable[[Call], Verdict],
    watch_horizon: int,
    overlap: int,
    on_drop: Callable[[int, str], None],
) -> SyncPlan:
    """Decide what a sync emits. `judge` is cheap; `confirm` (a size probe, say) runs
    only on the first sync, where the cap counts calls that are really importable."""
    first_sync = old.cursor is None
    lower = old.lower_bound(window_start, overlap)
    plan = SyncPlan(old=old, sync_time=sync_time, overlap=overlap, emit=[], watch={}, skipped=[])
    seen: set[int] = set()
    for call in calls_newest_first:
        if call.started_at <= lower:
            break
        capped = first_sync and len(plan.emit) >= first_sync_cap
        if capped and call.started_at < sync_time - watch_horizon:
            break  # nothing older can still become ready: stop paging
        plan.listed += 1
        seen.add(call.id)
        if call.started_at <= window_start:
            if call.id in old.pending:
                on_drop(call.id, "left the import window before it was ready")
            continue
        if not old.handles(call, overlap):
            continue  # decided by an earlier sync
        verdict = judge(call)
        if verdict.readiness is Readiness.READY and first_sync:
            if len(plan.emit) >= first_sync_cap:
                plan.left_behind += 1
                plan.settled[call.id] = call.started_at
                continue
            verdict = confirm(call)
        if verdict.readiness is not Readiness.WAIT:
            plan.settled[call.id] = call.started_at
        if verdict.readiness is Readiness.READY:
            plan.emit.append(call)
        elif verdict.readiness is Readiness.WAIT:
            if call.started_at < sync_time - STALE_IN_PROGRESS_SECONDS and call.ended_at is None:
                on_drop(call.id, "still in progress in Aircall after 6 hours")
                plan.settled[call.id] = call.started_at
            else:
                plan.watch[call.id] = call.started_at
        else:
            plan.skipped.append((call, verdict.reason or "not importable"))
    for call_id, started in old.pending.items():
        if call_id in seen or call_id in plan.watch:
            continue
        if started <= window_start:
            on_drop(call_id, "left the import window before it was ready")
        else:
            on_drop(call_id, "no longer listed by Aircall")
    plan.emit.reverse()  # oldest first: each batch is then a restart point
    return plan


def batches(calls: list[Call], size: int) -> Iterator[list[Call]]:
    """Cut `calls` (oldest first) into batches of about `size` that never split a second."""
    batch: list[Call] = []
    for call in calls:
        if len(batch) >= size and call.started_at != batch[-1].started_at:
            yield batch
            batch = []
        batch.append(call)
    if batch:
        yield batch


@dataclass
class SyncProgress:
    """The state to save after each batch, and at the end of the sync."""

    plan: SyncPlan
    handled: list[Call] = field(default_factory=list)
    emitted_ids: set[int] = field(default_factory=set)
    skipped_ids: set[int] = field(default_factory=set)
    deferred: dict[int, int] = field(default_factory=dict)
    finished: bool = False
    to_emit: set[int] = field(default_factory=set)

    _settled_times: list[int] = field(default_factory=list, init=False, repr=False)
    _settled_ids: list[int] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.to_emit = {call.id for call in self.plan.emit}
        # `state()` may run after every record (the CDK reads the state that often); it
        # needs the settled calls of the overlap only, found by bisection, so that a
        # sync of n calls costs n log n, not n squared.
        by_time = sorted((started, call_id) for call_id, started in self.plan.settled.items())
        self._settled_times = [started for started, _ in by_time]
        self._settled_ids = [call_id for _, call_id in by_time]

    def emitted(self, call: Call) -> None:
        self.handled.append(call)
        self.emitted_ids.add(call.id)

    def skipped(self, call: Call) -> None:
        self.handled.append(call)
        self.skipped_ids.add(call.id)

    def defer(self, call: Call) -> None:
        """Not importable now, but it may be on a later sync (watched like a pending call)."""
        self.handled.append(call)
        self.deferred[call.id] = call.started_at

    def decided(self, call_id: int) -> bool:
        return call_id in self.emitted_ids or call_id in self.skipped_ids

    def state(self) -> CallCursor:
        """Every call that started at or before the returned cursor is decided (in `seen`
        while in the overlap) or pending; so a restart from here loses nothing and
        emits nothing twice."""
        plan, old = self.plan, self.plan.old
        if self.finished:
            cursor = plan.sync_time
            pending = {**plan.watch, **self.deferred}
        else:
            if not self.handled:
                return old
            last = self.handled[-1].started_at
            cursor = last if old.cursor is None else max(old.cursor, last)
            pending = {k: v for k, v in old.pending.items() if k not in self.emitted_ids}
            pending.update((k, v) for k, v in plan.watch.items() if v <= cursor)
            pending.update(self.deferred)
        # One second more than the overlap: a call on its edge may still move by +1 s.
        since = cursor - plan.overlap - STARTED_AT_DRIFT_SECONDS
        seen = {k: v for k, v in old.seen.items() if v > since}
        low = bisect_right(self._settled_times, since)
        high = bisect_right(self._settled_times, cursor, lo=low)
        seen.update(
            (k, v)
            for k, v in zip(self._settled_ids[low:high], self._settled_times[low:high], strict=True)
            if k not in pending and (k not in self.to_emit or self.decided(k))
        )
        return CallCursor(cursor, pending, seen)
