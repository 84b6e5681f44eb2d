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
from tests.harness import Connector, catalog

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


def requests_by_kind(sandbox: Sandbox) -> Counter[str]:
    return Counter(
        "lookup" if str(entry["path"]).startswith("/v1/calls/") else str(entry["path"])
        for entry in sandbox.requests_log(host="api")
    )


def quiet_sync(sandbox: Sandbox, workdir: Path, lookback_minutes: int) -> Counter[str]:
    """A first sync, then one 15 minutes later (on the sandbox's clock) with no new call:
    the requests of the second."""
    connector = Connector(api_url=sandbox.api_url, workdir=workdir)
    config: dict[str, Any] = sandbox.config(
        lookback_minutes=lookback_minutes, import_window_days=2, first_sync_max_calls=50
    )
    both = catalog(["calls", "recordings"])
    sandbox.set_clock_offset(0)
    first = connector.run("read", config, both)
    assert first.returncode == 0, first.stderr[-2000:]
    sandbox.set_clock_offset(EVERY)
    sandbox.clear_log()
    quiet = connector.run("read", config, both, state=first.states())
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
