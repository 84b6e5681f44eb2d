"""A day scenario loaded into the sandbox: calls show up and change as sandbox time passes,
exactly as the schedule's ``state_at`` says, and the day has the shapes it promises."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aircall_sandbox.insights import RESOURCES
from aircall_sandbox.scenario import (
    HOUR,
    AccountShape,
    DayScenario,
    ScheduledCall,
    generate_day,
    scenario_from_json,
    scenario_to_json,
)
from aircall_sandbox.testing import Sandbox
from tests.harness import sandbox_account

SHAPE = AccountShape(
    user_ids=(1, 2, 3, 4),
    recording_number_ids=(10,),
    silent_number_ids=(20,),
    contact_ids=(100, 200),
    salescaling_user_ids=(1, 3),
)


@pytest.fixture(scope="module")
def day(sandbox: Sandbox) -> Iterator[DayScenario]:
    """Yesterday's day, fully in the past: the horizon decides what the account shows."""
    account, next_call_id = sandbox_account(sandbox)
    start = (sandbox.now() // 86_400 - 2) * 86_400
    scenario = generate_day(5, start, account, next_call_id, calls=120, history=10)
    sandbox.load_scenario(scenario_to_json(scenario))
    yield scenario
    sandbox.set_horizon(None)


def _served(sandbox: Sandbox, call_id: int) -> dict[str, object] | None:
    response = sandbox.api_get(f"/v1/calls/{call_id}")
    return response.json()["call"] if response.status_code == 200 else None


def test_the_same_seed_gives_the_same_day_and_another_seed_another() -> None:
    first = generate_day(3, 1_794_787_200, SHAPE, 1000)
    assert generate_day(3, 1_794_787_200, SHAPE, 1000) == first
    assert generate_day(4, 1_794_787_200, SHAPE, 1000) != first


def test_a_scenario_survives_its_json_form() -> None:
    scenario = generate_day(3, 1_794_787_200, SHAPE, 1000, calls=50)
    assert scenario_from_json(scenario_to_json(scenario)) == scenario


def test_the_day_has_business_hours_stuck_calls_late_listings_and_late_recordings() -> None:
    start = 1_794_787_200
    scenario = generate_day(3, start, SHAPE, 1000)
    calls = scenario.calls
    assert all(start + 8 * HOUR <= c.started_at <= start + 19 * HOUR for c in calls)
    over_six = [
        c for c in calls if c.id in scenario.stuck_ids and c.ended_at - c.started_at > 6 * HOUR
    ]
    assert over_six and all(c.recording_at is not None for c in over_six)
    assert any(c.visible_at > c.started_at for c in calls)
    delays = [c.recording_at - c.ended_at for c in calls if c.recording_at is not None]
    assert min(delays) >= 60 and max(delays) <= 3000
    answered_recorded = [c for c in calls if c.answered_at is not None and c.number_id == 10]
    assert any(c.recording_at is None for c in answered_recorded)  # a few never get one
    assert any(c.shift_at is not None for c in calls) and any(c.rewrite_at for c in calls)
    assert all(c.recording_at is None or c.recording_at <= start for c in scenario.history)


def _first(calls: tuple[ScheduledCall, ...], test: object) -> ScheduledCall:
    return next(c for c in calls if test(c))  # type: ignore[operator]


def test_a_call_is_served_as_the_schedule_says_at_each_moment(
    sandbox: Sandbox, day: DayScenario
) -> None:
    call = _first(
        day.calls,
        lambda c: (
            c.recording_at
            and c.rewrite_at
            and c.visible_at == c.started_at
            and c.answered_at
            and c.answered_at < c.ended_at
        ),
    )
    moments = [
        call.started_at - 1,
        call.answered_at,
        call.ended_at,
        call.rewrite_at,
        call.recording_at,
    ]
    for moment in moments:
        sandbox.set_horizon(moment)
        state = call.state_at(moment)
        served = _served(sandbox, call.id)
        if state is None:
            assert served is None
            continue
        assert served is not None
        assert (served["status"], served["started_at"], served["duration"]) == (
            state.status,
            state.started_at,
            state.duration,
        )
        assert (served["recording"] is not None) == (state.recording_size is not None)


def test_a_call_listed_late_is_not_listed_until_it_shows_up(
    sandbox: Sandbox, day: DayScenario
) -> None:
    call = _first(day.calls, lambda c: c.visible_at > c.started_at + 60)

    def listed(at: int) -> bool:
        sandbox.set_horizon(at)
        page = sandbox.api_get(
            "/v1/calls", **{"from": call.started_at - 1, "to": call.started_at + 1, "per_page": 50}
        ).json()
        return call.id in [c["id"] for c in page["calls"]]

    assert not listed(call.visible_at - 1)
    assert listed(call.visible_at)


def test_started_at_moves_one_second_after_the_call_is_done(
    sandbox: Sandbox, day: DayScenario
) -> None:
    call = _first(day.calls, lambda c: c.shift_at is not None and c.visible_at <= c.ended_at)
    assert call.shift_at is not None
    sandbox.set_horizon(call.shift_at - 1)
    assert _served(sandbox, call.id)["started_at"] == call.started_at  # type: ignore[index]
    sandbox.set_horizon(call.shift_at)
    assert _served(sandbox, call.id)["started_at"] == call.started_at + 1  # type: ignore[index]


# ------------------------------------------------------------------- Aircall AI
def test_only_calls_that_get_a_recording_have_insight_times() -> None:
    scenario = generate_day(3, 1_794_787_200, SHAPE, 1000)
    for call in scenario.all_calls():
        if call.recording_at is None:
            assert all(call.insight_ready_at(r) is None for r in RESOURCES)
    assert any(c.transcription_at is not None for c in scenario.calls)


def test_no_insight_is_ready_before_the_recording_appears() -> None:
    scenario = generate_day(3, 1_794_787_200, SHAPE, 1000)
    for call in scenario.all_calls():
        for resource in RESOURCES:
            ready_at = call.insight_ready_at(resource)
            if ready_at is not None:
                assert call.recording_at is not None
                assert ready_at > max(call.recording_at, call.ended_at, call.visible_at)


def test_the_other_insights_follow_the_transcription_in_the_schedule() -> None:
    scenario = generate_day(3, 1_794_787_200, SHAPE, 1000)
    for call in scenario.all_calls():
        for resource in RESOURCES[1:]:
            ready_at = call.insight_ready_at(resource)
            if ready_at is not None:
                assert call.transcription_at is not None and ready_at > call.transcription_at


def test_the_day_has_recorded_calls_that_never_get_ai_and_some_that_get_it_hours_late() -> None:
    scenario = generate_day(3, 1_794_787_200, SHAPE, 1000)
    recorded = [c for c in scenario.calls if c.recording_at is not None]
    never = [c for c in recorded if c.transcription_at is None]
    late = [
        c
        for c in recorded
        if c.transcription_at is not None and c.transcription_at - c.ended_at >= HOUR
    ]
    assert 0 < len(never) < len(recorded) // 3
    assert 0 < len(late) < len(recorded) // 10


def test_a_scenario_insight_is_served_from_the_moment_the_schedule_says(
    sandbox: Sandbox, day: DayScenario
) -> None:
    call = _first(
        day.calls,
        lambda c: c.transcription_at is not None and c.summary_at is not None,
    )
    assert call.transcription_at is not None
    sandbox.set_horizon(call.transcription_at - 1)
    assert sandbox.api_get(f"/v1/calls/{call.id}/transcription").status_code == 404
    sandbox.set_horizon(call.transcription_at)
    assert sandbox.api_get(f"/v1/calls/{call.id}/transcription").status_code == 200
    assert sandbox.api_get(f"/v1/calls/{call.id}/summary").status_code == 404
    assert sandbox.insights(call.id)["ready_at"] == call.insight_times().as_dict()


def test_a_recorded_scenario_call_without_ai_is_404_after_the_day(
    sandbox: Sandbox, day: DayScenario
) -> None:
    call = _first(day.calls, lambda c: c.recording_at is not None and c.transcription_at is None)
    sandbox.set_horizon(None)
    assert _served(sandbox, call.id)["recording"] is not None  # type: ignore[index]
    for resource in RESOURCES:
        assert sandbox.api_get(f"/v1/calls/{call.id}/{resource}").status_code == 404
