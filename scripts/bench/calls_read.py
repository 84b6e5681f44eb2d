"""The `calls` part: a full read of 12,000 calls, the connector against the baseline.

The baseline is `scripts/bench_baseline.py` (requests + json, same window, same JSON
lines); both are counted past their own start-up, measured next to each read.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, ConnectorRun, catalog

from . import requests_per_sync
from .kit import CALLS, ROOT, Bench, Timing, median_timing
from .table import Row, Section

CALLS_RATIO_MAX = 1.5
# CPU per record: the connector's CPU past start-up against the baseline's, in the same
# run (median of the interleaved pairs). Missing it fails `make bench` (exit status 1).
CALLS_CPU_RATIO_MAX = 1.3

# The connector with its pacing off (an API budget with no policy), for the `calls` read:
# that part measures the connector's own cost per record, next to an unpaced baseline; the
# pacing is measured on its own (`pacing.py`). At requests_per_minute=1000, even
# pacing alone makes 242 requests last at least 14.5 s.
#
# Both programs write where their start-up ends (`MARK`): CPU and monotonic time once
# everything is imported. What follows, to the process's exit, is "past start-up",
# measured in the process itself rather than as the read less a separate start-up run:
# on a shared machine two start-ups (1.5 to 2.5 s of CPU each) differ by more than the
# whole per-record cost of the read (docs/performance.md).
MARK = """\
import os as _os, time as _time
with open(_os.environ["BENCH_MARK"], "w") as _mark:
    _mark.write(f"{{_time.process_time()}} {{_time.monotonic()}}")
"""
NO_PACING = """\
from airbyte_cdk.sources.streams.call_rate import APIBudget
import source_aircall_salescaling.aircall.session as session
session.api_budget = lambda requests_per_minute: APIBudget(policies=[])
"""
UNPACED = (
    NO_PACING
    + """\
from source_aircall_salescaling.run import run
"""
    + MARK
    + """\
run()
"""
)
# The baseline script, imported (its start-up: Python, requests), then run.
BASELINE = (
    """\
import sys
sys.path.insert(0, {scripts!r})
import bench_baseline
"""
    + MARK
    + """\
sys.exit(bench_baseline.main(sys.argv[1:]))
"""
)

# A statistical profile of the connector process (pyinstrument when installed, else cProfile),
# paced like the measured read (not at all): paced, the profile is mostly sleep.
PROFILE = (
    """\
import os, runpy, sys
"""
    + NO_PACING
    + """\
sys.argv = [{main!r}, *sys.argv[1:]]
out = os.environ["BENCH_PROFILE"]
try:
    from pyinstrument import Profiler
except ImportError:
    import cProfile, pstats
    profile = cProfile.Profile()
    start, stop = profile.enable, profile.disable
    def report(text):
        stats = pstats.Stats(profile, stream=text)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(20)
else:
    profiler = Profiler(interval=0.001)
    start, stop = profiler.start, profiler.stop
    def report(text):
        text.write(profiler.output_text(unicode=False, color=False))
start()
try:
    runpy.run_path({main!r}, run_name="__main__")
finally:
    stop()
    with open(out, "w") as text:
        report(text)
"""
)


def measure(bench: Bench) -> None:
    """Connector and baseline reads of the same 12,000 calls, interleaved, each counted
    past its own start-up (`MARK`), with the connector's start-up alone (`spec`) next to
    each read for the heading (and, for comparison, the read less that `spec`)."""
    with Sandbox(seed=7, calls=0, rate_limit=0, large_recordings=0) as sandbox:
        sandbox.add_bulk_calls(CALLS, days=10)
        config = sandbox.config(requests_per_minute=1000, first_sync_max_calls=1_000_000)
        connector_past: list[Timing] = []
        baseline_past: list[Timing] = []
        cpu_ratios: list[float] = []
        less_spec: list[Timing] = []  # the read less the `spec` run before it
        reads: list[Timing] = []
        same = True
        connector_requests = baseline_requests = 0
        for index in range(bench.repeats):
            connector = bench.connector(sandbox, "calls")
            startup = bench.spec(connector)
            sandbox.clear_log()
            result, past = connector_read(bench, connector, config)
            reads.append(Timing(result.seconds, result.cpu_seconds))
            connector_past.append(past)
            less_spec.append(
                Timing(result.seconds - startup.wall, result.cpu_seconds - startup.cpu)
            )
            log = sandbox.requests_log("api")
            connector_requests = len(log)
            # The first listing request (a ping may come first: the sync reads Aircall's
            # clock before it lists).
            page = next(e for e in log if e["path"] == "/v1/calls")
            start, end = int(page["query"]["from"]), int(page["query"]["to"])
            out = connector.workdir / "baseline.jsonl"
            sandbox.clear_log()
            emails = config["salescaling_user_emails"]
            baseline_past.append(baseline(sandbox, start, end, out, connector.workdir, emails))
            baseline_requests = len(sandbox.requests_log("api"))
            cpu_ratios.append(connector_past[-1].cpu / baseline_past[-1].cpu)
            if index == 0:
                same = same_records(result, out)
        if bench.profile:
            profile_calls(bench, sandbox, config)
        requests_per_sync.measure(bench, sandbox, config)
    requests_per_sync.measure_quiet(bench)

    past = median_timing(connector_past)
    base = median_timing(baseline_past)
    whole = median_timing(reads)
    wall_ratio = past.wall / base.wall
    # Each connector read is paired with the baseline read right after it: the median of
    # the pairs' ratios is less swayed by the load of a shared machine than a ratio of
    # medians taken minutes apart.
    cpu_ratio = statistics.median(cpu_ratios)
    bench.sections.insert(
        0,
        Section(
            f"calls: full read of {CALLS:,} calls (pacing off; median of {bench.repeats})",
            [
                Row(
                    "connector, past start-up",
                    f"{past.wall:.2f} s wall, {past.cpu:.2f} s CPU, {CALLS / past.wall:,.0f} rec/s",
                    "",
                    None,
                ),
                Row(
                    "baseline (requests + json), past start-up",
                    f"{base.wall:.2f} s wall, {base.cpu:.2f} s CPU, {CALLS / base.wall:,.0f} rec/s",
                    "",
                    None,
                ),
                Row(
                    "ratio connector / baseline, wall",
                    f"{wall_ratio:.2f}x",
                    f"<= {CALLS_RATIO_MAX}x",
                    wall_ratio <= CALLS_RATIO_MAX,
                ),
                Row(
                    "ratio connector / baseline, CPU",
                    f"{cpu_ratio:.2f}x ({past.cpu:.2f} s / {base.cpu:.2f} s; runs: "
                    f"{', '.join(f'{r:.2f}x' for r in cpu_ratios)})",
                    f"<= {CALLS_CPU_RATIO_MAX}x (official: 5.5x)",
                    cpu_ratio <= CALLS_CPU_RATIO_MAX,
                    strict=True,
                ),
                Row(
                    "records identical to the baseline's",
                    f"{'yes' if same else 'NO'} ({connector_requests} vs "
                    f"{baseline_requests} requests)",
                    "same records",
                    same,
                ),
            ],
        ),
    )
    spec_less = median_timing(less_spec)
    bench.notes.append(
        f"calls read, whole connector process: {whole.wall:.2f} s wall, "
        f"{whole.cpu:.2f} s CPU (median); less the `spec` run before it, as counted "
        f"before the in-process mark: {spec_less.wall:.2f} s wall, {spec_less.cpu:.2f} s CPU "
        f"({spec_less.cpu / base.cpu:.2f}x the baseline's CPU)."
    )


def connector_read(
    bench: Bench, connector: Connector, config: dict[str, Any]
) -> tuple[ConnectorRun, Timing]:
    """The connector's unpaced read of `calls`, its lines written to a file as the
    baseline writes its own, and read only once it has exited: a reader parsing the lines
    while it runs (the test harness) is a third busy process on the bench's two CPUs with
    the sandbox, and made the connector's CPU time some 0.15 s larger than the baseline
    gets to measure its own. Returns the run and its time past start-up."""
    mark = connector.workdir / "mark"
    out = connector.workdir / "read.jsonl"
    arguments = [
        "read",
        "--config", write_json(connector.workdir / "config.json", config),
        "--catalog", write_json(
            connector.workdir / "catalog.json", catalog({"calls": "full_refresh"})
        ),
    ]  # fmt: skip
    started = time.monotonic()
    with open(out, "w") as lines, open(connector.workdir / "read.stderr", "w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-c", bench.wrapped(UNPACED), *arguments],
            stdout=lines,
            stderr=errors,
            env={**connector.env(), "BENCH_MARK": str(mark)},
            cwd=connector.workdir,
        )
        _, status, usage = os.wait4(process.pid, 0)
    ended = time.monotonic()
    text = out.read_text()
    messages = [m for m in (json.loads(line) for line in text.splitlines() if line) if m]
    result = ConnectorRun(
        returncode=os.waitstatus_to_exitcode(status),
        messages=messages,
        stdout_noise=[],
        stderr=(connector.workdir / "read.stderr").read_text(),
        seconds=ended - started,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )
    if result.returncode != 0 or result.errors():
        errors_seen = [e.get("message") for e in result.errors()]
        raise RuntimeError(f"connector read failed ({result.returncode}): {errors_seen}")
    return result, past_mark(mark, result.cpu_seconds, ended)


def write_json(path: Path, content: Any) -> str:
    path.write_text(json.dumps(content))
    return str(path)


def past_mark(mark: Path, cpu_seconds: float, ended: float) -> Timing:
    """A process's wall time and CPU past its start-up: from its `MARK` to its exit."""
    cpu_at_mark, wall_at_mark = (float(part) for part in mark.read_text().split())
    return Timing(ended - wall_at_mark, cpu_seconds - cpu_at_mark)


def baseline(
    sandbox: Sandbox, start: int, end: int, out: Path, workdir: Path, emails: list[str]
) -> Timing:
    """The baseline's read of the window (start, end], past its start-up."""
    mark = workdir / "baseline-mark"
    command = [
        sys.executable, "-c", BASELINE.format(scripts=str(ROOT / "scripts")),
        "--api-url", sandbox.api_url, "--api-id", sandbox.api_id,
        "--api-token", sandbox.api_token,
        "--from", str(start), "--to", str(end), "--out", str(out),
        "--salescaling-emails", ",".join(emails),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stderr=subprocess.DEVNULL, env={**os.environ, "BENCH_MARK": str(mark)}
    )
    _, status, usage = os.wait4(process.pid, 0)
    ended = time.monotonic()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("the baseline failed")
    return past_mark(mark, usage.ru_utime + usage.ru_stime, ended)


def profile_calls(bench: Bench, sandbox: Sandbox, config: dict[str, Any]) -> None:
    connector = bench.connector(sandbox, "profile")
    output = connector.workdir / "profile.txt"
    connector.extra_env["BENCH_PROFILE"] = str(output)
    bench.run(
        connector,
        "read",
        config,
        catalog({"calls": "full_refresh"}),
        command=[sys.executable, "-c", bench.wrapped(PROFILE)],
    )
    bench.profile_text = output.read_text()


def same_records(run: ConnectorRun, baseline_out: Path) -> bool:
    """The connector's `calls` records equal the baseline's (null fields, which the CDK's
    serializer leaves out, are ignored on both sides)."""

    def normalized(records: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = ({k: v for k, v in r.items() if v is not None} for r in records)
        return sorted(kept, key=lambda r: int(r["id"]))

    with open(baseline_out) as lines:
        baseline = normalized(json.loads(line)["record"]["data"] for line in lines)
    return normalized(iter(run.records("calls"))) == baseline
