"""The requests-per-sync part: three syncs in a row against the lower bound of requests.

A first sync, then steady-state syncs with 0 and with 300 new calls, each from the state
of the one before, users + calls + recordings, counted from the sandbox's request log.
And a quiet sync (no new call) at 10,000 calls a day for lookbacks of 0 to 1440 minutes
(`measure_quiet`): at most 3 listing requests plus its lookups by id.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aircall_sandbox.testing import Sandbox
from source_aircall_salescaling.aircall.windows import TimeWindow
from source_aircall_salescaling.sync.plan import MAX_LOOKUPS_PER_SYNC
from tests.harness import catalog

from .kit import (
    PAGE,
    REQUESTS_SLACK,
    Bench,
    calls_in,
    config_window,
    count_requests,
    salescaling_user,
)
from .table import Row, Section

NEW_CALLS = 300


def measure(bench: Bench, sandbox: Sandbox, config: dict[str, Any]) -> None:
    """Three syncs in a row, each from the state of the one before, all three streams
    selected: the requests the sandbox received against the lower bound."""
    connector = bench.connector(sandbox, "requests")
    everything = catalog(("users", "calls", "recordings"), include_files=True)
    users_pages = max(1, math.ceil(len(sandbox.users()) / PAGE))
    rows: list[Row] = []
    state: list[dict[str, Any]] | None = None
    for label in ("first sync (whole window)", "steady state, 0 new calls", "300"):
        if label == "300":
            label = f"steady state, {NEW_CALLS} new calls"
            add_new_calls(sandbox, state or [])
        previous = last_cursor(state or [])
        pending = pending_ids(state or [])
        sandbox.clear_log()
        started = time.monotonic()
        result = bench.run(connector, "read", config, everything, state)
        seconds = time.monotonic() - started
        state = result.states()
        log = sandbox.requests_log("api")
        by_path = Counter(
            "/v1/calls/{id}" if e["path"].startswith("/v1/calls/") else e["path"] for e in log
        )
        listing = [e for e in log if e["path"] == "/v1/calls"]
        pages = {(e["query"]["from"], e["query"]["to"], e["query"]["page"]) for e in listing}
        times = sorted(int(c["started_at"]) for c in sandbox.calls())
        end = int(listing[0]["query"]["to"]) if listing else sandbox.now()
        listed = 0
        if listing:
            window = TimeWindow(int(listing[0]["query"]["from"]), end)
            listed = calls_in(times, window)
            if previous is not None and label.endswith(" 0 new calls"):
                bench.relisted_seconds = previous - window.start
        # What any reader must list: the whole window on a first sync; afterwards the
        # calls started since the last cursor, and the calls still pending.
        if previous is None:
            needed = calls_in(times, TimeWindow(end - config_window(config), end))
            counts = count_requests(times, TimeWindow(end - config_window(config), end))
        else:
            needed = calls_in(times, TimeWindow(previous, end)) + len(pending)
            counts = 0
        bound = counts + max(1, math.ceil(needed / PAGE)) + users_pages
        total = len(log)
        twice = len(listing) - len(pages)
        rows.append(
            Row(
                label,
                f"{total} requests",
                f"<= {bound} + {REQUESTS_SLACK}",
                total <= bound + REQUESTS_SLACK and twice == 0,
            )
        )
        bench.notes.append(
            f"{label}: {by_path['/v1/calls']} calls pages ({listed} calls listed) + "
            f"{by_path['/v2/users']} users pages + {by_path['/v1/calls/{id}']} call "
            f"refreshes, {twice} pages read twice; lower bound {counts} count + "
            f"ceil({needed}/{PAGE}) + {users_pages} users = {bound}; {seconds:.1f} s, "
            f"{len(result.records('calls'))} calls and "
            f"{len(result.records('recordings'))} recordings emitted."
        )
    bench.sections.append(
        Section(
            "requests per sync, users + calls + recordings (files included), "
            "from the sandbox's request log",
            rows,
        )
    )


def add_new_calls(sandbox: Sandbox, state: list[dict[str, Any]]) -> None:
    """NEW_CALLS done calls with recordings, all started after the last sync's cursor."""
    cursor = last_cursor(state)
    assert cursor is not None, "the previous sync saved no cursor"
    while sandbox.now() - cursor < 3:
        time.sleep(0.5)
    ago = sandbox.now() - cursor - 1
    sandbox.add_calls(
        NEW_CALLS,
        status="done",
        recording=True,
        started_ago_seconds=ago,
        spread_seconds=ago - 1,
        duration=1,
    )


def pending_ids(state: list[dict[str, Any]]) -> set[str]:
    """Calls the `calls` and `recordings` states still wait for (they are listed again)."""
    return {
        call_id
        for s in state
        if s["stream"]["stream_descriptor"]["name"] in ("calls", "recordings")
        for call_id in (s["stream"].get("stream_state") or {}).get("pending", {})
    }


def last_cursor(state: list[dict[str, Any]]) -> int | None:
    """The newest `cursor` of the `calls` and `recordings` states (UNIX seconds)."""
    cursors = [
        int(datetime.strptime(c, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
        for s in state
        if s["stream"]["stream_descriptor"]["name"] in ("calls", "recordings")
        and (c := (s["stream"].get("stream_state") or {}).get("cursor"))
    ]
    return max(cursors, default=None)


QUIET_CALLS_A_DAY = 10_000
QUIET_LOOKBACKS = (0, 60, 120, 1440)
QUIET_LISTING_MAX = 3
WAITING = 500
SYNC_EVERY = 900


def measure_quiet(bench: Bench) -> None:
    """A sync with no new call, at 10,000 calls a day (500 of them a Salescaling user's
    that never get their recording), for each lookback: a first sync, then one 15 minutes
    later on the sandbox's clock (calls + recordings selected). Held to
    at most 3 listing requests plus its lookups by id (capped per sync), after a quiet
    spell (the day's last call 3 hours before); right after a busy period (the last call
    at the first sync) for information: the re-listed overlap is then full of calls."""
    rows: list[Row] = []
    for label, quiet_before in (("after 3 h without calls", 3 * 3600), ("right after calls", 0)):
        with Sandbox(seed=5, users=8, calls=0, rate_limit=0) as sandbox:
            sandbox.add_bulk_calls(
                QUIET_CALLS_A_DAY - WAITING, spread_seconds=86_400, end_ago_seconds=quiet_before
            )
            # 5% of the day's calls, a Salescaling user's, never get their recording.
            sandbox.add_calls(
                WAITING,
                status="done",
                recording=False,
                user_id=salescaling_user(sandbox),
                started_ago_seconds=quiet_before + 86_400,
                spread_seconds=86_400,
            )
            for lookback in QUIET_LOOKBACKS:
                by_kind = quiet_sync(bench, sandbox, lookback)
                listing, lookups = by_kind.pop("/v1/calls", 0), by_kind.pop("lookup", 0)
                held = quiet_before > 0
                rows.append(
                    Row(
                        f"quiet sync, {label}, lookback {lookback} min",
                        f"{listing} listing + {lookups} lookups + "
                        f"{sum(by_kind.values())} other ({', '.join(sorted(by_kind)) or '-'})",
                        f"listing <= {QUIET_LISTING_MAX}, lookups <= {2 * MAX_LOOKUPS_PER_SYNC}"
                        if held
                        else "",
                        listing <= QUIET_LISTING_MAX and lookups <= 2 * MAX_LOOKUPS_PER_SYNC
                        if held
                        else None,
                    )
                )
    bench.sections.append(
        Section(
            f"requests of a sync with no new call, {QUIET_CALLS_A_DAY:,} calls a day, calls + "
            "recordings, from the sandbox's request log",
            rows,
        )
    )


def quiet_sync(bench: Bench, sandbox: Sandbox, lookback: int) -> Counter[str]:
    """The requests of a sync 15 minutes (sandbox time) after a first sync, nothing new."""
    connector = bench.connector(sandbox, f"quiet-{lookback}")
    config = sandbox.config(
        lookback_minutes=lookback, import_window_days=2, first_sync_max_calls=50
    )
    both = catalog(("calls", "recordings"), include_files=False)
    sandbox.set_clock_offset(0)
    first = bench.run(connector, "read", config, both)
    sandbox.set_clock_offset(SYNC_EVERY)
    sandbox.clear_log()
    bench.run(connector, "read", config, both, first.states())
    return Counter(
        "lookup" if str(e["path"]).startswith("/v1/calls/") else str(e["path"])
        for e in sandbox.requests_log("api")
    )
