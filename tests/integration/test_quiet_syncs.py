"""A quiet sync stays small at any lookback (issue 18): at 10,000 calls a day, a sync with
no new call lists at most 3 pages, plus its due lookups by id (capped per sync).

    a day of 10,000 calls            quiet              first sync T1    quiet sync T1 + 15 min
    |--------------------------------|..................|................|
     calls waiting for their recording are fetched by id on their checkpoints; the
     listing covers (T1 - overlap, T1 + 15 min] on Aircall's clock: empty

Counted in the sandbox's request log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aircall_sandbox.testing import Sandbox
from source_aircall_salescaling.sync.plan import MAX_LOOKUPS_PER_SYNC
from tests.harness import AI_STREAMS, Connector, catalog, requests_by_kind

CALLS_A_DAY = 10_000
QUIET_BEFORE = 3 * 3_600  # the day's last call started this long before the first sync
EVERY = 900
WAITING = 500


@pytest.fixture(scope="module")
def busy_day() -> Iterator[Sandbox]:
    """10,000 calls over a day that ended three hours ago; some of them wait for their
    recording."""
    with Sandbox(seed=5, users=8, calls=0, rate_limit=0) as sandbox:
        sandbox.add_bulk_calls(CALLS_A_DAY, spread_seconds=86_400, end_ago_seconds=QUIET_BEFORE)
        yield sandbox


def quiet_sync(
    sandbox: Sandbox,
    workdir: Path,
    lookback_minutes: int,
    streams: tuple[str, ...] = ("calls", "recordings"),
    first_sync_max_calls: int = 50,
    **settings: int,
) -> Counter[str]:
    """A first sync, then one 15 minutes later (on the sandbox's clock) with no new call:
    the requests of the second."""
    connector = Connector(api_url=sandbox.api_url, workdir=workdir)
    config: dict[str, Any] = sandbox.config(
        lookback_minutes=lookback_minutes,
        import_window_days=2,
        first_sync_max_calls=first_sync_max_calls,
        **settings,
    )
    selected = catalog(list(streams))
    sandbox.set_clock_offset(0)
    first = connector.run("read", config, selected)
    assert first.returncode == 0, first.stderr[-2000:]
    sandbox.set_clock_offset(EVERY)
    sandbox.clear_log()
    quiet = connector.run("read", config, selected, state=first.states())
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert quiet.ids("calls") == [] and quiet.ids("recordings") == []
    return requests_by_kind(sandbox)


@pytest.mark.parametrize("lookback_minutes", [0, 60, 120, 1440])
def test_a_sync_with_no_new_call_lists_at_most_three_pages_at_any_lookback(
    busy_day: Sandbox, tmp_path: Path, lookback_minutes: int
) -> None:
    requests = quiet_sync(busy_day, tmp_path, lookback_minutes)

    assert requests["/v1/calls"] <= 3
    assert requests["lookup"] <= 2 * MAX_LOOKUPS_PER_SYNC  # two streams, one cache


def test_the_ai_streams_add_no_listing_request_to_a_quiet_sync_at_the_longest_lookbacks(
    busy_day: Sandbox, tmp_path: Path
) -> None:
    """The AI streams ask Aircall by call id, on their own checkpoints (at most one ask a
    call and stream per sync): even at the longest `insights_lookback_minutes`, with every
    imported call still within it, the quiet sync lists no more."""
    imported = 10
    requests = quiet_sync(
        busy_day,
        tmp_path,
        1440,
        ("calls", "recordings", *AI_STREAMS),
        first_sync_max_calls=imported,
        insights_lookback_minutes=2880,
    )

    assert requests["/v1/calls"] <= 3
    assert requests["lookup"] <= 2 * MAX_LOOKUPS_PER_SYNC
    assert requests["insight"] <= imported * len(AI_STREAMS)
