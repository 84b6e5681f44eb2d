"""The day's oracle on its own (fast, part of `make test`): a sequence of syncs that emits
exactly what the contract asks is judged clean, and each kind of miss is caught."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aircall_sandbox.scenario import AccountShape, DayScenario, generate_day
from tests.day.oracle import CallView, DayExpectation, Emitted, SyncConfig, expect_day, judge

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
