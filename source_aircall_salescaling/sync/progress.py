"""Which state a sync saves after each batch of records, and at its end.

Batches go oldest first and never split a second, so each state saved is a restart
point: a sync killed after any batch and run again from its last state emits what is
left, and nothing twice (the timelines are in `SyncProgress.state`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import call_end
from source_aircall_salescaling.sync.planned import SyncPlan
from source_aircall_salescaling.sync.state import STARTED_AT_DRIFT_SECONDS, CallCursor


@dataclass
class SyncProgress:
    """The state to save after each batch, and at the end of the sync."""

    plan: SyncPlan
    handled: list[Call] = field(default_factory=list)
    emitted_ids: set[int] = field(default_factory=set)
    skipped_ids: set[int] = field(default_factory=set)
    deferred: dict[int, int] = field(default_factory=dict)
    deferred_ends: dict[int, int] = field(default_factory=dict)  # deferred done calls' ends
    finished: bool = False
    to_emit: set[int] = field(default_factory=set)

    _settled_times: list[int] = field(default_factory=list, init=False, repr=False)
    _settled_ids: list[int] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.to_emit = {call.id for call in self.plan.emit}
        # `state()` may run after every batch; it needs the settled calls after a moment
        # only, found by bisection, so that a sync of n calls costs n log n, not n squared.
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
        if call.is_done:
            self.deferred_ends[call.id] = call_end(call)

    def slot_freed(self) -> None:
        """First sync: a call that held a slot of the cap turned out not importable when
        its file came (over the size limit although its probe was not), so the slot goes
        to the newest ready call the cap left behind. That call is older than every call
        emitted, and emission goes oldest first so that each saved state is a restart
        point: it cannot go out now. It becomes pending instead, and the next sync imports
        it (one sync later). It is marked as watched from now (`failing`), so it is
        fetched by id on every sync of the next day however old it is, like a retried
        transfer. The first sync thus never leads to more than the cap. Only calls the
        first sync listed can take a slot: once capped, it stops paging past the watch
        horizon, so with no ready call left behind within it the slot stays unused."""
        if not self.plan.reserve:
            return
        call_id, started = self.plan.reserve.pop(0)
        self.deferred[call_id] = started
        self.plan.failing.setdefault(call_id, self.plan.bounds.sync_time)
        self.plan.left_behind -= 1

    def decided(self, call_id: int) -> bool:
        return call_id in self.emitted_ids or call_id in self.skipped_ids

    def _settled_after(
        self, since: int, pending: Mapping[int, int], until: int | None = None
    ) -> Iterator[tuple[int, int]]:
        """Settled calls with since < started_at (<= until), decided or not to emit."""
        times = self._settled_times
        low = bisect_right(times, since)
        high = len(times) if until is None else bisect_right(times, until)
        for call_id, started in zip(
            self._settled_ids[low:high], self._settled_times[low:high], strict=True
        ):
            if call_id not in pending and (call_id not in self.to_emit or self.decided(call_id)):
                yield call_id, started

    def _prints(self, seen: Mapping[int, int]) -> dict[int, int]:
        # Walks `seen` (the calls of the overlap, after each batch of a first sync a few
        # hundred), not every print of the sync: a state after each batch stays linear.
        old, emitted = self.plan.old.prints, self.emitted_ids
        prints: dict[int, int] = {}
        for k in seen:
            current = self.plan.print_of(k) if k in emitted else None
            if current is not None:
                prints[k] = current
            elif k in old:
                prints[k] = old[k]
        return prints

    def state(self) -> CallCursor:
        """The state to save now: every call that started after its `since` is in `seen`
        (decided), pending, or not decided yet, so a restart from it loses nothing and
        emits nothing twice. Plus when each pending call's transfers started failing.

        After batch k of a later sync (emission goes oldest first):

            since (the old one)          a call of batch k                       T
            |--- seen: old + decided ------|--- planned, not emitted: undecided ---|
            the old cursor is kept: a restart plans the same sync again

        After batch k of a first sync (no old state):

            window start                  last call handled                     T
            |... decided: emitted, left behind |--- not handled yet: undecided ---|
                                 since = last - 1 s, cursor = last: the rerun is a
                                 later sync that lists from here (pending kept)

        At the end: cursor = T (never back), `since` = `SyncPlan.next_since`.

        Whatever the moment, a pending done call keeps its end (its lookups are counted
        from it), and a lookup due but not made stays `overdue`."""
        plan, old = self.plan, self.plan.old
        saved = self._state()
        known = {**old.failing, **plan.failing}
        failing = {k: v for k, v in known.items() if k in saved.pending}
        known_ends = {**old.ends, **plan.ends, **self.deferred_ends}
        ends = {k: known_ends[k] for k in saved.pending if k in known_ends}
        # A restart from a state saved mid-sync plans the same sync again: what was
        # overdue before it still is.
        owed = plan.overdue if self.finished else old.overdue | plan.overdue
        overdue = frozenset(k for k in owed if k in saved.pending)
        if (failing, ends, overdue) == (saved.failing, saved.ends, saved.overdue):
            return saved
        return replace(saved, failing=failing, ends=ends, overdue=overdue)

    def _state(self) -> CallCursor:
        """`state` without `failing`, `ends` and `overdue`."""
        if self.finished:
            return self._final_state()
        if not self.handled:
            return self.plan.old
        if self.plan.old.cursor is None:
            return self._first_sync_so_far()
        return self._later_sync_so_far()

    def _final_state(self) -> CallCursor:
        plan, old = self.plan, self.plan.old
        since = plan.next_since()
        cursor = (
            plan.bounds.sync_time if old.cursor is None else max(old.cursor, plan.bounds.sync_time)
        )
        pending = {**plan.watch, **self.deferred}
        seen = {k: v for k, v in old.seen.items() if v > since and k not in pending}
        seen.update(self._settled_after(since, pending))
        # `calls`: a done call that Aircall may still rewrite stays in `seen` with its
        # print, and re-listed, even once it started before `since`.
        decided = {**old.seen, **dict(self._settled_after(-1, pending))}
        watched = {k: v for k, v in plan.changeable.items() if k in decided}
        seen.update((k, decided[k]) for k in watched)
        # A done call waiting for its recording is fetched by id instead (`sync/plan.py`).
        starts = list(watched.values())
        relist = min(starts) - STARTED_AT_DRIFT_SECONDS if starts else None
        return CallCursor(cursor, pending, seen, since, self._prints(seen), relist)

    def _first_sync_so_far(self) -> CallCursor:
        """A first sync cut short: every call up to the last one handled is decided or
        pending (batches never split a second); the calls after it are not decided. The
        calls of the second where paging stopped were not all listed: they are left
        behind, as in the final state (`SyncPlan.next_since`)."""
        plan = self.plan
        last = self.handled[-1].started_at
        since = max(last - STARTED_AT_DRIFT_SECONDS, plan.stopped_at or plan.bounds.window_start)
        pending = {k: v for k, v in plan.watch.items() if v <= last}
        pending.update(self.deferred)
        seen = dict(self._settled_after(since, pending, until=last))
        waiting = [v for k, v in pending.items() if k in plan.watch]
        return CallCursor(
            last,
            pending,
            seen,
            since,
            self._prints(seen),
            min(waiting) - STARTED_AT_DRIFT_SECONDS if waiting else None,
        )

    def _later_sync_so_far(self) -> CallCursor:
        plan, old = self.plan, self.plan.old
        since = old.edge(plan.bounds.overlap)
        pending = {k: v for k, v in old.pending.items() if not self.decided(k)}
        pending.update(self.deferred)
        seen = {k: v for k, v in old.seen.items() if k not in pending}
        seen.update(self._settled_after(-1, pending))
        return CallCursor(old.cursor, pending, seen, since, self._prints(seen), old.relist_from)
