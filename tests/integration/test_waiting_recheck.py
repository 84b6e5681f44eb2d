"""Calls that wait for their recording beyond the re-listed overlap are looked at again
at least every 4th sync (sync/recheck.py): at `lookback_minutes` 1440, with 10,000 calls
a day and 40 calls waiting 3 to 20 hours, a recording that comes 20 hours after its
call arrives within 4 syncs, and every sync stays inside the quiet-sync bounds.

    call ended     its recording appears (20 h later)    sync 1  2  3  4 (15 min apart)
    |---------- waiting: asked on checkpoints ---|.........|..|..|..| one of them brings it

Counted in the sandbox's request log.
"""

from __future__ import annotations

import math
from pathlib import Path

from aircall_sandbox.testing import Sandbox
from source_aircall_salescaling.sync.plan import MAX_LOOKUPS_PER_SYNC
from tests.harness import Connector, SyncSequence, catalog, requests_by_kind

CALLS_A_DAY = 10_000
WAITING = 40
PAGE = 50
SYNCS_A_DAY = 96


def removal_share(calls_in_window: int) -> int:
    """The contract's share of the removal re-check in a quiet sync: the pages of one
    pass over the window / 96 syncs, rounded up, plus one."""
    return math.ceil(math.ceil(calls_in_window / PAGE) / SYNCS_A_DAY) + 1


def test_a_recording_that_comes_20_hours_late_arrives_within_4_syncs_inside_the_bounds(
    tmp_path: Path,
) -> None:
    with Sandbox(seed=5, users=8, calls=0, rate_limit=0) as sandbox:
        sandbox.add_bulk_calls(CALLS_A_DAY, spread_seconds=86_400, end_ago_seconds=3 * 3600)
        user = int(next(u["id"] for u in sandbox.users() if u["salescaling"]))
        waiting = [
            sandbox.add_calls(
                1,
                status="done",
                recording=False,
                user_id=user,
                started_ago_seconds=3 * 3600 + index * (17 * 3600 // WAITING),
                duration=120,
            )[0]["id"]
            for index in range(WAITING)
        ]
        late = waiting[-1]  # ended about 20 hours ago
        sequence = SyncSequence(
            sandbox,
            Connector(api_url=sandbox.api_url, workdir=tmp_path),
            catalog(["calls", "recordings"], include_files=False),
            lookback_minutes=1440,
            import_window_days=2,
            first_sync_max_calls=50,
        )
        first = sequence.run()
        assert late not in first.ids("recordings")
        in_window = len(sandbox.calls())
        sandbox.attach_recording(late)

        arrived_at = None
        for sync in range(1, 5):
            sequence.advance(15)
            sandbox.clear_log()
            run = sequence.run()
            requests = requests_by_kind(sandbox)
            assert requests["/v1/calls"] <= 3 + removal_share(in_window), (sync, requests)
            assert requests["lookup"] <= MAX_LOOKUPS_PER_SYNC, (sync, requests)
            if late in run.ids("recordings"):
                arrived_at = sync
                break
        assert arrived_at is not None, "the late recording did not arrive within 4 syncs"
