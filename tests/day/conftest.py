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
from tests.day.oracle_decisions import DecisionsVerdict, judge_decisions
from tests.day.oracle_insights import AI_STREAMS, InsightsVerdict, judge_insights
from tests.day.oracle_removals import RemovalsVerdict, judge_removals
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
        _LINES.extend(insights_summary(insights_verdict(outcome)))
        _LINES.extend(decisions_summary(decisions_verdict(outcome)))
        _LINES.extend(removals_summary(outcome, removals_verdict(outcome)))
        yield outcome, verdict
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def recordings_emitted(outcome: DayOutcome) -> set[int]:
    return {int(record["call_id"]) for _, record in outcome.emitted.recordings}


def insights_verdict(outcome: DayOutcome) -> InsightsVerdict:
    return judge_insights(
        outcome.insights_expected,
        outcome.insights_emitted,
        recordings_emitted(outcome),
        outcome.insight_requests,
    )


def decisions_verdict(outcome: DayOutcome) -> DecisionsVerdict:
    return judge_decisions(
        outcome.decisions_expected, outcome.decisions_emitted, recordings_emitted(outcome)
    )


def removals_verdict(outcome: DayOutcome) -> RemovalsVerdict:
    emitted = {s: {i for _, i in outcome.insights_emitted[s]} for s in AI_STREAMS}
    emitted["calls"] = {int(record["id"]) for _, record in outcome.emitted.calls}
    return judge_removals(outcome.removals_expected, outcome.removals_emitted, emitted)


@pytest.fixture(scope="session")
def removals(day: tuple[DayOutcome, DayVerdict]) -> tuple[DayOutcome, RemovalsVerdict]:
    return day[0], removals_verdict(day[0])


def removals_summary(outcome: DayOutcome, verdict: RemovalsVerdict) -> list[str]:
    expected = outcome.removals_expected
    return [
        f"removals: {len(expected.required)} imported calls removed in Aircall "
        f"({sum(expected.required.values())} whole calls), {len(expected.never)} not imported; "
        + "; ".join(
            f"{s} reported {len(ids)}, missing {len(verdict.missing[s])}, twice "
            f"{len(verdict.twice[s])}, unexpected {len(verdict.unexpected[s])}"
            for s, ids in verdict.reported.items()
        )
    ]


@pytest.fixture(scope="session")
def insights(day: tuple[DayOutcome, DayVerdict]) -> InsightsVerdict:
    return insights_verdict(day[0])


@pytest.fixture(scope="session")
def decisions(day: tuple[DayOutcome, DayVerdict]) -> DecisionsVerdict:
    return decisions_verdict(day[0])


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
        f"users: {outcome.users_expected} expected, {len(outcome.users_emitted)} arrived; "
        f"deleted in Aircall {1 if outcome.user_deleted else 0}, reported at syncs "
        f"{[k for k, _ in outcome.users_removed]} (deleted before sync "
        f"{outcome.user_deleted[1] if outcome.user_deleted else None})",
        f"requests per sync: median {figures['requests_per_sync_median']}, max "
        f"{figures['requests_per_sync_max']}; 429 answers {figures['rate_limited_answers']}; "
        f"state max {figures['state_max_bytes']} bytes; file problems "
        f"{len(outcome.file_problems) + len(outcome.record_file_problems)}",
    ]


# The same figures of the version before the transcription gate and the AI slot, on this
# day with its five AI streams, as `python -m scripts.bench --only ai-day` measured them
# (that part runs both versions' days in one run; the day runs this version only).
PREVIOUS_REQUESTS_PER_CALL = "1.66 (five streams)"
PREVIOUS_ON_TIME = "83.3%, transcriptions 90.6%"


def insights_summary(verdict: InsightsVerdict) -> list[str]:
    lines = [
        f"Aircall AI, {len(AI_STREAMS)} streams: requests per imported call per stream "
        f"{verdict.requests_per_call_per_stream()} (target <= 1.3; previous version "
        f"{PREVIOUS_REQUESTS_PER_CALL}); insights on the first sync at or after they became "
        f"ready {verdict.on_time_share()}%, transcriptions "
        f"{verdict.on_time_share(['transcriptions'])}% (target >= 97%; previous version "
        f"{PREVIOUS_ON_TIME})"
    ]
    for stream in AI_STREAMS:
        lines.append(
            f"{stream}: {verdict.expected[stream]} expected, {verdict.arrived[stream]} arrived"
            f" (delays {delays_text(verdict.delays[stream])}); missing "
            f"{len(verdict.missing[stream])}, duplicates {len(verdict.duplicates[stream])}, "
            f"unexpected {len(verdict.unexpected[stream])}, for calls not imported "
            f"{len(verdict.not_imported[stream])}; uncounted arrived "
            f"{verdict.uncounted_arrived[stream]}; {verdict.requests_total[stream]} requests, per call max "
            f"{verdict.requests_max[stream]}, mean {verdict.requests_mean[stream]}, over 5: "
            f"{len(verdict.requests_over_total[stream])}, twice in a sync: "
            f"{len(verdict.requests_twice_in_a_sync[stream])}"
        )
    return lines


def decisions_summary(verdict: DecisionsVerdict) -> list[str]:
    finals = ", ".join(f"{d} {n}" for d, n in sorted(verdict.finals.items()))
    return [
        f"import_decisions: {verdict.records} records, {verdict.checked} calls checked "
        f"(last decisions: {finals}); missing {len(verdict.missing)}, wrong last decision "
        f"{len(verdict.wrong_final)}, repeated {len(verdict.repeated)}, unexpected "
        f"{len(verdict.unexpected)}; imported but not in recordings "
        f"{len(verdict.imported_not_in_recordings)}, in recordings but not imported "
        f"{len(verdict.recordings_not_imported)}",
    ]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _LINES:
        terminalreporter.section("simulated day")
        for line in _LINES:
            terminalreporter.write_line(line)
