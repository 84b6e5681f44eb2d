"""The day's oracle on its own (fast, part of `make test`): a sequence of syncs that emits
exactly what the contract asks is judged clean, and each kind of miss is caught."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aircall_sandbox.scenario import AccountShape, DayScenario, generate_day
from tests.day.oracle import CallView, DayExpectation, Emitted, SyncConfig, expect_day, judge
from tests.day.oracle_decisions import DecisionsExpectation, expect_decisions, judge_decisions
from tests.day.oracle_insights import (
    AI_STREAMS,
    InsightsExpectation,
    expect_insights,
    judge_insights,
)
from tests.day.oracle_removals import expect_removals, judge_removals

START = 1_794_787_200
SHAPE = AccountShape((1, 2, 3, 4), (10,), (20,), (100,), (1, 3))
EMAILS = {1: "a@x.example", 2: "b@x.example", 3: "c@x.example", 4: "d@x.example"}


def _config(lookback: int) -> SyncConfig:
    return SyncConfig(lookback, 20, 1, frozenset({"a@x.example", "c@x.example"}))


@pytest.fixture(scope="module")
def day() -> tuple[DayScenario, DayExpectation]:
    scenario = generate_day(2, START, SHAPE, 1000, calls=150, history=40)
    times = [START + 900 * (k + 1) for k in range(96)]
    configs = [_config(30 if k < 48 else 60) for k in range(96)]
    return scenario, expect_day(scenario, times, configs, EMAILS)


def _iso(ts: int | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _record(call_id: int, view: CallView) -> dict[str, Any]:
    return {
        "id": call_id, "started_at": _iso(view.started_at), "answered_at": _iso(view.answered_at),
        "ended_at": _iso(view.ended_at), "duration": view.duration,
        "has_recording": view.has_recording, "status": view.status,
    }  # fmt: skip


def _exact(expected: DayExpectation) -> Emitted:
    """What a connector that keeps the contract to the letter emits."""
    emitted = Emitted()
    for call_id, syncs in expected.calls_required.items():
        for k in syncs:
            view = expected.views[call_id][k]
            assert view is not None
            emitted.calls.append((k, _record(call_id, view)))
    for call_id, k in expected.recordings_required.items():
        size = expected.recording_sizes[call_id]
        emitted.recordings.append((k, {"call_id": call_id, "size_bytes": size}))
    return emitted


def test_the_day_asks_for_first_records_changes_and_recordings(
    day: tuple[DayScenario, DayExpectation],
) -> None:
    scenario, expected = day
    assert len(expected.calls_left_behind) == 20  # 40 settled calls, a cap of 20
    assert sum(len(s) - 1 for s in expected.calls_required.values()) > 50
    assert expected.recordings_required and expected.recordings_allowed
    assert scenario.stuck_ids <= expected.calls_required.keys()


def test_an_exact_sequence_of_syncs_is_judged_clean(
    day: tuple[DayScenario, DayExpectation],
) -> None:
    _, expected = day
    verdict = judge(expected, _exact(expected))
    assert verdict.calls_arrived == verdict.calls_expected
    assert set(verdict.calls_delays) == {0} and set(verdict.recordings_delays) == {0}
    assert verdict.calls_stale_last == [] and verdict.calls_unchanged_again == []
    assert verdict.recordings_missing == [] and verdict.recordings_duplicates == []


def test_a_calls_record_frozen_once_done_is_caught(
    day: tuple[DayScenario, DayExpectation],
) -> None:
    _, expected = day
    emitted = _exact(expected)
    first: dict[int, tuple[int, dict[str, Any]]] = {}
    for k, record in emitted.calls:
        first.setdefault(record["id"], (k, record))
    emitted.calls = list(first.values())
    verdict = judge(expected, emitted)
    assert verdict.calls_missing_changes and verdict.calls_stale_last
    assert verdict.calls_missing_first == []


def test_a_recording_emitted_twice_and_a_late_one_are_caught(
    day: tuple[DayScenario, DayExpectation],
) -> None:
    _, expected = day
    emitted = _exact(expected)
    k, record = emitted.recordings[0]
    late_k, late = emitted.recordings[1]
    emitted.recordings += [(k + 3, record)]
    emitted.recordings[1] = (late_k + 1, late)
    verdict = judge(expected, emitted)
    assert verdict.recordings_duplicates == [record["call_id"]]
    assert verdict.recordings_delays[1] == 1


def test_a_call_emitted_again_unchanged_is_caught(
    day: tuple[DayScenario, DayExpectation],
) -> None:
    _, expected = day
    emitted = _exact(expected)
    k, record = emitted.calls[-1]
    emitted.calls.append((min(k + 1, 95), record))
    verdict = judge(expected, emitted)
    assert verdict.calls_unchanged_again


# ---- Aircall AI streams and import_decisions
@pytest.fixture(scope="module")
def insights(day: tuple[DayScenario, DayExpectation]) -> InsightsExpectation:
    scenario, expected = day
    return expect_insights(scenario, expected)


@pytest.fixture(scope="module")
def decisions(day: tuple[DayScenario, DayExpectation]) -> DecisionsExpectation:
    scenario, expected = day
    configs = [_config(30 if k < 48 else 60) for k in range(96)]
    return expect_decisions(scenario, expected, configs, EMAILS, frozenset({20}))


def _exact_insights(
    insights: InsightsExpectation,
) -> tuple[dict[str, list[tuple[int, int]]], list[list[tuple[str, int]]]]:
    """The required insights at the first sync they can arrive, one request each."""
    emitted: dict[str, list[tuple[int, int]]] = {s: [] for s in AI_STREAMS}
    requests: list[list[tuple[str, int]]] = [[] for _ in range(96)]
    for stream, required in insights.required.items():
        for call_id, k in sorted(required.items(), key=lambda item: item[1]):
            emitted[stream].append((k, call_id))
            requests[k].append((stream, call_id))
    return emitted, requests


def _exact_decisions(decisions: DecisionsExpectation) -> list[tuple[int, dict[str, Any]]]:
    return [
        (95, {"call_id": call_id, "decision": min(options, key=lambda d: (d == "imported", d))})
        for call_id, options in decisions.final.items()
    ]


def test_the_day_asks_for_insights_of_every_stream_and_decisions_of_every_kind(
    day: tuple[DayScenario, DayExpectation],
    insights: InsightsExpectation,
    decisions: DecisionsExpectation,
) -> None:
    _, expected = day
    for stream in AI_STREAMS:
        assert insights.required[stream].keys() <= expected.recordings_required.keys()
        assert len(insights.required[stream]) > 10
    assert any(insights.uncounted.values())
    finals = {d for options in decisions.final.values() if len(options) == 1 for d in options}
    assert {"imported", "not_a_salescaling_user", "no_recording"} <= finals
    assert decisions.required <= decisions.final.keys()


def test_exact_insights_and_decisions_are_judged_clean(
    day: tuple[DayScenario, DayExpectation],
    insights: InsightsExpectation,
    decisions: DecisionsExpectation,
) -> None:
    _, expected = day
    imported = set(expected.recordings_required)
    emitted, requests = _exact_insights(insights)
    verdict = judge_insights(insights, emitted, imported, requests)
    assert verdict.arrived == verdict.expected
    assert not any(verdict.missing.values()) and not any(verdict.duplicates.values())
    assert not any(verdict.unexpected.values()) and not any(verdict.not_imported.values())
    assert set(verdict.requests_max.values()) == {1}
    judged = judge_decisions(decisions, _exact_decisions(decisions), imported)
    assert judged.checked == len(decisions.final)
    assert judged.missing == [] and judged.wrong_final == [] and judged.repeated == []
    assert judged.imported_not_in_recordings == [] and judged.recordings_not_imported == []


def test_an_insight_missing_twice_or_for_a_call_not_imported_is_caught(
    day: tuple[DayScenario, DayExpectation], insights: InsightsExpectation
) -> None:
    scenario, expected = day
    emitted, requests = _exact_insights(insights)
    missing = emitted["summaries"].pop()
    twice = emitted["topics"][0]
    emitted["topics"].append((twice[0] + 1, twice[1]))
    not_imported = next(c.id for c in scenario.calls if c.id not in expected.recordings_required)
    emitted["sentiments"].append((95, not_imported))
    verdict = judge_insights(insights, emitted, set(expected.recordings_required), requests)
    assert verdict.missing["summaries"] == [missing[1]]
    assert verdict.duplicates["topics"] == [twice[1]]
    assert verdict.unexpected["sentiments"] == [not_imported]
    assert verdict.not_imported["sentiments"] == [not_imported]


def test_a_call_asked_twice_in_a_sync_or_six_times_is_caught(
    day: tuple[DayScenario, DayExpectation], insights: InsightsExpectation
) -> None:
    _, expected = day
    emitted, requests = _exact_insights(insights)
    k, (_, call_id) = next((k, r) for k, asked in enumerate(requests) for r in asked)
    requests[k].append(("transcriptions", call_id))
    for later in range(k + 1, k + 5):
        requests[later].append(("transcriptions", call_id))
    verdict = judge_insights(insights, emitted, set(expected.recordings_required), requests)
    assert verdict.requests_twice_in_a_sync["transcriptions"] == [(call_id, k)]
    assert verdict.requests_over_total["transcriptions"] == [(call_id, 6)]
    assert verdict.requests_max["transcriptions"] == 6


def test_the_cost_figure_of_some_streams_counts_their_requests_only(
    day: tuple[DayScenario, DayExpectation], insights: InsightsExpectation
) -> None:
    """A version with fewer AI streams is judged on its own (scripts/bench/ai_day.py)."""
    _, expected = day
    emitted, requests = _exact_insights(insights)
    for k, asked in enumerate(requests):
        requests[k] = [r for r in asked if r[0] != "topics"]  # a stream left out
    five = ["transcriptions", "summaries", "sentiments", "action_items", "playbook_results"]
    verdict = judge_insights(insights, emitted, set(expected.recordings_required), requests)
    asked = sum(verdict.requests_total[s] for s in five)
    assert verdict.requests_per_call_per_stream(five) == round(asked / (verdict.calls_asked * 5), 2)
    assert verdict.requests_per_call_per_stream(["topics"]) == 0.0
    assert verdict.requests_per_call_per_stream() < verdict.requests_per_call_per_stream(five)


def test_a_wrong_last_decision_a_repeat_and_an_import_without_recording_are_caught(
    day: tuple[DayScenario, DayExpectation], decisions: DecisionsExpectation
) -> None:
    _, expected = day
    records = _exact_decisions(decisions)
    imported = sorted(expected.recordings_required)
    wrong = next(i for i, options in decisions.final.items() if options == {"no_recording"})
    records.append((95, {"call_id": wrong, "decision": "imported"}))
    again = records[0]
    records.append((95, dict(again[1])))
    judged = judge_decisions(decisions, records, set(imported[1:]))
    assert judged.wrong_final == [(wrong, ["no_recording"], "imported")]
    assert judged.repeated == [(again[1]["call_id"], 95, again[1]["decision"])]
    assert judged.imported_not_in_recordings == sorted([imported[0], wrong])


def test_removals_reported_once_where_emitted_are_clean_and_misses_are_caught() -> None:
    scenario = generate_day(2, START, SHAPE, 1000, calls=150, history=40, deletions=True)
    times = [START + 900 * (k + 1) for k in range(96)]
    expected = expect_removals(scenario, expect_day(scenario, times, [_config(30)] * 96, EMAILS))
    assert sorted(expected.required.values()) == [False, True] and expected.never
    gone, only_recording = (
        next(i for i, whole in expected.required.items() if whole is wanted)
        for wanted in (True, False)
    )
    emitted = {"transcriptions": {only_recording}, "calls": {gone, only_recording}}
    exact = {
        "import_decisions": [(3, gone), (3, only_recording)],
        "calls": [(3, gone), (4, only_recording)],
        "transcriptions": [(3, only_recording)],
    }
    clean = judge_removals(expected, exact, emitted)
    assert not any(clean.missing.values()) and not any(clean.twice.values())
    assert not any(clean.unexpected.values())
    never = next(iter(expected.never))
    wrong = {
        "import_decisions": [(3, gone), (5, gone), (3, never)],
        "calls": [(3, gone)],
        "transcriptions": [(3, only_recording), (3, gone)],
    }
    judged = judge_removals(expected, wrong, emitted)
    assert judged.twice["import_decisions"] == [gone]
    assert judged.missing == {"import_decisions": [only_recording], "calls": [only_recording],
                              "transcriptions": []}  # fmt: skip
    assert judged.unexpected["import_decisions"] == [never]
    assert judged.unexpected["transcriptions"] == [gone]  # it never emitted that call
