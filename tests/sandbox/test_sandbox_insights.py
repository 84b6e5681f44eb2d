"""Aircall AI in the sandbox: the five insight endpoints, their readiness on the sandbox
clock, the company switch (on/off/unverified), the per-call overrides, and that the rate
limiter and the request log see these requests like any other."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from aircall_sandbox.insights import MIN_TALK_SECONDS, RESOURCES, plain_number, ready_times
from aircall_sandbox.testing import Sandbox, SandboxError

NOT_FOUND = {"message": "Not Found"}
AI_OFF = {"message": "Forbidden access: Aircall AI is not enabled for this company."}
UNVERIFIED = {"error": "Forbidden access", "troubleshoot": "company is not verified."}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")
DAY = 86_400


def _get(sandbox: Sandbox, call_id: int, resource: str) -> Any:
    return sandbox.api_get(f"/v1/calls/{call_id}/{resource}")


def _ready_call(sandbox: Sandbox) -> dict[str, Any]:
    """A seeded call whose five insights are all served already."""
    for call in sandbox.calls():
        if call["has_recording"] and all(sandbox.insights(call["id"])["ready"].values()):
            return call
    raise AssertionError("no seeded call has all five insights")


def _call_ending_now(sandbox: Sandbox) -> dict[str, Any]:
    """A recorded call that just ended and will get a transcription (not ready yet)."""
    for _ in range(30):
        call = sandbox.add_calls(1, duration=120, started_ago_seconds=120)[0]
        if sandbox.insights(call["id"])["ready_at"]["transcription"] is not None:
            return call
    raise AssertionError("30 new recorded calls and none will get a transcription")


def _move_clock_to(sandbox: Sandbox, at: int) -> None:
    """Move the sandbox clock so that it reads at least ``at``."""
    state = sandbox.state(include_calls=False)
    offset = int(state["settings"]["clock_offset_seconds"])
    sandbox.set_clock_offset(offset + at - int(state["now"]) + 1)


# ------------------------------------------------------------------------ shapes
def test_transcription_has_aircalls_shape(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    response = _get(sandbox, call["id"], "transcription")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["transcription"]
    item = body["transcription"]
    assert set(item) == {"id", "call_id", "call_created_at", "type", "content"}
    assert isinstance(item["id"], int) and item["call_id"] == call["id"]
    assert ISO.match(item["call_created_at"])
    assert item["type"] == "call"
    assert set(item["content"]) == {"language", "utterances"}
    assert isinstance(item["content"]["language"], str)
    assert len(item["content"]["utterances"]) >= 2


def test_utterances_carry_the_agent_or_the_callers_number_and_stay_within_the_call(
    sandbox: Sandbox,
) -> None:
    call = _ready_call(sandbox)
    utterances = _get(sandbox, call["id"], "transcription").json()["transcription"]["content"][
        "utterances"
    ]
    for utterance in utterances:
        start, end = utterance["start_time"], utterance["end_time"]
        assert isinstance(start, float) and isinstance(end, float)
        assert 0 <= start < end <= call["duration"]
        assert utterance["text"]
        kind = utterance["participant_type"]
        if kind == "internal":
            assert utterance["user_id"] == call["user_id"] and "phone_number" not in utterance
        elif kind == "external":
            assert utterance["phone_number"] == plain_number(call["raw_digits"])
            assert "user_id" not in utterance
        else:
            assert kind == "ai_voice_agent"
    kinds = {u["participant_type"] for u in utterances}
    assert {"internal", "external"} <= kinds


def test_summary_has_aircalls_shape(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    item = _get(sandbox, call["id"], "summary").json()["summary"]
    assert set(item) == {"id", "call_id", "created_at", "content"}
    assert item["call_id"] == call["id"] and ISO.match(item["created_at"])
    assert isinstance(item["content"], str) and item["content"]


def test_topics_have_aircalls_shape(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    body = _get(sandbox, call["id"], "topics").json()
    assert list(body) == ["topic"]
    item = body["topic"]
    assert set(item) == {"id", "call_id", "created_at", "content"}
    assert item["call_id"] == call["id"] and ISO.match(item["created_at"])
    assert item["content"] and all(isinstance(t, str) for t in item["content"])


def test_sentiments_rate_the_external_participant(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    body = _get(sandbox, call["id"], "sentiments").json()
    assert list(body) == ["sentiment"]
    item = body["sentiment"]
    assert set(item) == {"id", "call_id", "participants"}
    assert item["call_id"] == call["id"]
    [participant] = item["participants"]
    assert participant["type"] == "external"
    assert participant["phone_number"] == plain_number(call["raw_digits"])
    assert participant["value"] in ("POSITIVE", "NEUTRAL", "NEGATIVE")


def test_action_items_have_aircalls_shape(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    body = _get(sandbox, call["id"], "action_items").json()
    assert set(body) == {"call_id", "action_items"} and body["call_id"] == call["id"]
    assert body["action_items"]
    for item in body["action_items"]:
        assert set(item) == {
            "id", "ai_generated", "content", "created_at", "created_by", "updated_at",
            "updated_by",
        }  # fmt: skip
        assert isinstance(item["id"], int) and item["ai_generated"] is True
        assert ISO.match(item["created_at"]) and ISO.match(item["updated_at"])


def test_an_insight_is_the_same_on_every_request(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    for resource in RESOURCES:
        assert (
            _get(sandbox, call["id"], resource).json() == _get(sandbox, call["id"], resource).json()
        )


# -------------------------------------------------------------------- readiness
def test_a_transcription_is_404_until_its_time_then_200(sandbox: Sandbox) -> None:
    call = _call_ending_now(sandbox)
    ready_at = sandbox.insights(call["id"])["ready_at"]["transcription"]
    response = _get(sandbox, call["id"], "transcription")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    _move_clock_to(sandbox, ready_at)
    assert _get(sandbox, call["id"], "transcription").status_code == 200


def test_the_other_insights_come_after_the_transcription(sandbox: Sandbox) -> None:
    call = _call_ending_now(sandbox)
    ready_at = sandbox.insights(call["id"])["ready_at"]
    _move_clock_to(sandbox, ready_at["transcription"])
    assert _get(sandbox, call["id"], "transcription").status_code == 200
    for resource in RESOURCES[1:]:
        assert ready_at[resource] is None or ready_at[resource] > ready_at["transcription"]
        assert _get(sandbox, call["id"], resource).status_code == 404


def test_a_call_that_does_not_exist_is_404(sandbox: Sandbox) -> None:
    for resource in RESOURCES:
        response = _get(sandbox, 1, resource)
        assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_a_call_without_a_recording_never_gets_insights(sandbox: Sandbox) -> None:
    [call] = sandbox.add_calls(1, recording=False, duration=300)
    _move_clock_to(sandbox, sandbox.now() + DAY)
    for resource in RESOURCES:
        assert _get(sandbox, call["id"], resource).status_code == 404


def test_a_very_short_call_never_gets_insights(sandbox: Sandbox) -> None:
    [call] = sandbox.add_calls(1, duration=MIN_TALK_SECONDS - 1)
    assert call["has_recording"]
    _move_clock_to(sandbox, sandbox.now() + DAY)
    assert set(sandbox.insights(call["id"])["ready_at"].values()) == {None}
    for resource in RESOURCES:
        assert _get(sandbox, call["id"], resource).status_code == 404


def test_some_long_recorded_calls_never_get_any_insight(sandbox: Sandbox) -> None:
    never = [
        c
        for c in sandbox.calls()
        if c["has_recording"]
        and c["duration"] > 60
        and set(sandbox.insights(c["id"])["ready_at"].values()) == {None}
    ]
    assert never
    assert _get(sandbox, never[0]["id"], "transcription").status_code == 404


def test_about_a_tenth_of_recorded_calls_never_get_insights() -> None:
    times = [ready_times(7, call_id, 1_800_000_000, 300) for call_id in range(2000)]
    never = sum(1 for t in times if t.transcription is None)
    assert 120 <= never <= 280


def test_some_transcriptions_come_hours_late_and_none_before_the_call_ends() -> None:
    base = 1_800_000_000
    delays = [
        t.transcription - base
        for t in (ready_times(7, call_id, base, 300) for call_id in range(2000))
        if t.transcription is not None
    ]
    assert min(delays) > 0
    assert any(3600 <= d <= 3 * 3600 for d in delays)
    assert sorted(delays)[len(delays) // 2] < 600


def test_longer_calls_wait_longer_for_their_transcription() -> None:
    def median_delay(talk: int) -> int:
        delays = sorted(
            t.transcription - 1_000
            for t in (ready_times(3, call_id, 1_000, talk) for call_id in range(500))
            if t.transcription is not None
        )
        return delays[len(delays) // 2]

    assert median_delay(1800) > median_delay(60) + 200


# ------------------------------------------------------------------ account mode
@pytest.mark.parametrize("resource", RESOURCES)
def test_ai_off_answers_403_with_aircalls_message(sandbox: Sandbox, resource: str) -> None:
    call = _ready_call(sandbox)
    sandbox.set_ai_mode("off")
    response = _get(sandbox, call["id"], resource)
    assert (response.status_code, response.json()) == (403, AI_OFF)


@pytest.mark.parametrize("resource", RESOURCES)
def test_an_unverified_company_answers_403_with_aircalls_message(
    sandbox: Sandbox, resource: str
) -> None:
    call = _ready_call(sandbox)
    sandbox.set_ai_mode("unverified")
    response = _get(sandbox, call["id"], resource)
    assert (response.status_code, response.json()) == (403, UNVERIFIED)


@pytest.mark.parametrize("mode", ["off", "unverified"])
def test_the_calls_list_and_ping_still_answer_while_ai_is_refused(
    sandbox: Sandbox, mode: str
) -> None:
    call = _ready_call(sandbox)
    sandbox.set_ai_mode(mode)
    assert sandbox.api_get("/v1/calls").status_code == 200
    assert sandbox.api_get(f"/v1/calls/{call['id']}").status_code == 200
    assert sandbox.api_get("/v1/ping").status_code == 200


def test_the_ai_refusal_comes_before_the_404_of_an_unknown_call(sandbox: Sandbox) -> None:
    sandbox.set_ai_mode("off")
    assert _get(sandbox, 1, "transcription").status_code == 403


def test_turning_ai_back_on_serves_insights_again(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    sandbox.set_ai_mode("off")
    sandbox.set_ai_mode("on")
    assert _get(sandbox, call["id"], "summary").status_code == 200


def test_an_unknown_ai_mode_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxError, match="400"):
        sandbox.set_ai_mode("maybe")
    assert sandbox.ai_mode() == "pro"


def test_the_command_line_sets_the_ai_mode() -> None:
    with Sandbox(seed=3, calls=20, rate_limit=0, ai="unverified") as small:
        call = next(c for c in small.calls() if c["has_recording"])
        response = small.api_get(f"/v1/calls/{call['id']}/transcription")
        assert (response.status_code, response.json()) == (403, UNVERIFIED)
        assert small.ai_mode() == "unverified"


def test_the_control_index_lists_the_ai_endpoints(sandbox: Sandbox) -> None:
    index = requests.get(sandbox.control_url, timeout=10).json()
    listed = {(e["method"], e["path"]) for e in index["endpoints"]}
    assert {
        ("GET", "/_sandbox/ai"),
        ("POST", "/_sandbox/ai"),
        ("GET", "/_sandbox/calls/{call_id}/insights"),
        ("POST", "/_sandbox/calls/{call_id}/insights"),
        ("DELETE", "/_sandbox/calls/{call_id}/insights"),
        ("GET", "/_sandbox/requests/counts"),
    } <= listed


# --------------------------------------------------------------------- overrides
def test_an_override_makes_an_insight_ready_at_the_given_time(sandbox: Sandbox) -> None:
    [call] = sandbox.add_calls(1, duration=300)
    at = sandbox.now() + 1000
    view = sandbox.set_insight_ready(call["id"], topics=at)
    assert view["ready_at"]["topics"] == at and view["overrides"] == {"topics": at}
    assert _get(sandbox, call["id"], "topics").status_code == 404
    _move_clock_to(sandbox, at)
    body = _get(sandbox, call["id"], "topics").json()
    assert body["topic"]["call_id"] == call["id"]


def test_an_override_to_null_means_never(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    sandbox.set_insight_ready(call["id"], summary=None)
    try:
        assert _get(sandbox, call["id"], "summary").status_code == 404
        assert _get(sandbox, call["id"], "transcription").status_code == 200
    finally:
        sandbox.clear_insight_ready(call["id"])


def test_an_override_keeps_the_insights_it_does_not_name(sandbox: Sandbox) -> None:
    [call] = sandbox.add_calls(1, duration=300)
    before = sandbox.insights(call["id"])["ready_at"]
    sandbox.set_insight_ready(call["id"], transcription=123)
    sandbox.set_insight_ready(call["id"], summary=456)
    after = sandbox.insights(call["id"])["ready_at"]
    assert after == {**before, "transcription": 123, "summary": 456}


def test_clearing_overrides_restores_the_default_schedule(sandbox: Sandbox) -> None:
    [call] = sandbox.add_calls(1, duration=300)
    before = sandbox.insights(call["id"])["ready_at"]
    sandbox.set_insight_ready(call["id"], transcription=None, action_items=5)
    view = sandbox.clear_insight_ready(call["id"])
    assert view["ready_at"] == before and view["overrides"] == {}


def test_an_override_gives_insights_to_a_call_that_would_never_have_them(
    sandbox: Sandbox,
) -> None:
    [call] = sandbox.add_calls(1, recording=False, duration=300)
    sandbox.set_insight_ready(call["id"], sentiments=sandbox.now() - 1)
    assert _get(sandbox, call["id"], "sentiments").status_code == 200


def test_an_override_with_an_unknown_insight_is_400(sandbox: Sandbox) -> None:
    [call] = sandbox.add_calls(1)
    with pytest.raises(SandboxError, match="400"):
        sandbox.set_insight_ready(call["id"], transcript=1)


def test_an_override_that_is_not_a_time_is_400(sandbox: Sandbox) -> None:
    [call] = sandbox.add_calls(1)
    with pytest.raises(SandboxError, match="400"):
        sandbox.set_insight_ready(call["id"], summary="soon")  # type: ignore[arg-type]


def test_an_override_of_an_unknown_call_is_404(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxError, match="404"):
        sandbox.set_insight_ready(1, summary=1)


# ------------------------------------------------------- rate limit, request log
def test_insight_requests_count_against_the_rate_limit(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    sandbox.set_rate_limit(3)
    statuses = [_get(sandbox, call["id"], r).status_code for r in RESOURCES[:3]]
    assert statuses == [200, 200, 200]
    assert sandbox.api_get("/v1/calls").status_code == 429


def test_refused_ai_requests_count_against_the_rate_limit(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    sandbox.set_ai_mode("off")
    sandbox.set_rate_limit(2)
    assert [_get(sandbox, call["id"], "summary").status_code for _ in range(2)] == [403, 403]
    assert sandbox.api_get("/v1/ping").status_code == 429


def test_the_request_log_counts_insight_requests_per_path(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    sandbox.clear_log()
    for _ in range(2):
        _get(sandbox, call["id"], "transcription")
    _get(sandbox, call["id"], "summary")
    counts = sandbox.request_counts()
    assert counts[f"/v1/calls/{call['id']}/transcription"] == 2
    assert counts[f"/v1/calls/{call['id']}/summary"] == 1


def test_the_request_log_filters_by_path_pattern(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    sandbox.clear_log()
    _get(sandbox, call["id"], "transcription")
    _get(sandbox, call["id"], "topics")
    sandbox.api_get(f"/v1/calls/{call['id']}")
    entries = sandbox.requests_log("api", path_pattern=r"/v1/calls/\d+/transcription")
    assert [(e["path"], e["status"]) for e in entries] == [
        (f"/v1/calls/{call['id']}/transcription", 200)
    ]
