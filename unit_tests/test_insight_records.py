"""The Aircall AI records (records.INSIGHT_KINDS) against their schemas, from answers in
Aircall's documented shapes, and the decisions' sentences (import_rules.decide)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from source_aircall_salescaling import import_rules
from source_aircall_salescaling.ai_records import INSIGHT_KINDS, InsightKind, insight_record
from source_aircall_salescaling.aircall.models import PayloadError
from source_aircall_salescaling.config import parse_config
from source_aircall_salescaling.records import decision_record
from tests.builders import a_call

CALL_ID, STARTED = 2_100_000_123, 1_763_892_000
CONFIG = parse_config(
    {"api_id": "i", "api_token": "t", "salescaling_user_emails": ["ana@acme.io"]},
    environ={},
)

ANSWERS: dict[str, dict[str, Any]] = {
    "transcriptions": {
        "transcription": {
            "id": 1,
            "call_id": CALL_ID,
            "call_created_at": "2026-11-23T10:00:00.000Z",
            "type": "call",
            "content": {
                "language": "en-US",
                "utterances": [
                    {
                        "start_time": 0.5,
                        "end_time": 2.25,
                        "text": "Hello",
                        "participant_type": "internal",
                        "user_id": 7,
                    },
                    {
                        "start_time": 3,
                        "end_time": 4.5,
                        "text": "Hi",
                        "participant_type": "external",
                        "phone_number": "+33612345678",
                    },
                ],
            },
        }
    },
    "summaries": {
        "summary": {
            "id": 2,
            "call_id": CALL_ID,
            "created_at": "2026-11-23T10:05:00.000Z",
            "content": "They agreed.",
        }
    },
    "topics": {
        "topic": {
            "id": 3,
            "call_id": CALL_ID,
            "created_at": 1763892300,
            "content": ["pricing", "billing"],
        }
    },
    "sentiments": {
        "sentiment": {
            "id": 4,
            "call_id": CALL_ID,
            "participants": [
                {"phone_number": "+33612345678", "value": "POSITIVE", "type": "external"}
            ],
        }
    },
    "action_items": {
        "call_id": CALL_ID,
        "action_items": [
            {
                "id": 5,
                "ai_generated": True,
                "content": "Send the quote",
                "created_at": "2026-11-23T10:06:00Z",
                "created_by": None,
                "updated_at": None,
                "updated_by": None,
            },
            {
                "id": 6,
                "ai_generated": False,
                "content": "Call back on Monday",
                "created_at": "2026-11-23T10:08:00Z",
                "created_by": 812,
                "updated_at": None,
                "updated_by": None,
            },
        ],
    },
    "playbook_results": {
        "id": 77,
        "call_id": CALL_ID,
        "call_uuid": "c0ffee",
        "number_id": 12,
        "participants": [{"type": "internal", "user_id": 812}],
        "type": "call",
        "created_at": "2026-11-23T10:07:00Z",
        "created_by": None,
        "updated_at": "2026-11-23T11:00:00Z",
        "updated_by": 901,
        "ai_generated": True,
        "adherence_score": 0.75,
        "playbook": {"id": 3, "name": "Discovery call", "language": "en"},
        "playbook_result_topics": [
            {"name": "Budget", "result": True},
            {"name": "Next step", "result": "partially"},
        ],
    },
    "evaluations": {"evaluations": [{"id": 9, "score": 4, "by": "ai"}]},
    "custom_summaries": {"custom_summary_result": {"sections": [{"title": "Need"}]}},
    "predicted_csat": {
        "csat": {
            "call_id": CALL_ID,
            "call_uuid": "c0ffee",
            "score": 4.2,
            "drivers": [{"polarity": "positive", "label": "Quick answer"}],
        }
    },
}
AS_IS = {"evaluations": "evaluations", "custom_summaries": "custom_summary"}


def schema(stream: str) -> dict[str, Any]:
    text = (
        resources.files("source_aircall_salescaling").joinpath(f"schemas/{stream}.json").read_text()
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@pytest.mark.parametrize("kind", INSIGHT_KINDS, ids=lambda k: k.stream)
def test_each_insight_record_has_exactly_its_schemas_fields_and_is_valid(kind: Any) -> None:
    record = insight_record(kind, CALL_ID, STARTED, ANSWERS[kind.stream])
    assert set(record) == set(schema(kind.stream)["properties"])
    jsonschema.validate(record, schema(kind.stream))
    assert record["call_id"] == CALL_ID and record["started_at"] == "2025-11-23T10:00:00Z"


def test_a_transcription_keeps_the_speakers_and_times() -> None:
    kind = next(k for k in INSIGHT_KINDS if k.stream == "transcriptions")
    record = insight_record(kind, CALL_ID, STARTED, ANSWERS["transcriptions"])
    assert record["language"] == "en-US" and record["type"] == "call"
    assert record["utterances"] == [
        {
            "start_time": 0.5,
            "end_time": 2.25,
            "participant_type": "internal",
            "user_id": 7,
            "ai_voice_agent_id": None,
            "phone_number": None,
            "text": "Hello",
        },
        {
            "start_time": 3,
            "end_time": 4.5,
            "participant_type": "external",
            "user_id": None,
            "ai_voice_agent_id": None,
            "phone_number": "+33612345678",
            "text": "Hi",
        },
    ]


def test_insight_times_in_seconds_or_iso_become_utc_date_times() -> None:
    by_stream = {k.stream: k for k in INSIGHT_KINDS}
    assert (
        insight_record(by_stream["topics"], CALL_ID, STARTED, ANSWERS["topics"])["created_at"]
        == "2025-11-23T10:05:00Z"
    )
    assert (
        insight_record(by_stream["summaries"], CALL_ID, STARTED, ANSWERS["summaries"])["created_at"]
        == "2026-11-23T10:05:00Z"
    )


def by_stream(stream: str) -> InsightKind:
    return next(k for k in INSIGHT_KINDS if k.stream == stream)


def test_every_insight_record_keeps_aircalls_id_and_a_null_deletion_mark() -> None:
    ids = {
        kind.stream: insight_record(kind, CALL_ID, STARTED, ANSWERS[kind.stream])["id"]
        for kind in INSIGHT_KINDS
    }
    assert ids == {
        "transcriptions": 1,
        "summaries": 2,
        "topics": 3,
        "sentiments": 4,
        "action_items": None,  # the list has no id; its items keep theirs
        "playbook_results": 77,
        "evaluations": None,
        "custom_summaries": None,
        "predicted_csat": None,
    }
    for kind in INSIGHT_KINDS:
        record = insight_record(kind, CALL_ID, STARTED, ANSWERS[kind.stream])
        assert record["_ab_cdc_deleted_at"] is None


def test_action_items_keep_who_wrote_them() -> None:
    record = insight_record(by_stream("action_items"), CALL_ID, STARTED, ANSWERS["action_items"])
    assert [(i["id"], i["created_by"], i["updated_by"]) for i in record["action_items"]] == [
        (5, None, None),
        (6, 812, None),
    ]
    assert record["action_items"][1]["updated_at"] is None


def test_sentiment_participants_keep_their_user_and_ai_voice_agent() -> None:
    answer = {
        "sentiment": {
            "id": 4,
            "participants": [
                {"phone_number": "+33679198915", "value": "NEGATIVE", "type": "external"},
                {"user_id": 812, "value": "POSITIVE", "type": "internal"},
                {"ai_voice_agent_id": 31, "value": "NEUTRAL", "type": "ai_voice_agent"},
            ],
        }
    }
    record = insight_record(by_stream("sentiments"), CALL_ID, STARTED, answer)
    assert [(p["user_id"], p["ai_voice_agent_id"]) for p in record["participants"]] == [
        (None, None),
        (812, None),
        (None, 31),
    ]


def test_a_playbook_result_is_typed_with_its_topics_as_aircall_gives_them() -> None:
    record = insight_record(
        by_stream("playbook_results"), CALL_ID, STARTED, ANSWERS["playbook_results"]
    )
    assert record["playbook"] == {"id": 3, "name": "Discovery call", "language": "en"}
    assert record["adherence_score"] == 0.75
    assert record["topics"] == [
        {"name": "Budget", "result": True},
        {"name": "Next step", "result": "partially"},
    ]
    assert (record["created_by"], record["updated_by"]) == (None, 901)


def test_a_predicted_csat_keeps_its_score_and_drivers() -> None:
    record = insight_record(
        by_stream("predicted_csat"), CALL_ID, STARTED, ANSWERS["predicted_csat"]
    )
    assert record["score"] == 4.2
    assert record["drivers"] == [{"polarity": "positive", "label": "Quick answer"}]


@pytest.mark.parametrize(("stream", "field"), sorted(AS_IS.items()))
def test_evaluations_and_custom_summaries_carry_aircalls_answer_as_it_is(
    stream: str, field: str
) -> None:
    record = insight_record(by_stream(stream), CALL_ID, STARTED, ANSWERS[stream])
    assert record[field] == ANSWERS[stream]


@pytest.mark.parametrize(
    "kind", [k for k in INSIGHT_KINDS if k.stream not in AS_IS], ids=lambda k: k.stream
)
def test_an_answer_of_the_wrong_shape_names_the_call_and_the_resource(kind: Any) -> None:
    with pytest.raises(PayloadError, match=f"{kind.resource} of call {CALL_ID}"):
        insight_record(kind, CALL_ID, STARTED, {"message": "unexpected"})


def test_a_decision_record_has_exactly_its_schemas_fields_and_is_valid() -> None:
    call = a_call(CALL_ID).started(STARTED).by("Ana@acme.io").with_recording().parsed()
    record = decision_record(import_rules.decide(call, None, CONFIG, STARTED + 900, 3_250_000))
    assert set(record) == set(schema("import_decisions")["properties"])
    jsonschema.validate(record, schema("import_decisions"))
    assert record["decision"] == "imported" and record["size_bytes"] == 3_250_000


def test_a_call_of_another_agent_names_the_email_and_what_to_fix() -> None:
    call = a_call().started(STARTED).by("bob@acme.io").with_recording().parsed()
    decision = import_rules.decide(call, import_rules.NOT_SALESCALING_USER, CONFIG, STARTED)
    assert decision.decision == "not_a_salescaling_user"
    assert decision.reason == (
        "The agent's Aircall email bob@acme.io is not one of the Salescaling users: add it "
        "in Salescaling or fix it in Aircall (Users)."
    )


def test_a_call_with_no_agent_says_so() -> None:
    call = a_call().started(STARTED).by_nobody().parsed()
    decision = import_rules.decide(call, import_rules.NOT_SALESCALING_USER, CONFIG, STARTED)
    assert decision.decision == "not_a_salescaling_user" and "No agent" in decision.reason


def test_a_recording_over_the_limit_gives_its_size_and_the_limit() -> None:
    call = a_call().started(STARTED).by("ana@acme.io").with_recording().parsed()
    size = int(212.4 * 1_048_576)
    decision = import_rules.decide(call, import_rules.OVER_SIZE_LIMIT, CONFIG, STARTED, size)
    assert decision.decision == "recording_too_large"
    assert decision.reason == "The recording is 212.4 MB; the limit is 200 MB."


@pytest.mark.parametrize(
    ("rule", "decision"),
    [
        (import_rules.NO_RECORDING, "no_recording"),
        (import_rules.RECORDING_OFF, "no_recording"),
        (import_rules.NOT_ANSWERED, "no_recording"),
        (import_rules.RECORDING_NOT_READY, "waiting_for_recording"),
        (import_rules.TRANSFERS_FAILED, "recording_unavailable"),
        (import_rules.UNAVAILABLE, "recording_unavailable"),
        (import_rules.CALL_DELETED, "call_deleted"),
        (import_rules.LEFT_BEHIND, "left_behind_by_first_sync"),
    ],
)
def test_every_rule_maps_to_its_decision_with_a_sentence(rule: str, decision: str) -> None:
    call = a_call().started(STARTED).by("ana@acme.io").parsed()
    made = import_rules.decide(call, rule, CONFIG, STARTED)
    assert made.decision == decision
    assert made.reason.endswith(".") and len(made.reason) > 30
