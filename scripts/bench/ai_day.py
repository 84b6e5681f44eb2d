"""The Aircall AI figures of the simulated day: AI requests per imported call per AI
stream, and the share of insights delivered by the first sync at or after they became
ready; this version beside the one before (`ai_slot.previous_version`: its five AI
streams, no transcription gate, no slot), measured in the same run.

Both run the whole day of `make day` (tests/day/simulation.py: the same seeded scenario,
96 syncs 15 minutes apart, the connector's clock moved by libfaketime), about 5 minutes
a version, and are judged by the day's oracle (tests/day/oracle_insights.py), which
reads only the scenario. Each version is asked for the AI streams it has: the figures
count those streams only, and this version's are also given over the previous
version's five, so that the two compare stream for stream.

    this version:     day (96 syncs, nine AI streams) -> oracle -> figures
    previous version: day (96 syncs, five AI streams) -> oracle -> figures
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests import harness
from tests.day.conftest import recordings_emitted
from tests.day.oracle_insights import AI_STREAMS, InsightsVerdict, judge_insights
from tests.day.simulation import STREAMS, DayOutcome, run_day

from .ai_slot import PREVIOUS_AI, previous_version
from .kit import WORKDIR, Bench
from .table import Row, Section

MAX_REQUESTS_PER_CALL = 1.3
MIN_ON_TIME = 97.0
NINE = tuple(AI_STREAMS)
PREVIOUS_STREAMS = tuple(s for s in STREAMS if s not in AI_STREAMS or s in PREVIOUS_AI)


@contextmanager
def connector_command(command: list[str]) -> Iterator[None]:
    """The day's syncs run `command` (the harness starts every process from it)."""
    original = harness.connector_command
    harness.connector_command = lambda: list(command)
    try:
        yield
    finally:
        harness.connector_command = original


def day_verdict(label: str, command: list[str], streams: tuple[str, ...]) -> InsightsVerdict:
    workdir = WORKDIR / f"ai-day-{label}"
    started = time.monotonic()
    try:
        with connector_command(command):
            outcome: DayOutcome = run_day(workdir, streams=streams)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    failed = outcome.failed_syncs()
    print(
        f"    ai day {label}: {len(outcome.runs)} syncs in {time.monotonic() - started:.0f} s,"
        f" failed {failed or 'none'}",
        file=sys.stderr,
        flush=True,
    )
    if failed:
        raise RuntimeError(f"the simulated day of {label} had failed syncs: {failed}")
    return judge_insights(
        outcome.insights_expected,
        outcome.insights_emitted,
        recordings_emitted(outcome),
        outcome.insight_requests,
    )


def figures(verdict: InsightsVerdict, streams: tuple[str, ...]) -> str:
    return (
        f"{verdict.requests_per_call_per_stream(streams)} AI requests per imported call per "
        f"stream; {verdict.on_time_share(streams)}% of insights on the first sync at or "
        f"after they became ready (transcriptions {verdict.on_time_share(['transcriptions'])}%)"
    )


def measure(bench: Bench) -> None:
    this = day_verdict("this", bench.command(), STREAMS)
    cost = this.requests_per_call_per_stream(NINE)
    on_time = this.on_time_share(NINE)
    rows = [
        Row(
            "this version, nine AI streams: requests per call per stream",
            f"{cost}",
            f"<= {MAX_REQUESTS_PER_CALL}: {'MET' if cost <= MAX_REQUESTS_PER_CALL else 'MISSED'}",
            cost <= MAX_REQUESTS_PER_CALL,
        ),
        Row(
            "this version, nine AI streams: on the first sync at or after ready",
            f"{on_time}% (transcriptions {this.on_time_share(['transcriptions'])}%)",
            f">= {MIN_ON_TIME:g}%: {'MET' if on_time >= MIN_ON_TIME else 'MISSED'}",
            on_time >= MIN_ON_TIME,
        ),
        Row("this version, over the previous version's five", figures(this, PREVIOUS_AI), "", None),
    ]
    previous = previous_version()
    if previous is None:
        bench.notes.append("ai day: the previous version could not be built from git.")
    else:
        command = [sys.executable, str(previous / "main.py")]
        before = day_verdict("previous", command, PREVIOUS_STREAMS)
        rows.append(
            Row("previous version, its five AI streams", figures(before, PREVIOUS_AI), "", None)
        )
    bench.sections.append(
        Section(
            "Aircall AI on the simulated day (`make day`'s scenario and oracle, 96 syncs), "
            "this version and the previous one in the same run",
            rows,
        )
    )
