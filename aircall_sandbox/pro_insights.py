"""The four Aircall AI resources of the AI Assist Pro licence: a playbook result, QA
evaluations, a custom summary and a predicted CSAT, each written from the transcription
minutes after it (``insights.ready_times``).

Surprises worth knowing:

- The playbook result is the only one of the nine answered bare, not wrapped in a key;
  a predicted CSAT comes under ``csat``.
- The type of a playbook topic's ``result`` is not documented: the sandbox answers
  booleans, and the connector must keep whatever comes.
- Evaluations and custom summaries have no public shape: the sandbox makes one up
  (a scorecard with answers; a template with sections) so that a connector that keeps
  the answer as it is can be seen doing so.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .insight_texts import THEMES, iso, stable_id

PLAYBOOKS = (
    (7001, "Pricing conversation", ("Budget asked", "Plan presented", "Quote promised")),
    (7002, "Discovery call", ("Needs qualified", "Decision maker found", "Demo booked")),
    (7003, "Technical questions", ("Use case understood", "Integration checked", "Follow-up set")),
    (7004, "Competitive switch", ("Pain points heard", "Timeline asked", "Migration offered")),
    (7005, "Closing", ("Objections handled", "Approval path asked", "Next step agreed")),
)
"""One playbook per theme of ``insight_texts.THEMES``: (id, name, its topics)."""

_DRIVERS = {
    "POSITIVE": (("positive", "Quick answers"), ("positive", "Clear next steps")),
    "NEUTRAL": (("positive", "Polite exchange"), ("negative", "Open questions left")),
    "NEGATIVE": (("negative", "Long wait"), ("negative", "Problem not solved")),
}
_CSAT = {"POSITIVE": 4.6, "NEUTRAL": 3.4, "NEGATIVE": 2.1}


def call_uuid(call_id: int) -> str:
    """A UUID-shaped identifier of the call, the same on every request."""
    digest = hashlib.blake2b(f"call-uuid:{call_id}".encode(), digest_size=16).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def _topic_results(call_id: int, topics: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"name": name, "result": stable_id("playbook-topic", call_id, k) % 4 != 0}
        for k, name in enumerate(topics)
    ]


def render(
    resource: str, call_id: int, user_id: int | None, ready_at: int, theme: int, sentiment: str
) -> dict[str, Any]:
    """The whole JSON body of ``GET /v1/calls/{id}/<resource>`` for the four resources."""
    stamp = iso(ready_at)
    if resource == "playbook_result":
        playbook_id, name, topics = PLAYBOOKS[theme % len(PLAYBOOKS)]
        results = _topic_results(call_id, topics)
        met = sum(1 for topic in results if topic["result"])
        return {
            "id": stable_id(resource, call_id),
            "call_id": call_id,
            "call_uuid": call_uuid(call_id),
            "number_id": None,
            "participants": [{"type": "internal", "user_id": user_id}],
            "type": "call",
            "created_at": stamp,
            "created_by": None,
            "updated_at": None,
            "updated_by": None,
            "ai_generated": True,
            "adherence_score": round(met / len(results), 2),
            "playbook": {"id": playbook_id, "name": name, "language": "en"},
            "playbook_result_topics": results,
        }
    if resource == "evaluations":
        summary = THEMES[theme][0]
        return {
            "evaluations": [
                {
                    "id": stable_id(resource, call_id),
                    "call_id": call_id,
                    "scorecard": {"id": 880 + theme, "name": "Sales QA"},
                    "evaluator": {"type": "ai", "user_id": None},
                    "score": 3 + stable_id(resource, call_id, 1) % 3,
                    "max_score": 5,
                    "created_at": stamp,
                    "answers": [
                        {"question": "Did the agent state the purpose?", "answer": "yes"},
                        {"question": "What did the customer want?", "answer": summary},
                    ],
                }
            ]
        }
    if resource == "custom_summary_result":
        summary, topic_names, items = THEMES[theme]
        return {
            "custom_summary_result": {
                "id": stable_id(resource, call_id),
                "call_id": call_id,
                "template": {"id": 510, "name": "Sales call recap"},
                "created_at": stamp,
                "sections": [
                    {"title": "Customer need", "content": summary},
                    {"title": "Topics", "content": ", ".join(topic_names)},
                    {"title": "Next steps", "content": items[0]},
                ],
            }
        }
    if resource == "predicted_csat":
        return {
            "csat": {
                "call_id": call_id,
                "call_uuid": call_uuid(call_id),
                "score": _CSAT.get(sentiment, 3.0),
                "drivers": [
                    {"polarity": polarity, "label": label}
                    for polarity, label in _DRIVERS.get(sentiment, ())
                ],
            }
        }
    raise ValueError(f"unknown insight {resource!r}")
