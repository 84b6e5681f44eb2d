"""What a plan is: the bounds of one sync, the rules of one stream, and the plan that
`sync/plan.py` makes from them (how it is made: that module's docstring)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import Verdict
from source_aircall_salescaling.sync.recheck import MAX_LOOKUPS_PER_SYNC
from source_aircall_salescaling.sync.state import STARTED_AT_DRIFT_SECONDS, CallCursor


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
    turn: int | None = None  # which quarter of the waiting calls is due (`sync/recheck.py`)


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
