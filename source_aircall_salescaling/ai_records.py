"""The records of the Aircall AI streams, one function per Aircall resource, beside the
schemas they must match (`schemas/<stream>.json`; unit_tests/test_insight_records.py
holds each function against its schema).

What Aircall's answers do that is surprising:
- Each resource wraps its object differently: `{"transcription": {...}}`,
  `{"topic": {...}}` (singular, for `/topics`), `{"csat": {...}}` (for
  `/predicted_csat`), the playbook result bare or under `playbook_result`, and the
  action items as a bare list beside `call_id` (that answer has no id of its own).
- The shapes of evaluations and custom summaries are not public: their records carry
  Aircall's answer as it is, so that nothing is lost to a guess.
- Who wrote an action item or changed a playbook result is a user id, or null when
  Aircall's AI did (`updated_at` is then often null too); some answers were seen with
  a user object there, read as its `id`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from source_aircall_salescaling.aircall.models import PayloadError, aircall_time, iso_utc

AIRCALL_AI = "Aircall AI"
AI_ASSIST_PRO = "AI Assist Pro"
TRANSCRIPTION = "transcription"


@dataclass(frozen=True)
class InsightKind:
    """One Aircall AI resource: its stream, the path under `/v1/calls/{id}/`, its
    record's own fields from Aircall's answer (`call_id`, `started_at`, `id` and
    `_ab_cdc_deleted_at` are added), and the Aircall licence it needs. A new resource is
    one more entry of `INSIGHT_KINDS`, one function and one schema."""

    stream: str
    resource: str
    fields: Callable[[Mapping[str, Any]], dict[str, Any]]
    licence: str = AIRCALL_AI

    @property
    def is_gate(self) -> bool:
        """Aircall derives every other insight from the transcription (see
        sync/ai_asks.py)."""
        return self.resource == TRANSCRIPTION


def _object(body: Any, key: str) -> Mapping[str, Any]:
    value = body.get(key) if isinstance(body, Mapping) else None
    if not isinstance(value, Mapping):
        raise PayloadError(f"the answer has no '{key}' object")
    return value


def _items(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _number(value: Any) -> float | int | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _user_ref(value: Any) -> int | None:
    """A user id, or the `id` of a user object; None otherwise."""
    if isinstance(value, Mapping):
        return _whole(value.get("id"))
    return _whole(value)


def _read(item: Mapping[str, Any], shape: Mapping[str, Callable[[Any], Any]]) -> dict[str, Any]:
    """The fields of `shape`, each read from `item` by its own function."""
    return {name: read(item.get(name)) for name, read in shape.items()}


_UTTERANCE: dict[str, Callable[[Any], Any]] = {
    "start_time": _number,
    "end_time": _number,
    "participant_type": _text,
    "user_id": _whole,
    "ai_voice_agent_id": _whole,
    "phone_number": _text,
    "text": _text,
}
_PARTICIPANT: dict[str, Callable[[Any], Any]] = {
    "type": _text,
    "phone_number": _text,
    "user_id": _whole,
    "ai_voice_agent_id": _whole,
    "value": _text,
}
# who wrote an action item or a playbook result, and when
_AUTHORED: dict[str, Callable[[Any], Any]] = {
    "ai_generated": _flag,
    "created_at": aircall_time,
    "updated_at": aircall_time,
    "created_by": _user_ref,
    "updated_by": _user_ref,
}
_ACTION_ITEM: dict[str, Callable[[Any], Any]] = {"id": _whole, "content": _text, **_AUTHORED}


def transcription_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    transcription = _object(body, "transcription")
    content = transcription.get("content")
    content = content if isinstance(content, Mapping) else {}
    return {
        "id": _whole(transcription.get("id")),
        "type": _text(transcription.get("type")),
        "language": _text(content.get("language")),
        "utterances": [
            _read(utterance, _UTTERANCE) for utterance in _items(content.get("utterances"))
        ],
    }


def summary_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    summary = _object(body, "summary")
    return {
        "id": _whole(summary.get("id")),
        "content": _text(summary.get("content")),
        "created_at": aircall_time(summary.get("created_at")),
    }


def topics_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    topic = _object(body, "topic")
    content = topic.get("content")
    return {
        "id": _whole(topic.get("id")),
        "topics": [t for t in content if isinstance(t, str)] if isinstance(content, list) else [],
        "created_at": aircall_time(topic.get("created_at")),
    }


def sentiments_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    sentiment = _object(body, "sentiment")
    return {
        "id": _whole(sentiment.get("id")),
        "participants": [
            _read(participant, _PARTICIPANT)
            for participant in _items(sentiment.get("participants"))
        ],
    }


def action_items_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(body.get("action_items"), list):
        raise PayloadError("the answer has no 'action_items' list")
    return {
        "id": None,  # the list has no id of its own; each item has one
        "action_items": [_read(item, _ACTION_ITEM) for item in _items(body.get("action_items"))],
    }


def playbook_result_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    wrapped = body.get("playbook_result")
    result = wrapped if isinstance(wrapped, Mapping) else body
    if "playbook" not in result and "adherence_score" not in result:
        raise PayloadError("the answer has neither 'playbook' nor 'adherence_score'")
    playbook = result.get("playbook")
    return {
        "id": _whole(result.get("id")),
        "playbook": {
            "id": _whole(playbook.get("id")),
            "name": _text(playbook.get("name")),
            "language": _text(playbook.get("language")),
        }
        if isinstance(playbook, Mapping)
        else None,
        "adherence_score": _number(result.get("adherence_score")),
        "topics": [
            {"name": _text(topic.get("name")), "result": topic.get("result")}
            for topic in _items(result.get("playbook_result_topics"))
        ],
        **_read(result, _AUTHORED),
    }


def evaluations_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": _whole(body.get("id")), "evaluations": dict(body)}


def custom_summary_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": _whole(body.get("id")), "custom_summary": dict(body)}


def predicted_csat_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    csat = _object(body, "csat")
    return {
        "id": _whole(csat.get("id")),
        "score": _number(csat.get("score")),
        "drivers": [
            {"polarity": _text(d.get("polarity")), "label": _text(d.get("label"))}
            for d in _items(csat.get("drivers"))
        ],
    }


INSIGHT_KINDS = (
    InsightKind("transcriptions", TRANSCRIPTION, transcription_fields),
    InsightKind("summaries", "summary", summary_fields),
    InsightKind("topics", "topics", topics_fields),
    InsightKind("sentiments", "sentiments", sentiments_fields),
    InsightKind("action_items", "action_items", action_items_fields),
    InsightKind("playbook_results", "playbook_result", playbook_result_fields, AI_ASSIST_PRO),
    InsightKind("evaluations", "evaluations", evaluations_fields, AI_ASSIST_PRO),
    InsightKind("custom_summaries", "custom_summary_result", custom_summary_fields, AI_ASSIST_PRO),
    InsightKind("predicted_csat", "predicted_csat", predicted_csat_fields, AI_ASSIST_PRO),
)
INSIGHT_STREAM_NAMES = tuple(kind.stream for kind in INSIGHT_KINDS)


def insight_record(kind: InsightKind, call_id: int, started_at: int, body: Any) -> dict[str, Any]:
    """A record of an Aircall AI stream; an answer of the wrong shape raises
    `PayloadError` naming the call and the resource."""
    if not isinstance(body, Mapping):
        raise PayloadError(f"Aircall's {kind.resource} of call {call_id} is not an object")
    try:
        fields = kind.fields(body)
    except PayloadError as error:
        raise PayloadError(f"Aircall's {kind.resource} of call {call_id}: {error}") from None
    return {
        "call_id": call_id,
        "started_at": iso_utc(started_at),
        **fields,
        "_ab_cdc_deleted_at": None,
    }
