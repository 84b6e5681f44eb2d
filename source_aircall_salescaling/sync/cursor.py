"""Which calls a sync emits, and the small state that makes a sequence of syncs exact.

Aircall calls have no `updated_at`: a call appears at `started_at` while it rings, is
`done` some seconds after it ends, gets its recording minutes later, and Aircall may
still rewrite it (`duration`, `started_at` +1 s) after that. So the state of `calls` and
`recordings` is

    {"cursor": "2026-11-23T10:15:00Z",         the newest sync time so far (never back)
     "since": 1763888100,                      `seen` knows every call decided after this
     "pending": {"2100000123": 1763892000},    calls not ready yet -> started_at
     "seen": {"2100000130": 1763891900, ...},  calls decided (emitted, or skipped for
                                               good) that started after `since`
     "prints": {"2100000130": 88412, ...},     `calls` only: a short hash of the record
                                               emitted, for the calls in `seen`
     "relist_from": 1763887000,                the oldest done call waiting for its
                                               recording, or (`calls`) that ended within
                                               the lookback, - 1 s, when there is one
     "failing": {"2100000123": 1763893000}}    `recordings`: pending calls whose transfer
                                               failed -> first failure (given up a day on)

(`pending` and `seen` are saved packed, as text, once they hold more than `PACK_OVER`
calls: see `pack_calls`.)

A sync at time T lists, newest first, only the calls in

    (since ...................................... newest listed call ....... T]
     |<------------ overlap ------------------->|
     re-listed: a call that shows up late with an earlier started_at is caught (not in
     `seen`), and a `calls` record that Aircall changed is emitted again (its print
     differs); nothing older is listed, whatever is pending

and handles a listed call if it is pending, or not in `seen`. A done call waiting for
its recording (for at most `lookback_minutes`), and in `calls` a done call that Aircall
may still rewrite (for the lookback after it ended, at most 2 hours, with its print kept
in `seen`), is looked for in the listing, which then starts at `relist_from` instead.
Any other pending call older than `since` (stuck in progress for hours, or a file whose
transfer failed) is not reached by listing back to it: it is fetched by id
(`GET /v1/calls/{id}`), every sync for its first day, then at growing intervals, at most
`MAX_LOOKUPS_PER_SYNC` a sync; a 404 means it is gone.

`since` only moves forward, to `overlap + 1 s` before the newest call listed (never
past T), and it is saved in the state, so
- a config change between syncs (a larger lookback, so a wider overlap) never re-decides
  calls that an earlier sync pruned from `seen`: they are older than `since`;
- a clock that jumps ahead does not push `since` past the calls Aircall really has, and
  a clock that jumps back lists from `since` again; the cursor never moves backwards.

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

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from source_aircall_salescaling.aircall.models import Call, iso_utc
from source_aircall_salescaling.config import ConfigError
from source_aircall_salescaling.import_rules import Readiness, Verdict

STARTED_AT_DRIFT_SECONDS = 1
MIN_OVERLAP_SECONDS = 15 * 60
MAX_OVERLAP_SECONDS = 2 * 3600
# A pending call older than the re-listed range is fetched by id: every sync while it
# is younger than a day, then at intervals of a quarter of its age (at most 6 hours).
CHECK_EVERY_SYNC_SECONDS = 86_400
CHECK_EVERY_SECONDS = 15 * 60
MAX_CHECK_INTERVAL_SECONDS = 6 * 3600
MAX_LOOKUPS_PER_SYNC = 30
# A `pending` or `seen` map larger than this is saved packed (see `pack_calls`).
PACK_OVER = 400


def pack_calls(entries: Mapping[int, int]) -> str:
    """`{call id: started_at}` as short text, for the states that hold thousands of calls
    (10,000 calls a day waiting for their recording with a 24-hour lookback): sorted by
    id, each entry is the difference of its id and of its started_at from the entry
    before, in base 36, `id:started` joined by commas. About 4 to 7 bytes a call instead
    of 26 as JSON."""
    parts: list[str] = []
    previous_id = previous_started = 0
    for call_id, started in sorted(entries.items()):
        parts.append(f"{_base36(call_id - previous_id)}:{_base36(started - previous_started)}")
        previous_id, previous_started = call_id, started
    return ",".join(parts)


def unpack_calls(text: str) -> dict[int, int]:
    """The inverse of `pack_calls`; text it did not write raises ValueError."""
    entries: dict[int, int] = {}
    call_id = started = 0
    for part in text.split(",") if text else []:
        id_step, started_step = part.split(":")
        call_id += int(id_step, 36)
        started += int(started_step, 36)
        entries[call_id] = started
    return entries


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    sign, number = ("-", -number) if number < 0 else ("", number)
    out = ""
    while True:
        number, digit = divmod(number, 36)
        out = digits[digit] + out
        if number == 0:
            return sign + out


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


class LookupFailed(Exception):
    """A call could not be fetched by id this time (not a 404): it stays pending."""


@dataclass(frozen=True)
class CallCursor:
    """The state of the `calls` and `recordings` streams (see the module docstring)."""

    cursor: int | None = None
    pending: Mapping[int, int] = field(default_factory=dict)
    seen: Mapping[int, int] = field(default_factory=dict)
    since: int | None = None  # None: a state written before `since` was saved
    prints: Mapping[int, int] = field(default_factory=dict)
    relist_from: int | None = None  # the oldest done call waiting for its recording, - 1 s
    failing: Mapping[int, int] = field(default_factory=dict)  # pending id -> first failure

    def edge(self, overlap: int) -> int:
        """`seen` knows every call decided that started after this moment."""
        assert self.cursor is not None
        return self.since if self.since is not None else self.cursor - overlap

    def lower_bound(self, window_start: int, overlap: int) -> int:
        """Listing starts after this moment (exclusive, like Aircall's `from`)."""
        if self.cursor is None:
            return window_start
        edge = self.edge(overlap)
        return max(window_start, min(edge, self.relist_from if self.relist_from else edge))

    def handles(self, call: Call, overlap: int) -> bool:
        """Whether this sync decides about `call` (else an earlier sync already did)."""
        if self.cursor is None or call.id in self.pending:
            return True
        return call.id not in self.seen and call.started_at > self.edge(overlap)

    def to_state(self) -> dict[str, Any]:
        if self.cursor is None:
            return {}
        state: dict[str, Any] = {"cursor": iso_utc(self.cursor)}
        if self.since is not None:
            state["since"] = self.since
        state["pending"] = _calls_state(self.pending)
        state["seen"] = _calls_state(self.seen)
        if self.prints:
            state["prints"] = {str(key): value for key, value in sorted(self.prints.items())}
        if self.relist_from is not None:
            state["relist_from"] = self.relist_from
        if self.failing:
            state["failing"] = {str(key): value for key, value in sorted(self.failing.items())}
        return state

    @staticmethod
    def from_state(state: Mapping[str, Any] | None, stream: str) -> CallCursor:
        """Read a state; one this connector did not write fails naming the stream."""
        if not state:
            return CallCursor()
        try:
            raw_cursor = state["cursor"]
            moment = datetime.strptime(raw_cursor, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            pending = _calls_from_state(state.get("pending", {}))
            seen = _calls_from_state(state.get("seen", {}))
            prints = {int(k): int(v) for k, v in dict(state.get("prints", {})).items()}
            failing = {int(k): int(v) for k, v in dict(state.get("failing", {})).items()}
            raw_since, relist_from = state.get("since"), state.get("relist_from")
            for name, value in (("since", raw_since), ("relist_from", relist_from)):
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    raise TypeError(f"'{name}' is {value!r}")
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(
                f"The saved state of stream '{stream}' cannot be read ({error!r}); reset the "
                "stream in Airbyte to start it again."
            ) from None
        moment_seconds = int(moment.timestamp())
        return CallCursor(moment_seconds, pending, seen, raw_since, prints, relist_from, failing)


def _calls_state(entries: Mapping[int, int]) -> dict[str, int] | str:
    if len(entries) > PACK_OVER:
        return pack_calls(entries)
    return {str(key): value for key, value in sorted(entries.items())}


def _calls_from_state(value: Any) -> dict[int, int]:
    if isinstance(value, str):
        return unpack_calls(value)
    return {int(k): int(v) for k, v in dict(value).items()}


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
    left_behind_lower_bound: bool = False  # paging stopped before counting them all
    # First sync: the newest ready calls the cap left behind (id, started_at), newest
    # first, at most the cap: the ones a freed slot goes to (see `SyncProgress.slot_freed`).
    reserve: list[tuple[int, int]] = field(default_factory=list)
    listed: int = 0
    newest: int | None = None  # the newest started_at listed
    stopped_at: int | None = None  # first sync: paging stopped at a call of this second
    window_start: int = 0
    prints: dict[int, int] = field(default_factory=dict)  # `calls`: print of each emitted
    looked_up: int = 0  # calls fetched by id
    gone: list[int] = field(default_factory=list)  # pending calls Aircall answered 404 for
    waiting_from: int | None = None  # the oldest done call watched for its recording
    failing: dict[int, int] = field(default_factory=dict)  # id -> first failed transfer
    changeable: dict[int, int] = field(default_factory=dict)  # `calls`: done, may change

    def next_since(self) -> int:
        """`since` of the state saved at the end of this sync (see the module docstring)."""
        old = self.old
        floor = old.edge(self.overlap) if old.cursor is not None else self.window_start
        if self.newest is None:
            anchor = self.sync_time if old.cursor is None else None
        else:
            anchor = min(self.sync_time, self.newest)
        since = (
            floor
            if anchor is None
            else max(floor, anchor - self.overlap - STARTED_AT_DRIFT_SECONDS)
        )
        # Calls at or before the second where a first sync stopped paging were not looked
        # at: left behind, like the older ready calls.
        return max(since, self.window_start, self.stopped_at or self.window_start)


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
    lookup: Callable[[int], Call | None] | None = None,
    fingerprint: Callable[[Call], int] | None = None,
    max_lookups: int = MAX_LOOKUPS_PER_SYNC,
    changes_for: int = 0,
) -> SyncPlan:
    """Decide what a sync emits. `judge` is cheap; `confirm` (a size probe, say) runs
    only on the first sync, where the cap counts calls that are really importable.
    `lookup` fetches a pending call by id (None: Aircall answered 404; `LookupFailed`:
    try again later); `fingerprint` (the `calls` stream) re-emits a changed record, and
    a done call stays re-listed (`relist_from`) for `changes_for` seconds after it ended,
    however long before it started."""
    first_sync = old.cursor is None
    lower = old.lower_bound(window_start, overlap)
    plan = SyncPlan(
        old=old,
        sync_time=sync_time,
        overlap=overlap,
        emit=[],
        watch={},
        skipped=[],
        window_start=window_start,
    )
    slots = 0  # first sync: ready calls holding a slot of the cap (emitted or retried)

    def watch_changes(call: Call) -> None:
        ended = call.ended_at
        may_still_change = ended is not None and ended + changes_for > sync_time
        if fingerprint is not None and call.is_done and may_still_change:
            plan.changeable[call.id] = call.started_at

    def consider(call: Call) -> None:
        nonlocal slots
        watch_changes(call)
        if call.started_at <= window_start:
            if call.id in old.pending:
                on_drop(call.id, "left the import window before it was ready")
            return
        if not old.handles(call, overlap):
            if fingerprint is not None and call.id in old.prints and call.is_done:
                changed = fingerprint(call)
                if changed != old.prints[call.id] and judge(call).readiness is Readiness.READY:
                    plan.emit.append(call)  # Aircall rewrote it: the new record goes out
                    plan.prints[call.id] = changed
                    plan.settled[call.id] = call.started_at
            return  # decided by an earlier sync
        verdict = judge(call)
        waits_for_its_recording = call.is_done and verdict.readiness is Readiness.WAIT
        if verdict.readiness is Readiness.READY and first_sync:
            if slots >= first_sync_cap:
                plan.left_behind += 1
                plan.settled[call.id] = call.started_at
                if len(plan.reserve) < first_sync_cap:
                    plan.reserve.append((call.id, call.started_at))
                return
            verdict = confirm(call)
            if verdict.readiness is not Readiness.SKIP:
                slots += 1  # a file that failed now is retried later: it keeps its slot
        if verdict.readiness is not Readiness.WAIT:
            plan.settled[call.id] = call.started_at
        if verdict.readiness is Readiness.READY:
            plan.emit.append(call)
            if fingerprint is not None:
                plan.prints[call.id] = fingerprint(call)
        elif verdict.readiness is Readiness.WAIT:
            plan.watch[call.id] = call.started_at
            if waits_for_its_recording and (
                plan.waiting_from is None or call.started_at < plan.waiting_from
            ):
                plan.waiting_from = call.started_at  # its recording is looked for by listing
        else:
            plan.skipped.append((call, verdict.reason or "not importable"))

    listed: set[int] = set()
    for call in calls_newest_first:
        if call.started_at <= lower:
            break
        if first_sync and slots >= first_sync_cap and call.started_at < sync_time - watch_horizon:
            plan.left_behind_lower_bound = True
            plan.stopped_at = call.started_at
            break  # nothing older can still become ready: stop paging
        plan.listed += 1
        listed.add(call.id)
        plan.newest = call.started_at if plan.newest is None else max(plan.newest, call.started_at)
        consider(call)

    # Pending calls the listing did not bring: fetched by id, a bounded number a sync.
    for call_id, started in sorted(old.pending.items(), key=lambda item: (-item[1], item[0])):
        if call_id in listed:
            continue
        if started <= window_start:
            on_drop(call_id, "left the import window before it was ready")
            continue
        should_be_listed = started > lower
        if lookup is None:
            if should_be_listed:
                on_drop(call_id, "no longer listed by Aircall")
            else:
                plan.watch[call_id] = started
            continue
        # A failing transfer is retried every sync for its first day of failures, however
        # old the call; anything else by the call's age.
        watched_since = old.failing.get(call_id, started)
        due = should_be_listed or lookup_due(watched_since, old.cursor, sync_time)
        if not due or plan.looked_up >= max_lookups:
            plan.watch[call_id] = started
            continue
        plan.looked_up += 1
        try:
            fresh = lookup(call_id)
        except LookupFailed:
            plan.watch[call_id] = started
            continue
        if fresh is None:
            plan.gone.append(call_id)
            on_drop(call_id, "deleted in Aircall (GET /v1/calls/{id} answered 404)")
            continue
        consider(fresh)
    plan.emit.sort(key=lambda c: (c.started_at, c.id))  # oldest first: batches restart
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
        self.plan.failing.setdefault(call_id, self.plan.sync_time)
        self.plan.left_behind -= 1

    def decided(self, call_id: int) -> bool:
        return call_id in self.emitted_ids or call_id in self.skipped_ids

    def _settled_after(self, since: int, pending: Mapping[int, int]) -> Iterator[tuple[int, int]]:
        low = bisect_right(self._settled_times, since)
        for call_id, started in zip(
            self._settled_ids[low:], self._settled_times[low:], strict=True
        ):
            if call_id not in pending and (call_id not in self.to_emit or self.decided(call_id)):
                yield call_id, started

    def _prints(self, seen: Mapping[int, int]) -> dict[int, int]:
        prints = {k: v for k, v in self.plan.old.prints.items() if k in seen}
        prints.update(
            (k, v) for k, v in self.plan.prints.items() if k in seen and k in self.emitted_ids
        )
        return prints

    def state(self) -> CallCursor:
        """See `_state`; plus when each pending call's transfers started failing."""
        saved = self._state()
        known = {**self.plan.old.failing, **self.plan.failing}
        failing = {k: v for k, v in known.items() if k in saved.pending}
        return saved if failing == saved.failing else replace(saved, failing=failing)

    def _state(self) -> CallCursor:
        """Every call that started after the returned `since` is in `seen` (decided),
        pending, or not decided yet; so a restart from here loses nothing and emits
        nothing twice."""
        plan, old = self.plan, self.plan.old
        if self.finished:
            since = plan.next_since()
            cursor = plan.sync_time if old.cursor is None else max(old.cursor, plan.sync_time)
            pending = {**plan.watch, **self.deferred}
            seen = {k: v for k, v in old.seen.items() if v > since and k not in pending}
            seen.update(self._settled_after(since, pending))
            # `calls`: a done call that Aircall may still rewrite stays in `seen` with its
            # print, and re-listed, even once it started before `since`.
            decided = {**old.seen, **dict(self._settled_after(-1, pending))}
            watched = {k: v for k, v in plan.changeable.items() if k in decided}
            seen.update((k, decided[k]) for k in watched)
            starts = [v for v in (plan.waiting_from, *watched.values()) if v is not None]
            relist = min(starts) - STARTED_AT_DRIFT_SECONDS if starts else None
            return CallCursor(cursor, pending, seen, since, self._prints(seen), relist)
        if not self.handled:
            return old
        if old.cursor is None:
            # A first sync cut short: every call up to the last one handled is decided or
            # pending (batches never split a second); the calls after it are not decided.
            last = self.handled[-1].started_at
            pending = {k: v for k, v in plan.watch.items() if v <= last}
            pending.update(self.deferred)
            seen = {
                k: v
                for k, v in self._settled_after(last - STARTED_AT_DRIFT_SECONDS, pending)
                if v <= last
            }
            waiting = [v for k, v in pending.items() if k in plan.watch]
            return CallCursor(
                last,
                pending,
                seen,
                last - STARTED_AT_DRIFT_SECONDS,
                self._prints(seen),
                min(waiting) - STARTED_AT_DRIFT_SECONDS if waiting else None,
            )
        since = old.edge(plan.overlap)
        pending = {k: v for k, v in old.pending.items() if not self.decided(k)}
        pending.update(self.deferred)
        seen = {k: v for k, v in old.seen.items() if k not in pending}
        seen.update(self._settled_after(-1, pending))
        return CallCursor(old.cursor, pending, seen, since, self._prints(seen), old.relist_from)
