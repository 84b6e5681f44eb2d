"""How one sync decides what it emits: the plan, made from the listing and the old
state (`sync/state.py`).

A sync at time T lists, newest first, only the calls in

    (since ...................................... newest listed call ....... T]
     |<------------ overlap ------------------->|
     re-listed: a call that shows up late with an earlier started_at is caught (not in
     `seen`), and a `calls` record that Aircall changed is emitted again (its print
     differs); nothing older is listed, whatever is pending

and handles a listed call if it is pending, or not in `seen`. In `calls`, a done call that
Aircall may still rewrite (for the lookback after it ended, at most 2 hours, with its
print kept in `seen`) is looked for in the listing, which then starts at `relist_from`
instead. Every pending call older than that (a done call waiting for its recording, a
call stuck in progress for hours, a file whose transfer failed) is not reached by
listing back to it: it is fetched by id (`GET /v1/calls/{id}`, or taken from the listing
when another stream's range reaches it), at most `MAX_LOOKUPS_PER_SYNC` a sync, the
nearest to its deadline first; a 404 means it is gone. When:

- a done call waiting for its recording (its end is in the state): every sync while it
  ended at most `overlap` ago (as if listed), then on the checkpoints of
  `sync.schedule.ask_times` from its end to its lookback's end, the last one at the
  lookback's end itself, where it is decided (`waiting_lookup_due`):

      end          end + overlap          end + lookback/2                 end + lookback
      |every sync-----|.........................ask..............................ask: decided

- a failing transfer: every sync for a day after its first failure; anything else (in
  progress): every sync for its first day, then at growing intervals (`lookup_due`);
- a lookup that was due but not made (over the cap, or it failed) is due on every sync
  after until it is made (`overdue` in the state, at most `MAX_OVERDUE_KEPT`), and a
  waiting call past its lookback is due until decided, so none starves.

`since` only moves forward, to `overlap + 1 s` before the sync time when that time is
Aircall's own (the `Date` of its answers), else before the newest call listed (never
past T), and it is saved in the state, so
- a config change between syncs (a larger lookback, so a wider overlap) never re-decides
  calls that an earlier sync pruned from `seen`: they are older than `since`;
- on Aircall's clock, a quiet sync (no call for longer than the overlap) lists one empty
  page; on the local clock, one that jumps ahead does not push `since` past the calls
  Aircall really has, and one that jumps back lists from `since` again; the cursor never
  moves backwards.

First sync (no cursor): the newest `first_sync_max_calls` ready calls are emitted; older
ready calls stay behind for good; calls not ready yet become pending. A ready call whose
file cannot be fetched on the first sync keeps its slot (it is retried later), so the
first sync never leads to more than the cap. A slot whose file turns out over the size
limit only when downloaded goes to the newest call left behind, imported one sync later
(see `SyncProgress.slot_freed`).

Calls are emitted oldest first, in batches that end between two `started_at` values,
so the state after each batch is a safe restart point (see `SyncProgress`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import (
    RETRY_FAILED_TRANSFERS_SECONDS,
    Readiness,
    Verdict,
    call_end,
)
from source_aircall_salescaling.sync.schedule import LAST_ASK_BEFORE_DEADLINE, ask_times, passed
from source_aircall_salescaling.sync.state import STARTED_AT_DRIFT_SECONDS, CallCursor

MIN_OVERLAP_SECONDS = 15 * 60
MAX_OVERLAP_SECONDS = 2 * 3600
# A pending call older than the re-listed range is fetched by id: every sync while it
# is younger than a day, then at intervals of a quarter of its age (at most 6 hours).
CHECK_EVERY_SYNC_SECONDS = 86_400
CHECK_EVERY_SECONDS = 15 * 60
MAX_CHECK_INTERVAL_SECONDS = 6 * 3600
MAX_LOOKUPS_PER_SYNC = 30
# Lookups due but not made that the state remembers, nearest deadline first: a call past
# its lookback is due until decided anyway, so this only bounds the state under overload.
MAX_OVERDUE_KEPT = 1_000
LEFT_THE_WINDOW = "left the import window before it was ready"


def relist_overlap(lookback_seconds: int) -> int:
    """How far before the newest listed call each sync looks again for calls that appeared
    late, or that Aircall rewrote."""
    return min(max(lookback_seconds, MIN_OVERLAP_SECONDS), MAX_OVERLAP_SECONDS)


def lookup_due(watched_since: int, previous_sync: int | None, sync_time: int) -> bool:
    """Whether a pending call outside the listing is fetched by id on this sync. Decided
    from the two sync times alone, so the state carries nothing more for it."""
    age = sync_time - watched_since
    if previous_sync is None or age < CHECK_EVERY_SYNC_SECONDS:
        return True
    interval = min(MAX_CHECK_INTERVAL_SECONDS, age // 4)
    interval -= interval % CHECK_EVERY_SECONDS
    return sync_time // interval != previous_sync // interval


def waiting_lookup_due(
    ended: int, lookback: int, overlap: int, previous_sync: int | None, sync_time: int
) -> bool:
    """Whether a done call waiting for its recording, out of the listing, is fetched by id
    on this sync: on every sync while it ended at most `overlap` ago (a short call would
    still be listed), then on the checkpoints of `ask_times` from its end to the end of
    its lookback, where the last one falls (so that what came in the lookback's last
    minutes is still seen), and on every sync after that until it is decided. Each
    checkpoint costs one lookup, made by the first sync at or after it; the previous sync
    is taken to have asked (one that could not keeps it `overdue`, see the module
    docstring)."""
    if previous_sync is None or sync_time - ended <= overlap or sync_time >= ended + lookback:
        return True
    times = ask_times(ended, ended + lookback + LAST_ASK_BEFORE_DEADLINE)
    return passed(times, sync_time) > passed(times, previous_sync)


class LookupFailed(Exception):
    """A call could not be fetched by id this time (not a 404): it stays pending."""


@dataclass(frozen=True)
class SyncBounds:
    """The limits of one sync, the same for every listed stream (read once by
    `SyncContext`, so `calls` and `recordings` agree)."""

    sync_time: int  # T
    window_start: int  # nothing that started at or before this is emitted
    overlap: int  # see `relist_overlap`
    watch_horizon: int  # first sync: once capped, paging stops this far before T
    first_sync_cap: int
    changes_for: int = 0  # `calls`: a done call is re-listed this long after it ended
    max_lookups: int = MAX_LOOKUPS_PER_SYNC  # pending calls fetched by id, per sync
    lookback: int = 0  # how long after its end a done call may still get its recording
    aircall_clock: bool = False  # sync_time is Aircall's (its `Date`): `since` follows it


@dataclass(frozen=True)
class StreamRules:
    """What a stream decides while a sync is planned. `judge` is cheap; `confirm` (a size
    probe, say) runs only on the first sync, where the cap counts calls that are really
    importable. `lookup` fetches a pending call by id (None: Aircall answered 404;
    `LookupFailed`: try again later); `fingerprint` (the `calls` stream) re-emits a
    record that changed."""

    judge: Callable[[Call], Verdict]
    confirm: Callable[[Call], Verdict]
    on_drop: Callable[[int, str], None]
    lookup: Callable[[int], Call | None] | None = None
    fingerprint: Callable[[Call], int] | None = None


@dataclass
class SyncPlan:
    """What one stream does in one sync: emit these, watch those, skip the rest."""

    old: CallCursor
    bounds: SyncBounds
    emit: list[Call] = field(default_factory=list)  # oldest first
    watch: dict[int, int] = field(default_factory=dict)  # pending after: id -> started_at
    skipped: list[tuple[Call, str]] = field(default_factory=list)
    settled: dict[int, int] = field(default_factory=dict)  # decided for good: id -> started_at
    left_behind: int = 0  # first sync: ready calls older than the cap
    left_behind_lower_bound: bool = False  # paging stopped before counting them all
    # First sync: the newest ready calls the cap left behind (id, started_at), newest
    # first, at most the cap: the ones a freed slot goes to (see `SyncProgress.slot_freed`).
    reserve: list[tuple[int, int]] = field(default_factory=list)
    listed: int = 0
    newest: int | None = None  # the newest started_at listed
    stopped_at: int | None = None  # first sync: paging stopped at a call of this second
    prints: dict[int, int] = field(default_factory=dict)  # `calls`: see `print_of`
    # `calls`: emitted calls whose print is not computed yet, and how to compute it.
    to_print: dict[int, Call] = field(default_factory=dict, repr=False)
    fingerprint: Callable[[Call], int] | None = field(default=None, repr=False)
    looked_up: int = 0  # calls fetched by id
    gone: list[int] = field(default_factory=list)  # pending calls Aircall answered 404 for
    ends: dict[int, int] = field(default_factory=dict)  # done calls watched -> their end
    overdue: set[int] = field(default_factory=set)  # lookups due but not made this sync
    failing: dict[int, int] = field(default_factory=dict)  # id -> first failed transfer
    changeable: dict[int, int] = field(default_factory=dict)  # `calls`: done, may change
    left_behind_calls: list[Call] = field(default_factory=list)  # first sync: the ones left
    waiting: list[Call] = field(default_factory=list)  # done calls judged waiting this sync

    def print_of(self, call_id: int) -> int | None:
        """`calls`: the print of an emitted call, computed when first asked. A state keeps
        the prints of the calls it keeps in `seen` only (the last minutes of the listing),
        while a first sync may emit thousands: computing each print up front was a tenth
        of the CPU of a 12,000-call read (docs/performance.md)."""
        if call_id not in self.prints:
            call = self.to_print.pop(call_id, None)
            if call is None or self.fingerprint is None:
                return None
            self.prints[call_id] = self.fingerprint(call)
        return self.prints[call_id]

    def next_since(self) -> int:
        """`since` of the state saved at the end of this sync (see the module docstring)."""
        old = self.old
        floor = (
            old.edge(self.bounds.overlap) if old.cursor is not None else self.bounds.window_start
        )
        if self.bounds.aircall_clock:
            anchor: int | None = self.bounds.sync_time
        elif self.newest is None:
            anchor = self.bounds.sync_time if old.cursor is None else None
        else:
            anchor = min(self.bounds.sync_time, self.newest)
        since = (
            floor
            if anchor is None
            else max(floor, anchor - self.bounds.overlap - STARTED_AT_DRIFT_SECONDS)
        )
        # Calls at or before the second where a first sync stopped paging were not looked
        # at: left behind, like the older ready calls.
        return max(since, self.bounds.window_start, self.stopped_at or self.bounds.window_start)


class _Planner:
    """The steps of `plan_sync`, sharing the plan being made and the first sync's slots."""

    def __init__(self, old: CallCursor, bounds: SyncBounds, rules: StreamRules) -> None:
        self.old, self.bounds, self.rules = old, bounds, rules
        self.plan = SyncPlan(old=old, bounds=bounds, fingerprint=rules.fingerprint)
        self.first_sync = old.cursor is None
        self.lower = old.lower_bound(bounds.window_start, bounds.overlap)
        self.slots = 0  # first sync: ready calls holding a slot of the cap (emitted or retried)
        self.listed: set[int] = set()

    def take_listing(self, calls_newest_first: Iterable[Call]) -> None:
        """Consider the listed calls down to the lower bound; a capped first sync stops
        paging at the watch horizon, as nothing older can still become ready."""
        plan, bounds = self.plan, self.bounds
        for call in calls_newest_first:
            if call.started_at <= self.lower:
                break
            if self.capped() and call.started_at < bounds.sync_time - bounds.watch_horizon:
                plan.left_behind_lower_bound = True
                plan.stopped_at = call.started_at
                break
            plan.listed += 1
            self.listed.add(call.id)
            plan.newest = (
                call.started_at if plan.newest is None else max(plan.newest, call.started_at)
            )
            self.consider(call)

    def capped(self) -> bool:
        return self.first_sync and self.slots >= self.bounds.first_sync_cap

    def look_up_pending(self) -> None:
        """Pending calls the listing did not bring: fetched by id when due (see the module
        docstring), the nearest to their deadline first, at most `max_lookups`; a due
        lookup not made is `overdue`, so due again on the next sync."""
        old, plan, rules, bounds = self.old, self.plan, self.rules, self.bounds
        due: list[tuple[int, int, int]] = []  # (deadline, call id, started_at)
        for call_id, started in old.pending.items():
            if call_id in self.listed:
                continue
            if started <= bounds.window_start:
                rules.on_drop(call_id, LEFT_THE_WINDOW)
                continue
            should_be_listed = started > self.lower
            if rules.lookup is None:
                if should_be_listed:
                    rules.on_drop(call_id, "no longer listed by Aircall")
                else:
                    plan.watch[call_id] = started
                continue
            if should_be_listed or call_id in old.overdue or self.lookup_due(call_id, started):
                due.append((self.deadline(call_id, started), call_id, started))
            else:
                plan.watch[call_id] = started
        lookup = rules.lookup
        for _, call_id, started in sorted(due):
            assert lookup is not None
            if plan.looked_up >= bounds.max_lookups:
                plan.watch[call_id] = started
                if len(plan.overdue) < MAX_OVERDUE_KEPT:
                    plan.overdue.add(call_id)
                continue
            plan.looked_up += 1
            try:
                fresh = lookup(call_id)
            except LookupFailed:
                plan.watch[call_id] = started
                plan.overdue.add(call_id)
                continue
            if fresh is None:
                plan.gone.append(call_id)
                rules.on_drop(call_id, "deleted in Aircall (GET /v1/calls/{id} answered 404)")
                continue
            self.consider(fresh)

    def lookup_due(self, call_id: int, started: int) -> bool:
        old, bounds = self.old, self.bounds
        failing = old.failing.get(call_id)
        ended = old.ends.get(call_id)
        if failing is None and ended is not None:
            return waiting_lookup_due(
                ended, bounds.lookback, bounds.overlap, old.cursor, bounds.sync_time
            )
        watched_since = failing if failing is not None else started
        return lookup_due(watched_since, old.cursor, bounds.sync_time)

    def deadline(self, call_id: int, started: int) -> int:
        """When watching a pending call ends: its lookback's end (waiting for its
        recording), a day after its first failed transfer, or when it leaves the window."""
        old, bounds = self.old, self.bounds
        if call_id in old.failing:
            return old.failing[call_id] + RETRY_FAILED_TRANSFERS_SECONDS
        if call_id in old.ends:
            return old.ends[call_id] + bounds.lookback
        return started + (bounds.sync_time - bounds.window_start)

    def consider(self, call: Call) -> None:
        self.watch_changes(call)
        if call.started_at <= self.bounds.window_start:
            if call.id in self.old.pending:
                self.rules.on_drop(call.id, LEFT_THE_WINDOW)
            return
        if not self.old.handles(call, self.bounds.overlap):
            self.re_emit_if_changed(call)
            return  # decided by an earlier sync
        verdict = self.rules.judge(call)
        waits_for_its_recording = call.is_done and verdict.readiness is Readiness.WAIT
        if verdict.readiness is Readiness.READY and self.first_sync:
            if self.capped():
                self.leave_behind(call)
                return
            verdict = self.rules.confirm(call)
            if verdict.readiness is not Readiness.SKIP:
                self.slots += 1  # a file that failed now is retried later: it keeps its slot
        self.record(call, verdict, waits_for_its_recording)

    def watch_changes(self, call: Call) -> None:
        """`calls`: a done call that Aircall may still rewrite stays re-listed."""
        ended = call.ended_at
        may_still_change = (
            ended is not None and ended + self.bounds.changes_for > self.bounds.sync_time
        )
        if self.rules.fingerprint is not None and call.is_done and may_still_change:
            self.plan.changeable[call.id] = call.started_at

    def re_emit_if_changed(self, call: Call) -> None:
        """`calls`: a record Aircall rewrote since it was emitted goes out again."""
        fingerprint, plan = self.rules.fingerprint, self.plan
        if fingerprint is None or call.id not in self.old.prints or not call.is_done:
            return
        changed = fingerprint(call)
        if (
            changed != self.old.prints[call.id]
            and self.rules.judge(call).readiness is Readiness.READY
        ):
            plan.emit.append(call)
            plan.prints[call.id] = changed
            plan.settled[call.id] = call.started_at

    def leave_behind(self, call: Call) -> None:
        plan = self.plan
        plan.left_behind += 1
        plan.left_behind_calls.append(call)
        plan.settled[call.id] = call.started_at
        if len(plan.reserve) < self.bounds.first_sync_cap:
            plan.reserve.append((call.id, call.started_at))

    def record(self, call: Call, verdict: Verdict, waits_for_its_recording: bool) -> None:
        plan = self.plan
        if verdict.readiness is Readiness.READY:
            plan.settled[call.id] = call.started_at
            plan.emit.append(call)
            if self.rules.fingerprint is not None:
                plan.to_print[call.id] = call  # its print: `SyncPlan.print_of`
        elif verdict.readiness is Readiness.WAIT:
            plan.watch[call.id] = call.started_at
            if waits_for_its_recording:
                plan.waiting.append(call)
                plan.ends[call.id] = call_end(call)  # its lookups are counted from here
        else:
            plan.settled[call.id] = call.started_at
            plan.skipped.append((call, verdict.reason or "not importable"))


def plan_sync(
    calls_newest_first: Iterable[Call], old: CallCursor, bounds: SyncBounds, rules: StreamRules
) -> SyncPlan:
    """Decide what a sync emits (see the module docstring): the listed calls first, then
    the pending calls the listing did not bring; emitted oldest first, so that batches
    are restart points."""
    planner = _Planner(old, bounds, rules)
    planner.take_listing(calls_newest_first)
    planner.look_up_pending()
    planner.plan.emit.sort(key=lambda c: (c.started_at, c.id))
    return planner.plan


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
