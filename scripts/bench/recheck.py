"""The removal re-check part: what the rolling re-check (`sync/recheck.py`) adds to a
sync, at 1,000 and 10,000 calls a day, and how large the states then are.

For each volume: a 14-day window of the sandbox's bulk calls, and states made as a long
run of syncs leaves them: cursor at T, the calls every stream emitted (`emitted`: every
Salescaling user's call with a recording in the window, the import rule's worst case
here, every Aircall AI stream with an insight for each: the lists' worst case) and a
pass 6 hours in. Then 4 syncs 15 minutes apart (on the sandbox's clock, whatever time the
syncs take) with every call stream selected, counted in the sandbox's request log: the
`/v1/calls` requests below the pass's top are the re-check's (the Aircall AI streams
share the listing: they add none). Target: the pages of one pass over the window / 96,
rounded up, plus one. The state size is that of the 12 streams' states as the last sync
saved them: every stream starts from a full list, as the version before saved them, and
the Aircall AI streams and `import_decisions` then save the difference from
`recordings`' list (`sync/emitted.py`).
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from aircall_sandbox.testing import Sandbox
from source_aircall_salescaling.aircall.models import iso_utc
from source_aircall_salescaling.sync.emitted import pack_emitted
from source_aircall_salescaling.sync.recheck import RecheckCursor
from tests.harness import AI_STREAMS, catalog

from .kit import PAGE, Bench
from .table import Row, Section

VOLUMES = (1_000, 10_000)
DAYS = 14
SYNCS = 4
EVERY = 900
STREAMS = ("calls", "recordings", *AI_STREAMS, "import_decisions")  # as `discover` lists them
STATE_LIMIT = 512 * 1024


def measure(bench: Bench) -> None:
    rows: list[Row] = []
    for per_day in VOLUMES:
        with Sandbox(seed=7, calls=0, rate_limit=0) as sandbox:
            sandbox.add_bulk_calls(per_day * DAYS, days=DAYS, max_recording_size=65_536)
            rows.extend(_measure_volume(bench, sandbox, per_day))
    bench.sections.append(
        Section(
            "removal re-check: requests it adds per sync, and the state, 14-day window, "
            "from the sandbox's request log",
            rows,
        )
    )


def _measure_volume(bench: Bench, sandbox: Sandbox, per_day: int) -> list[Row]:
    now, read_at = sandbox.now(), time.monotonic()
    window_start = now - DAYS * 86_400
    calls = [c for c in sandbox.calls() if int(c["started_at"]) > window_start]
    salescaling = {u["id"] for u in sandbox.users() if u["salescaling"]}
    emitted = {
        int(c["id"]): int(c["started_at"])
        for c in calls
        if c.get("has_recording") and c.get("user_id") in salescaling
    }
    top = now - 6 * 3600 - 3600
    top -= top % 60
    length = top - (now - 6 * 3600 - DAYS * 86_400)
    # Where a sync at `now` left the pass (each sync covers its share up to the next).
    at = top - length * (6 * 3600 + EVERY) // 86_400
    at -= at % 60
    cursor = RecheckCursor(now - 6 * 3600, top, at, 0).to_state()
    exact, minutes = pack_emitted(emitted, exact=True), pack_emitted(emitted, exact=False)
    state = [
        {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": name},
                "stream_state": {
                    "cursor": iso_utc(now),
                    "since": now - 3600,
                    "pending": {},
                    "seen": {},
                    "recheck": cursor,
                    "emitted": exact if name == "recordings" else minutes,
                },
            },
        }
        for name in STREAMS
    ]
    connector = bench.connector(sandbox, f"recheck-{per_day}")
    config = sandbox.config(import_window_days=DAYS)
    selected = catalog(list(STREAMS), include_files=False)
    added: list[int] = []
    saved: list[dict[str, Any]] = state
    for sync in range(1, SYNCS + 1):
        # Syncs exactly 15 minutes apart on Aircall's clock: the sandbox's also runs with
        # the real time the syncs take, which would widen each sync's slice.
        sandbox.set_clock_offset(sync * EVERY - round(time.monotonic() - read_at))
        sandbox.clear_log()
        run = bench.run(connector, "read", config, selected, saved)
        saved = run.states() or saved
        listing = [e for e in sandbox.requests_log("api") if e["path"] == "/v1/calls"]
        added.append(sum(1 for e in listing if int(e["query"]["to"]) <= top + 1))
    pass_pages = math.ceil(len(calls) / PAGE)
    share = math.ceil(pass_pages / 96) + 1
    size = len(json.dumps(saved))
    lists = {
        s["stream"]["stream_descriptor"]["name"]: len(s["stream"]["stream_state"]["emitted"])
        for s in saved
    }
    differences = [lists[name] for name in (*AI_STREAMS, "import_decisions")]
    bench.notes.append(
        f"re-check at {per_day:,} calls a day: {len(calls):,} calls in the window "
        f"({pass_pages} pages a pass), {len(emitted):,} emitted by each stream; requests "
        f"added by 4 syncs: {added}; states {size / 1024:.0f} KiB "
        f"(emitted calls: {lists['recordings'] / 1024:.0f} KiB exact in recordings, "
        f"{lists['calls'] / 1024:.0f} KiB to the minute in calls, "
        f"{min(differences)}-{max(differences)} bytes in each Aircall AI stream and in "
        f"import_decisions; {len(json.dumps(state)) / 1024:.0f} KiB with full lists in "
        "every stream, as the version before saved them)."
    )
    return [
        Row(
            f"{per_day:,} calls a day: requests the re-check adds per sync",
            f"max {max(added)}, mean {sum(added) / len(added):.1f}",
            f"<= ceil({pass_pages}/96) + 1 = {share}",
            max(added) <= share,
        ),
        Row(
            f"{per_day:,} calls a day: states, {len(STREAMS)} streams "
            f"({len(emitted):,} calls emitted by each)",
            f"{size / 1024:.0f} KiB",
            f"< {STATE_LIMIT // 1024} KiB",
            size < STATE_LIMIT,
        ),
    ]
