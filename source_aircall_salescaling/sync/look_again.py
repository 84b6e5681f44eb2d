"""Which calls that a sync does not list any more it looks at again, and when.

A sync lists only the last minutes of Aircall (`sync/plan.py`); an older call is
looked at again when it is pending (waiting for its recording, stuck in progress, a
failed transfer): it is fetched by id (`GET /v1/calls/{id}`) when `lookup_due` or
`waiting_lookup_due` say so, at most `MAX_LOOKUPS_PER_SYNC` a sync, the nearest to its
deadline first.

      since - overlap                                                 T
      |.. pending calls: fetched by id when due ..|--- listed every sync ---|
"""

from __future__ import annotations

from source_aircall_salescaling.sync.schedule import LAST_ASK_BEFORE_DEADLINE, ask_times, passed

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
