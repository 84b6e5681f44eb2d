"""The cost part: Aircall API requests per sync, per connection, at two call volumes.

Three connections, as an admin sets them up (`docs/aircall-salescaling.md`):

- records without AI: `users`, `calls`, `recordings`, `import_decisions`, records mode;
- records with AI: the same and the nine Aircall AI streams;
- files: `recordings` alone, `delivery_method` `use_file_transfer`.

For each volume (calls a day, the sandbox's bulk generator spread evenly over the import
window, recordings of at most 64 KiB) one sandbox serves the three connections, which
sync in turn at the same sandbox times: a first sync at T, a quiet sync at T + 15 min (no
new call), a busy sync at T + 30 min (100 new calls started in the 15 minutes before),
each from the state of the one before. Time passes by moving the sandbox's clock
(`set_clock_offset`) and the connector's: libfaketime (LD_PRELOAD, FAKETIME offset, as
`tests/day/simulation.py` does), so the connector's clock reads the sandbox's time
whether it takes the sync's time from its own clock or from Aircall's `Date` header.

Counted from the sandbox's request log, per path kind: listing `/v1/calls`, lookups
`/v1/calls/{id}`, AI `/v1/calls/{id}/<resource>`, users `/v2/users`, ping `/v1/ping`;
the storage host's requests (size probes, downloads) apart, as they are not Aircall API
requests. Also the AI requests per imported call of the busy sync, per AI stream, and the
target: a quiet sync lists at most 3 pages, with every stream selected and in the files
connection. Fifteen minutes after a busy hour at 10,000 calls a day it cannot: every sync
re-lists the lookback for late recordings and Aircall's rewrites (docs/performance.md).

Config: the defaults (`first_sync_max_calls` 200, `lookback_minutes` 60,
`insights_lookback_minutes` 180), `requests_per_minute` 1000 (sandbox rate limit off).
"""

from __future__ import annotations

import glob
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aircall_sandbox.testing import Sandbox
from tests.harness import AI_STREAMS, catalog

from .kit import Bench
from .table import Row, Section

# (calls a day, import window in days): the bulk generator puts calls-a-day x days calls
# in the window. 140,000 calls for the larger volume is quick enough on the sandbox
# (a few seconds to generate; the connector lists only what it needs).
VOLUMES = ((1_000, 14), (10_000, 14))
EVERY = 900  # Salescaling syncs every 15 minutes
BUSY_CALLS = 100
MAX_RECORDING_SIZE = 65_536
QUIET_LISTING_TARGET = 3
SYNCS = ("first", "quiet", "busy")
KINDS = ("listing", "lookups", "AI", "users", "ping", "other")
RESOURCES = {
    "transcriptions": "transcription",
    "summaries": "summary",
    "topics": "topics",
    "sentiments": "sentiments",
    "action_items": "action_items",
    "playbook_results": "playbook_result",
    "evaluations": "evaluations",
    "custom_summaries": "custom_summary_result",
    "predicted_csat": "predicted_csat",
}
_LOOKUP = re.compile(r"/v1/calls/\d+")
_INSIGHT = re.compile(r"/v1/calls/\d+/([a-z_]+)")


@dataclass(frozen=True)
class Connection:
    label: str
    streams: tuple[str, ...]
    files: bool


RECORDS_STREAMS = ("users", "calls", "recordings", "import_decisions")
CONNECTIONS = (
    Connection("records, no AI", RECORDS_STREAMS, files=False),
    Connection("records + AI", (*RECORDS_STREAMS, *AI_STREAMS), files=False),
    Connection("files", ("recordings",), files=True),
)


@dataclass
class Measured:
    """One sync of one connection: API requests by kind and by path, storage requests,
    imported calls (`recordings` records), seconds."""

    kinds: Counter[str]
    paths: Counter[str]
    storage: int
    imported: int
    seconds: float
    insight_records: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def breakdown(self) -> str:
        parts = ", ".join(f"{self.kinds[k]} {k}" for k in KINDS if self.kinds[k])
        return f"{self.total} API requests" + (f" ({parts})" if parts else "")

    def per_resource(self) -> Counter[str]:
        asked: Counter[str] = Counter()
        for path, n in self.paths.items():
            if match := _INSIGHT.fullmatch(path):
                asked[match[1]] += n
        return asked


def kind_of(path: str) -> str:
    if path == "/v1/calls":
        return "listing"
    if _LOOKUP.fullmatch(path):
        return "lookups"
    if _INSIGHT.fullmatch(path):
        return "AI"
    if path.startswith("/v2/users"):
        return "users"
    if path == "/v1/ping":
        return "ping"
    return "other"


def libfaketime() -> str:
    """Debian's `faketime` library (`make day` installs it), whatever the architecture."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        raise RuntimeError("libfaketime is missing: `apt-get install faketime` (or `make day`)")
    return found[0]


def measure(bench: Bench) -> None:
    library = libfaketime()
    rows: list[Row] = []
    ratio_rows: list[Row] = []
    for per_day, days in VOLUMES:
        results = measure_volume(bench, library, per_day, days)
        volume = f"{per_day:,}/day"
        for connection in CONNECTIONS:
            for sync in SYNCS:
                m = results[connection.label][sync]
                target, ok = "", None
                if connection.label in ("records + AI", "files") and sync == "quiet":
                    listing = m.kinds["listing"]
                    ok = listing <= QUIET_LISTING_TARGET
                    target = f"listing <= {QUIET_LISTING_TARGET}: {'MET' if ok else 'MISSED'}"
                rows.append(
                    Row(
                        f"{volume}, {connection.label}, {sync}",
                        f"{m.breakdown()}; storage {m.storage}",
                        target,
                        ok,
                    )
                )
                bench.notes.append(
                    f"costs {volume} ({days} days), {connection.label}, {sync} sync: "
                    f"{m.breakdown()}, {m.storage} storage requests, {m.imported} calls "
                    f"imported, {m.seconds:.1f} s."
                )
        busy = results["records + AI"]["busy"]
        asked = busy.per_resource()
        per_call = ", ".join(
            f"{stream} {asked[resource] / max(1, busy.imported):.2f}"
            for stream, resource in RESOURCES.items()
        )
        ratio_rows.append(
            Row(
                f"{volume}, busy sync, {busy.imported} calls imported",
                per_call,
                "",
                None,
            )
        )
        bench.notes.append(
            f"costs {volume}, records + AI, busy sync: insight records "
            + ", ".join(f"{s} {busy.insight_records.get(s, 0)}" for s in AI_STREAMS)
            + "; AI requests "
            + ", ".join(f"{r} {asked[r]}" for r in RESOURCES.values())
            + "."
        )
    bench.sections.append(
        Section(
            "costs: Aircall API requests per sync, per connection (first; quiet: 15 min "
            "later, no new call; busy: 15 min later, 100 new calls), from the sandbox's "
            "request log",
            rows,
        )
    )
    bench.sections.append(
        Section("costs: AI requests per imported call in the busy sync, per AI stream", ratio_rows)
    )


def measure_volume(
    bench: Bench, library: str, per_day: int, days: int
) -> dict[str, dict[str, Measured]]:
    """The three syncs of the three connections on one sandbox of `per_day` x `days`
    calls; each connection starts each sync at the same sandbox time."""
    results: dict[str, dict[str, Measured]] = {c.label: {} for c in CONNECTIONS}
    with Sandbox(seed=7, calls=0, rate_limit=0) as sandbox:
        started = time.monotonic()
        sandbox.add_bulk_calls(per_day * days, days=days, max_recording_size=MAX_RECORDING_SIZE)
        print(
            f"    costs: {per_day * days:,} calls generated in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        first = sandbox.now()
        connectors = {c.label: bench.connector(sandbox, f"costs-{c.label}") for c in CONNECTIONS}
        states: dict[str, list[dict[str, Any]] | None] = {c.label: None for c in CONNECTIONS}
        for step, sync in enumerate(SYNCS):
            at = first + step * EVERY
            if sync == "busy":
                set_clock(sandbox, at)
                sandbox.add_bulk_calls(
                    BUSY_CALLS, spread_seconds=EVERY - 1, max_recording_size=MAX_RECORDING_SIZE
                )
            for connection in CONNECTIONS:
                config = sandbox.config(
                    import_window_days=days,
                    delivery_method={
                        "delivery_type": "use_file_transfer"
                        if connection.files
                        else "use_records_transfer"
                    },
                )
                configured = catalog(list(connection.streams), include_files=connection.files)
                connector = connectors[connection.label]
                offset = set_clock(sandbox, at)
                connector.extra_env.update(LD_PRELOAD=library, FAKETIME=f"{offset:+d}s")
                sandbox.clear_log()
                clock = time.monotonic()
                run = bench.run(connector, "read", config, configured, states[connection.label])
                seconds = time.monotonic() - clock
                states[connection.label] = run.states()
                paths = Counter(sandbox.request_counts("api"))
                kinds: Counter[str] = Counter()
                for path, n in paths.items():
                    kinds[kind_of(path)] += n
                storage = sum(sandbox.request_counts("storage").values())
                results[connection.label][sync] = Measured(
                    kinds,
                    paths,
                    storage,
                    len(run.records("recordings")),
                    seconds,
                    {s: len(run.records(s)) for s in AI_STREAMS if s in connection.streams},
                )
                print(
                    f"    costs {per_day:,}/day {connection.label}, {sync}: "
                    f"{results[connection.label][sync].breakdown()}, {seconds:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
    return results


def set_clock(sandbox: Sandbox, at: int) -> int:
    """Move the sandbox's clock to read `at` now; the offset, for the connector's too."""
    offset = at - int(time.time())
    sandbox.set_clock_offset(offset)
    return offset
