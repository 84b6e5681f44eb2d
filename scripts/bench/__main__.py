"""`make bench`: the connector against the simplest possible baseline, on the sandbox.

Everything runs on loopback against `aircall_sandbox` (a subprocess), the connector as
a process the way Airbyte runs it (`tests/harness.py`), and prints one table:

- start-up: `spec` (Python, airbyte-cdk import, exit), on its own line; the connector's
  times are counted past it: each read less the `spec` run just before it.
- `calls`: a full read of 12,000 calls (sandbox rate limit off, the connector's pacing
  switched off in its process) against `scripts/bench_baseline.py` (requests + json, same window, same JSON
  lines, less its own start-up); the records must be the same. The CPU ratio (median of
  the interleaved pairs) must be at most 1.3x: missing it fails the bench (exit status 1,
  a MISSED line under the table).
- requests per sync, from the sandbox's request log, users + calls + recordings: a first
  sync, then a steady-state sync with 0 and with 300 new calls, each from the state of
  the one before. Lower bound: count requests (windows that must be split under
  Aircall's 10,000 cap, `aircall/windows.py`; a window that is read is counted by its
  first page) + ceil(calls / 50) + users pages, where calls are the whole window on a
  first sync and afterwards the calls started since the last cursor plus those pending.
- recordings: download throughput of one 150 MiB recording against plain requests
  streaming the same URL to disk (and, for information, plain requests + sha256, which
  the connector must compute); peak RSS (VmHWM) with a 1 MiB against a 150 MiB
  recording; 20 small recordings with 100 ms of sandbox latency, the connector's
  download pool against the same connector with DOWNLOAD_WORKERS forced to 1.
- pacing: a 12,000-call read against the sandbox's token bucket (burst 2) at 60, 120
  and 600 requests a minute, `requests_per_minute` set to the same rate: requests per
  second as the sandbox received them (the most in any 10 s span, and the mean), answers
  429 (target 0), requests against the lower bound (target: at most 2 more), and the
  read's time against the lower bound divided by the rate.
- storage: the recordings served by nginx (Debian's package; installed with apt-get
  when missing) as the storage host on loopback, the way S3 would serve them (pre-signed
  query strings ignored, `Range` honoured): 1 x 150 MiB and 8 x 16 MiB, the connector
  with its download pool at 1 and 4 workers against plain requests + sha256 of the same
  URLs with as many threads (target: at least 0.9x), and the connector's peak RSS.
- scale model: requests and duration of a 100,000-call, 14-day window at 120
  requests/min, from the package's own window splitting over a uniform account.
- Aircall AI (`scripts/bench/ai_slot.py`): the first sync of 200 imported calls with
  every stream at the records connection's 40 requests a minute, and the syncs its AI
  backlog takes, this version beside the previous one in the same run.
- Aircall AI on the simulated day (`scripts/bench/ai_day.py`): the day of `make day`
  (96 syncs) with every stream, judged by its oracle: AI requests per imported call per
  AI stream (target at most 1.3) and insights on the first sync at or after they became
  ready (target at least 97%), this version beside the previous one in the same run.
- costs (`scripts/bench/costs.py`): Aircall API requests per sync, by path kind, of
  three connections (records without AI, records with AI, files) at 1,000 and 10,000
  calls a day: a first, a quiet and a busy sync, the clocks moved 15 minutes each time.
- removal re-check (`scripts/bench/recheck.py`): the requests the rolling re-check adds
  per sync at 1,000 and 10,000 calls a day (target: a pass's pages / 96 + 1), and the
  states' size (target: under 512 KiB).

Times are medians of interleaved runs (`--repeats`), so a busy machine hurts both sides
alike. `--profile` also prints where the connector's time goes in the `calls` read
(pyinstrument when installed in the venv, else cProfile). `--package-root DIR` runs
`DIR/main.py` instead, to measure a changed copy of the package.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from functools import partial
from importlib.metadata import version
from pathlib import Path

from . import ai_day, ai_slot, calls_read, costs, pacing, recheck, recordings, scale, storage
from .kit import ROOT, SCRATCH, WORKDIR, Bench
from .table import missed_strict, print_table

Part = Callable[[Bench, tuple[int, ...]], None]
"""One measured part: the bench, and the pacing rates (read by the pacing part only)."""

PARTS: dict[str, tuple[str, Part]] = {
    "calls": ("calls read and requests per sync", lambda bench, _: calls_read.measure(bench)),
    "recordings": ("recordings", lambda bench, _: recordings.measure(bench)),
    "storage": ("recordings from nginx", lambda bench, _: storage.measure(bench)),
    "pacing": ("pacing against a token bucket", pacing.measure),
    "scale": ("scale model", lambda bench, _: scale.measure(bench)),
    "costs": ("requests per sync, per connection", lambda bench, _: costs.measure(bench)),
    "ai": ("Aircall AI first sync and backlog", lambda bench, _: ai_slot.measure(bench)),
    "ai-day": ("Aircall AI on the simulated day", lambda bench, _: ai_day.measure(bench)),
    "recheck": ("removal re-check", lambda bench, _: recheck.measure(bench)),
}
"""The parts in the order they run (the table keeps the `calls` section first)."""


def timed(label: str, step: Callable[[], None]) -> None:
    started = time.monotonic()
    step()
    print(f"  {label}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per timed measure")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the calls read (pyinstrument if installed, else cProfile)",
    )
    parser.add_argument("--package-root", type=Path, default=ROOT, help="where main.py is")
    parser.add_argument(
        "--only",
        choices=tuple(PARTS),
        action="append",
        help="run only these parts (calls includes requests per sync); default: all",
    )
    parser.add_argument(
        "--rates",
        type=lambda text: tuple(int(part) for part in text.split(",")),
        default=pacing.PACING_RATES,
        help="requests a minute tried by the pacing part, comma-separated (default 60,120,600)",
    )
    args = parser.parse_args(argv)
    WORKDIR.mkdir(parents=True, exist_ok=True)
    bench = Bench(max(1, args.repeats), args.package_root.resolve(), args.profile)
    load = os.getloadavg()[0]
    started = time.monotonic()
    print(
        f"make bench: {platform.python_implementation()} {platform.python_version()}, "
        f"airbyte-cdk {version('airbyte-cdk')}, {os.cpu_count()} CPUs, "
        f"load average {load:.1f} at start; progress on stderr.",
        flush=True,
    )
    parts = set(args.only or PARTS)
    try:
        timed("start-up", bench.measure_startup)
        for name, (label, measure) in PARTS.items():
            if name in parts:
                timed(label, partial(measure, bench, args.rates))
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)  # RAM when it is a tmpfs
    print_table(bench.heading(), bench.sections, bench.notes, bench.profile_text)
    print(
        f"bench took {time.monotonic() - started:.0f} s; recordings were written under "
        f"{SCRATCH.parent}, load average {os.getloadavg()[0]:.1f} at the end."
    )
    shutil.rmtree(WORKDIR, ignore_errors=True)
    with contextlib.suppress(OSError):
        WORKDIR.parent.rmdir()  # when no other run is using it
    missed = missed_strict(bench.sections)
    if missed:
        print(
            f"make bench FAILED: {len(missed)} strict target(s) missed "
            f"({'; '.join(r.measure for r in missed)}).",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
