"""The requests-per-sync part: three syncs in a row against the lower bound of requests.

A first sync, then steady-state syncs with 0 and with 300 new calls, each from the state
of the one before, users + calls + recordings, counted from the sandbox's request log.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aircall_sandbox.testing import Sandbox
from source_aircall_salescaling.aircall.windows import TimeWindow
from tests.harness import catalog

from .kit import PAGE, REQUESTS_SLACK, Bench, calls_in, config_window, count_requests
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
