"""The simulated day runs once per session (it takes minutes); its figures are printed at
the end of the run, whatever the tests' outcome, for docs/reliability.md."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.day.oracle import DayVerdict, judge
from tests.day.simulation import DayOutcome, delays_text, run_day

ENABLED = os.environ.get("AIRCALL_DAY") == "1"
_LINES: list[str] = []


@pytest.fixture(scope="session")
def day() -> Iterator[tuple[DayOutcome, DayVerdict]]:
    workdir = Path(tempfile.mkdtemp(prefix="aircall-day-"))
    try:
        outcome = run_day(workdir)
        verdict = judge(outcome.expected, outcome.emitted)
        _LINES.extend(summary(outcome, verdict))
        yield outcome, verdict
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def summary(outcome: DayOutcome, verdict: DayVerdict) -> list[str]:
    figures = outcome.figures()
    expected = outcome.expected
    scenario = outcome.scenario
    return [
        f"scenario: {len(scenario.calls)} calls in the day, {len(scenario.history)} before it, "
        f"{len(scenario.stuck_ids)} stuck in progress for hours; {len(outcome.runs)} syncs, "
        f"{figures['seconds']} s; failed syncs: {outcome.failed_syncs() or 'none'}",
        f"calls: {verdict.calls_expected} records expected ({len(expected.calls_required)} calls),"
        f" {verdict.calls_arrived} arrived; never arrived: {len(verdict.calls_missing_first)} "
        f"calls, {len(verdict.calls_missing_changes)} changes; emitted unchanged again: "
        f"{len(verdict.calls_unchanged_again)}; not as served: {len(verdict.calls_not_as_served)};"
        f" unexpected: {len(verdict.calls_unexpected)}; stale last record: "
        f"{len(verdict.calls_stale_last)} of {len(expected.calls_settled_checked)}",
        f"calls delays: {delays_text(verdict.calls_delays)}",
        f"recordings: {verdict.recordings_expected} expected, {verdict.recordings_arrived} "
        f"arrived, missing {len(verdict.recordings_missing)}, duplicates "
        f"{len(verdict.recordings_duplicates)}, unexpected {len(verdict.recordings_unexpected)};"
        f" allowed (late after hang-up) {len(expected.recordings_allowed)}, of which arrived "
        f"{verdict.recordings_allowed_arrived}; left behind by the first sync's cap "
        f"{len(expected.recordings_left_behind)}",
        f"recordings delays: {delays_text(verdict.recordings_delays)}",
        f"users: {outcome.users_expected} expected, {len(outcome.users_emitted)} arrived",
        f"requests per sync: median {figures['requests_per_sync_median']}, max "
        f"{figures['requests_per_sync_max']}; 429 answers {figures['rate_limited_answers']}; "
        f"state max {figures['state_max_bytes']} bytes; file problems "
        f"{len(outcome.file_problems) + len(outcome.record_file_problems)}",
    ]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _LINES:
        terminalreporter.section("simulated day")
        for line in _LINES:
            terminalreporter.write_line(line)
