"""The rolling re-check: which old calls a sync looks at again, and why.

A sync lists only the last minutes of Aircall (`sync/plan.py`). Older calls are looked
at again for these reasons, and this module alone decides when:

1. Removals. A customer may delete a recording, or a whole call, in Aircall at any time
   (a card number read out, a data-subject request): every call that a stream emitted
   within the import window is looked at again at least once a day, so that the first
   sync that finds it gone reports it (`streams/removals.py`). Aircall has no list of
   deleted calls and no `updated_at`: what is not listed any more is gone. Listing is
   cheap (50 calls a request, filtered by `from`/`to` on `started_at`), lookups by id
   are not (one call a request), so the window is listed again in slices, one slice a
   sync, newest first, a pass a day:

       T - window                                  top (the listing's edge at the pass's start)
       |<------------- one pass: the window, newest to oldest, in about a day ------------|
       |        ...  |slice of sync 3|slice of sync 2|slice of sync 1|  ... listed every sync
                     <--- `at` moves down at (top - window start) per day ---

   A slice covers `(top - window start) x (time since the last sync) / 1 day` of
   `started_at`, so a pass costs the pages of one listing of the window whatever the
   syncs' rhythm, spread evenly over them (about the pass's pages / 96 at a sync every
   15 minutes). The window's start moves up while the pass moves down: the pass is over
   when they meet (a little under a day), and the next one starts at the newest edge.
   A call is thus looked at again about every 24 hours, a call newer than the pass's top
   on the next pass. Only the part of a slice that holds calls some stream emitted is
   listed (`RecheckPlan.listing`): with no imported call there, a sync pays nothing.
   A call that Aircall moved by a second (`started_at` + 1 s) is still found: a slice is
   listed a second above its top. Slices start and end on whole minutes, so that a
   start kept to the minute (`sync/emitted.py`) places a call in the right one.

2. Waiting calls. A done call that waits for its recording beyond the re-listed overlap
   (a `lookback_minutes` over 2 hours) is fetched by id on the spaced checkpoints of
   `sync/schedule.py` and, so that a recording that comes at any moment arrives within
   4 syncs, on every 4th sync too: the calls are split in 4 by id, and the sync's `turn`
   (a counter kept with the pass) says which quarter is due (`turn_due`). At most
   `MAX_LOOKUPS_PER_SYNC` lookups a sync, or a quarter of the waiting calls where more
   wait (`lookups_allowed`): a lookup not made is overdue, so due on the next sync.

       end    + overlap         sync n    n+1   n+2   n+3   n+4
       |listed--|.. by id: ....... ask ..................... ask ...  (its quarter's turn)

3. Pending calls (a done call waiting for its recording, a call stuck in progress, a
   failed transfer) are fetched by id (`GET /v1/calls/{id}`) when `lookup_due` or
   `waiting_lookup_due` say so (the spaced checkpoints, and the turn above), at most
   `lookups_allowed` a sync, the nearest to their deadline first (`sync/plan.py`):

       since - overlap                                                 T
       |.. pending calls: fetched by id when due ..|--- listed every sync ---|

The cursor (`RecheckCursor`) is the same in every stream's state: the sync reads the
oldest of them (a stream killed before saving it re-checks a slice again: harmless, a
call is reported once per stream because it leaves the stream's list when reported).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from source_aircall_salescaling.aircall.windows import TimeWindow
from source_aircall_salescaling.sync.emitted import GRAIN_SECONDS
from source_aircall_salescaling.sync.schedule import LAST_ASK_BEFORE_DEADLINE, ask_times, passed
from source_aircall_salescaling.sync.state import STARTED_AT_DRIFT_SECONDS

DAY_SECONDS = 86_400
SYNC_EVERY_SECONDS = 15 * 60  # the slice of a stream's first re-check, as if 15 min passed
TURNS = 4  # a waiting call is looked up at least every TURNS-th sync
# The keys of a stream's state: the calls it emitted within the window, the pass, and
# the calls it reported removed (a later stream's list may be read against them).
EMITTED_KEY = "emitted"
RECHECK_KEY = "recheck"
REMOVED_KEY = "removed"  # the calls it reported removed, within the window


# Pending calls fetched by id ----------------------------------------------------------------
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


# Removals and waiting calls: the rolling pass --------------------------------------------
def turn_due(call_id: int, turn: int) -> bool:
    """Whether a waiting call's quarter is looked up on a sync of this `turn`."""
    return call_id % TURNS == turn % TURNS


def lookups_allowed(cap: int, waiting: int) -> int:
    """Lookups by id allowed this sync: `cap`, or a quarter of the waiting calls where more
    wait (so that each is looked at within 4 syncs)."""
    return max(cap, math.ceil(waiting / TURNS))


@dataclass(frozen=True)
class RecheckCursor:
    """Where the pass is: it started at `started` (a sync time) from `top` (a
    `started_at`), and every call that started in `(at, top]` was looked at again since.
    `turn` counts the syncs (mod 4), for the waiting calls."""

    started: int
    top: int
    at: int
    turn: int = 0

    def to_state(self) -> str:
        return f"{self.started}:{self.top}:{self.at}:{self.turn % TURNS}"

    @staticmethod
    def from_state(value: object) -> RecheckCursor | None:
        """None for a missing value or one this connector did not write (a new pass)."""
        if not isinstance(value, str):
            return None
        try:
            started, top, at, turn = (int(part) for part in value.split(":"))
        except ValueError:
            return None
        return RecheckCursor(started, top, at, turn)


def oldest(cursors: Iterable[RecheckCursor | None]) -> RecheckCursor | None:
    """The cursor of the stream that is furthest behind: re-checking it covers the others."""
    known = [cursor for cursor in cursors if cursor is not None]
    return min(known, key=lambda c: (c.started, -c.at)) if known else None


@dataclass(frozen=True)
class RecheckPlan:
    """What one sync re-checks: the calls a stream emitted that started in
    `(low, high]` are decided from `listing` (None: nothing to list)."""

    low: int
    high: int
    listing: TimeWindow | None
    after: RecheckCursor  # the cursor every stream saves after this sync


def plan_recheck(
    old: RecheckCursor | None,
    sync_time: int,
    previous_sync: int | None,
    window_start: int,
    edge: int,
    emitted_starts: Iterable[int],
) -> RecheckPlan:
    """This sync's slice (see the module docstring). `edge`: the listing's lower bound
    (newer calls are listed anyway); `emitted_starts`: the `started_at` of the calls the
    selected streams emitted, so that only the part of the slice that holds one is
    listed."""
    edge -= edge % GRAIN_SECONDS  # slices start and end on whole minutes (`sync/emitted.py`)
    if old is None:
        # Nothing emitted yet that a pass could miss: the pass starts now, below the edge.
        start = RecheckCursor(sync_time, edge, edge, 0)
        return RecheckPlan(edge, edge, None, start)
    turn = old.turn + 1
    cursor = old
    if old.at <= window_start or old.top > sync_time:
        cursor = RecheckCursor(sync_time, edge, edge, turn)  # a new pass (or a clock gone back)
    length = max(0, cursor.top - (cursor.started - (sync_time - window_start)))
    step = SYNC_EVERY_SECONDS if previous_sync is None else sync_time - previous_sync
    elapsed = min(DAY_SECONDS, max(0, sync_time - cursor.started) + max(0, step))
    target = cursor.top - length * elapsed // DAY_SECONDS
    low = max(window_start, min(target, cursor.at))
    low -= low % GRAIN_SECONDS
    high = cursor.at
    after = RecheckCursor(cursor.started, cursor.top, low, turn)
    inside = [s for s in emitted_starts if low < s <= high]
    listing = (
        TimeWindow(min(inside) - GRAIN_SECONDS, max(inside) + STARTED_AT_DRIFT_SECONDS)
        if inside
        else None
    )
    return RecheckPlan(low, high, listing, after)


def find_removals(
    emitted: Mapping[int, int],
    low: int,
    high: int,
    listed_recording: Mapping[int, bool],
) -> list[tuple[int, int, bool]]:
    """(call id, started_at, call deleted?) for each call of `emitted` (id -> started_at)
    that started in `(low, high]` and is not listed (deleted), or is listed without its
    recording (`listed_recording`: id -> whether the listed call has one)."""
    found: list[tuple[int, int, bool]] = []
    for call_id, started in sorted(emitted.items(), key=lambda item: (item[1], item[0])):
        if not low < started <= high:
            continue
        has_recording = listed_recording.get(call_id)
        if has_recording is None:
            found.append((call_id, started, True))
        elif not has_recording:
            found.append((call_id, started, False))
    return found
