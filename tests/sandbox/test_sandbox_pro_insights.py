"""The sandbox's four AI Assist Pro endpoints (playbook result, evaluations, custom
summary, predicted CSAT), the licence switch, and "not there yet" answered as 400."""

from __future__ import annotations

from typing import Any

import pytest

from aircall_sandbox.insights import PRO_RESOURCES, RESOURCES
from aircall_sandbox.testing import Sandbox

NO_PRO = {"message": "Forbidden access: AI Assist Pro is not enabled for this company."}


def _get(sandbox: Sandbox, call_id: int, resource: str) -> Any:
    return sandbox.api_get(f"/v1/calls/{call_id}/{resource}")


def _ready_call(sandbox: Sandbox) -> dict[str, Any]:
    """A seeded call whose nine insights are all served already."""
    for call in sandbox.calls():
        if call["has_recording"] and all(sandbox.insights(call["id"])["ready"].values()):
            return call
    raise AssertionError("no seeded call has all nine insights")


def test_a_playbook_result_has_aircalls_fields_and_an_adherence_of_its_topics(
    sandbox: Sandbox,
) -> None:
    call = _ready_call(sandbox)
    body = _get(sandbox, call["id"], "playbook_result").json()
    assert {
        "id", "call_id", "call_uuid", "number_id", "participants", "type", "created_at",
        "created_by", "updated_at", "updated_by", "ai_generated", "adherence_score",
        "playbook", "playbook_result_topics",
    } == set(body)  # fmt: skip
    assert set(body["playbook"]) == {"id", "name", "language"}
    topics = body["playbook_result_topics"]
    met = sum(1 for topic in topics if topic["result"] is True)
    assert body["adherence_score"] == round(met / len(topics), 2)


def test_a_predicted_csat_comes_under_csat_with_its_drivers(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    csat = _get(sandbox, call["id"], "predicted_csat").json()["csat"]
    assert csat["call_id"] == call["id"] and 1 <= csat["score"] <= 5
    assert csat["drivers"] and all(set(d) == {"polarity", "label"} for d in csat["drivers"])


@pytest.mark.parametrize("resource", ["evaluations", "custom_summary_result"])
def test_evaluations_and_custom_summaries_answer_an_object_for_the_call(
    sandbox: Sandbox, resource: str
) -> None:
    call = _ready_call(sandbox)
    response = _get(sandbox, call["id"], resource)
    assert response.status_code == 200 and isinstance(response.json(), dict)
    assert str(call["id"]) in response.text


def test_without_ai_assist_pro_the_four_answer_403_and_the_five_answer(sandbox: Sandbox) -> None:
    call = _ready_call(sandbox)
    sandbox.set_ai_mode("on")
    for resource in RESOURCES:
        response = _get(sandbox, call["id"], resource)
        if resource in PRO_RESOURCES:
            assert (response.status_code, response.json()) == (403, NO_PRO), resource
        else:
            assert response.status_code == 200, resource


def test_an_insight_not_there_yet_can_be_answered_400(sandbox: Sandbox) -> None:
    call = sandbox.add_calls(1, duration=120, started_ago_seconds=120)[0]
    sandbox.set_insight_ready(call["id"], **{resource: None for resource in RESOURCES})
    assert _get(sandbox, call["id"], "summary").status_code == 404
    sandbox.set_ai_not_ready(400)
    for resource in RESOURCES:
        assert _get(sandbox, call["id"], resource).status_code == 400, resource
