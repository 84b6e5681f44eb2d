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
  ended at most `overlap` ago (as if listed), then on every 4th sync (its quarter's turn,
  `sync/recheck.py`) and on the checkpoints of `sync.schedule.ask_times` from its end to
  its lookback's end, the last one at the lookback's end itself, where it is decided
  (`waiting_lookup_due`); the cap is then a quarter of the waiting calls where more wait:

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

from collections.abc import Iterable, Iterator

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import (
    RETRY_FAILED_TRANSFERS_SECONDS,
    Readiness,
    Verdict,
    call_end,
)
from source_aircall_salescaling.sync.planned import LookupFailed, StreamRules, SyncBounds, SyncPlan
from source_aircall_salescaling.sync.recheck import (
    MAX_LOOKUPS_PER_SYNC,
    MAX_OVERDUE_KEPT,
    MAX_OVERLAP_SECONDS,
    lookup_due,
    lookups_allowed,
    relist_overlap,
    turn_due,
    waiting_lookup_due,
)
from source_aircall_salescaling.sync.state import CallCursor

# Older names of the plan's parts, kept importable from here.
__all__ = [
    "MAX_LOOKUPS_PER_SYNC",
    "MAX_OVERLAP_SECONDS",
    "LookupFailed",
    "StreamRules",
    "SyncBounds",
    "SyncPlan",
    "batches",
    "lookup_due",
    "plan_sync",
    "relist_overlap",
]

LEFT_THE_WINDOW = "left the import window before it was ready"


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
        allowed = lookups_allowed(bounds.max_lookups, len(old.ends))
        for _, call_id, started in sorted(due):
            assert lookup is not None
            if plan.looked_up >= allowed:
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
            # Every 4th sync at least (its quarter's turn), and on the checkpoints.
            turn = bounds.turn is not None and turn_due(call_id, bounds.turn)
            return turn or waiting_lookup_due(
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
