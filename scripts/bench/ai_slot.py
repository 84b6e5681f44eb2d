"""The Aircall AI part: the first sync of the records connection with every stream, its
length at the connection's documented share of the rate limit, and the syncs its
backlog of AI asks takes; this version beside the one before (the newest commit without
`sync/ai_asks.py`: its five AI streams, no transcription gate, no slot), measured in the
same run on the same sandbox.

The sandbox: 1,000 calls a day over the 14-day window (the bulk generator, recordings of
at most 64 KiB, every insight written long before the sync), `first_sync_max_calls` 200.
The share: 40 requests a minute (a company at 60 a minute; `docs/aircall-salescaling.md`).
The connector's pace is exact (one request every 60/rate seconds), so a sync's length at
40 a minute is its Aircall API requests / 40 minutes: the syncs run at 1,000 a minute
with `AIRCALL_AI_SLOT_SECONDS` scaled to hold the requests 12 minutes hold at 40 a minute
(720 x 40 / 1,000 = 29 s at 1,000 a minute). Later syncs come every 15 minutes of the
sandbox's clock and the connector's (libfaketime), until no AI ask is left for later.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

from aircall_sandbox.testing import Sandbox
from tests.harness import AI_STREAMS, ConnectorRun, catalog

from .costs import libfaketime, set_clock
from .kit import ROOT, WORKDIR, Bench
from .table import Row, Section

SHARE = 40  # requests a minute: the records connection, company at 60 a minute
FAST = 1000
SLOT_AT_FAST = str(round(720 * SHARE / FAST))
CALLS_A_DAY, DAYS = 1_000, 14
FIRST_SYNC_CAP = 200
EVERY = 900
MAX_SYNCS = 12
TARGET_MINUTES = 15
RECORDS = ("users", "calls", "recordings", "import_decisions")
PREVIOUS_AI = AI_STREAMS[:5]


def previous_version() -> Path | None:
    """The package as it was before the commit that added `sync/ai_asks.py`."""
    try:
        added = subprocess.run(
            ["git", "-C", str(ROOT), "log", "--diff-filter=A", "--format=%H", "--",
             "source_aircall_salescaling/sync/ai_asks.py"],
            check=True, capture_output=True, text=True,
        ).stdout.split()  # fmt: skip
        if not added:
            return None
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", f"{added[-1]}~1", "main.py",
             "source_aircall_salescaling"],
            check=True, capture_output=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    target = WORKDIR / "previous-version"
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def syncs_until_done(
    bench: Bench, sandbox: Sandbox, label: str, streams: tuple[str, ...], command: list[str]
) -> list[tuple[int, int]]:
    """(API requests, AI requests) of each sync, the first until one leaves no AI ask
    for later; every sync from the state of the one before, 15 minutes apart."""
    library = libfaketime()
    connector = bench.connector(sandbox, f"ai-slot-{label}")
    connector.extra_env["AIRCALL_AI_SLOT_SECONDS"] = SLOT_AT_FAST
    config = sandbox.config(first_sync_max_calls=FIRST_SYNC_CAP, requests_per_minute=FAST)
    state: list[dict[str, Any]] | None = None
    start, done = sandbox.now(), []
    for k in range(MAX_SYNCS):
        offset = set_clock(sandbox, start + k * EVERY)
        connector.extra_env.update(LD_PRELOAD=library, FAKETIME=f"{offset:+d}s")
        sandbox.clear_log()
        run = bench.run(connector, "read", config, catalog(list(streams)), state, command)
        state = run.states()
        counts = sandbox.request_counts("api")
        ai = sum(n for path, n in counts.items() if path.count("/") == 4)
        done.append((sum(counts.values()), ai))
        print(f"    ai slot {label}, sync {k + 1}: {done[-1]}", file=sys.stderr, flush=True)
        if left_for_later(run, streams) == 0:
            break
    return done


def left_for_later(run: ConnectorRun, streams: tuple[str, ...]) -> int:
    reports = [run.insights_report(stream) for stream in streams if stream in AI_STREAMS]
    return sum(int((report or {}).get("asks_left_for_later", 0)) for report in reports)


def measure(bench: Bench) -> None:
    rows: list[Row] = []
    versions: list[tuple[str, tuple[str, ...], list[str]]] = [
        ("this version, nine AI streams", (*RECORDS, *AI_STREAMS), bench.command())
    ]
    previous = previous_version()
    if previous is not None:
        command = [sys.executable, str(previous / "main.py")]
        versions.append(
            ("previous version, its five AI streams", (*RECORDS, *PREVIOUS_AI), command)
        )
    for label, streams, command in versions:
        with Sandbox(seed=7, calls=0, rate_limit=0) as sandbox:
            started = time.monotonic()
            sandbox.add_bulk_calls(CALLS_A_DAY * DAYS, days=DAYS, max_recording_size=65_536)
            print(f"    ai slot: calls in {time.monotonic() - started:.0f} s", file=sys.stderr)
            syncs = syncs_until_done(bench, sandbox, label.split(",")[0], streams, command)
        first_minutes = syncs[0][0] / SHARE
        this = label.startswith("this")
        ok = first_minutes < TARGET_MINUTES
        ai_streams = len([s for s in streams if s in AI_STREAMS])
        per_call = sum(ai for _, ai in syncs) / (FIRST_SYNC_CAP * ai_streams)
        rows.append(
            Row(
                f"{label}: first sync at {SHARE}/min",
                f"{first_minutes:.1f} min ({syncs[0][0]} API requests, {syncs[0][1]} AI); "
                f"the AI backlog took {len(syncs)} sync(s) (all/AI requests: "
                + ", ".join(f"{total}/{ai}" for total, ai in syncs)
                + f"); {per_call:.2f} AI requests per imported call per AI stream",
                f"< {TARGET_MINUTES} min: {'MET' if ok else 'MISSED'}" if this else "",
                ok if this else None,
            )
        )
        bench.notes.append(
            f"ai slot, {label}: requests (all/AI) per sync until no AI ask is left: {syncs}."
        )
    bench.sections.append(
        Section(
            f"Aircall AI: the first sync of 200 imported calls with every stream at {SHARE} "
            "requests a minute (API requests / rate), and the syncs its AI backlog takes",
            rows,
        )
    )
