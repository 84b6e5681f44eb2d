"""Aircall AI (conversation intelligence): when each insight of a call is ready, and what it says.

Aircall writes, after a recorded call ends, a transcription first (seconds to minutes,
longer for longer calls) and then a summary, topics, sentiments and action items
(minutes later). Some calls never get some or all of them. Nothing here is stored per
call: the ready times and the text are pure functions of a seed, the call id and the
call's own facts, so the sandbox recomputes them on every request and a test's oracle
can compute the same answers without a server.

Surprises worth knowing:

- Utterance times are seconds from the start of the recording, which starts when the
  call is answered: they stay within ``ended_at - answered_at`` (so within the call's
  duration) and do not move when Aircall later rewrites ``duration`` or moves
  ``started_at`` by a second.
- Every timestamp in these answers (``call_created_at``, ``created_at``,
  ``updated_at``) is an ISO-8601 string like users' ``created_at``, not the integer
  seconds of calls. ``aircall-api.md`` does not say; this is the sandbox's choice.
- Sentiments rate the external participant only (Aircall: "overall mood of each
  external participant").
- A call answered by an agent after an AI voice agent picked up starts with an
  ``ai_voice_agent`` utterance that carries neither ``user_id`` nor ``phone_number``,
  but the ``ai_voice_agent_id``.
- Phone numbers in these answers are plain international numbers (``+33679198915``),
  while calls give them formatted for people (``+33 6 79 19 89 15``): a join on the raw
  strings fails.
- Some action items are written by the agent: ``ai_generated`` false, ``created_by``
  the agent's user id, ``updated_at`` null.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from . import pro_insights
from .insight_texts import LINES, SENTIMENTS, THEMES, iso, stable_id

RESOURCES = (
    "transcription",
    "summary",
    "topics",
    "sentiments",
    "action_items",
    "playbook_result",
    "evaluations",
    "custom_summary_result",
    "predicted_csat",
)
"""The insight endpoints (``GET /v1/calls/{id}/<resource>``), in the order Aircall writes
them; the last four need the AI Assist Pro licence (``PRO_RESOURCES``)."""
PRO_RESOURCES = RESOURCES[5:]

_OFF = {"message": "Forbidden access: Aircall AI is not enabled for this company."}
_UNVERIFIED = {"error": "Forbidden access", "troubleshoot": "company is not verified."}
_NO_PRO = {"message": "Forbidden access: AI Assist Pro is not enabled for this company."}
AI_MODES: dict[str, tuple[dict[str, str] | None, dict[str, str] | None]] = {
    "pro": (None, None),
    "on": (None, _NO_PRO),
    "off": (_OFF, _OFF),
    "unverified": (_UNVERIFIED, _UNVERIFIED),
}
"""Account switch -> the 403 body of the five endpoints and of the four AI Assist Pro
ones (None: they answer). ``pro``: Aircall AI with AI Assist Pro; ``on``: Aircall AI
without it; ``off``: no Aircall AI; ``unverified``: a company not verified, whose 403
comes in Aircall's other error shape, ``{"error", "troubleshoot"}``."""


def refusal(mode: str, resource: str) -> dict[str, str] | None:
    """The 403 body of ``resource`` in account mode ``mode``, or None: it answers."""
    basic, pro = AI_MODES[mode]
    return pro if resource in PRO_RESOURCES else basic


NOT_READY_STATUSES = (404, 400)
"""How "not generated (yet)" is answered: 404 in some clients, 400 in Aircall's reference."""

MIN_TALK_SECONDS = 20
"""Calls with less talk (hang-up minus answer) never get any insight."""
NEVER_FRACTION = 0.10
"""Recorded calls that never get any insight (no speech detected, unsupported language...)."""
LATE_FRACTION = 0.05
"""Recorded calls whose transcription comes one to three hours late (a backlog)."""
NO_TOPICS_FRACTION = 0.05
NO_ACTION_ITEMS_FRACTION = 0.12
PRO_NEVER_FRACTIONS = (0.08, 0.10, 0.05, 0.05)
"""Calls with a transcription but no playbook result (no playbook fits the call), no
evaluation (no scorecard), no custom summary, no predicted CSAT."""


@dataclass(frozen=True, slots=True)
class InsightTimes:
    """The moment (sandbox UNIX seconds) each insight of one call is ready; None = never."""

    transcription: int | None = None
    summary: int | None = None
    topics: int | None = None
    sentiments: int | None = None
    action_items: int | None = None
    playbook_result: int | None = None
    evaluations: int | None = None
    custom_summary_result: int | None = None
    predicted_csat: int | None = None

    def get(self, resource: str) -> int | None:
        """The ready time of ``resource`` (one of :data:`RESOURCES`)."""
        value: int | None = getattr(self, resource)
        return value

    def as_dict(self) -> dict[str, int | None]:
        return {name: self.get(name) for name in RESOURCES}

    def replace(self, changes: dict[str, int | None]) -> InsightTimes:
        """A copy with some ready times replaced (keys must be in :data:`RESOURCES`)."""
        return InsightTimes(**{**self.as_dict(), **changes})


NEVER = InsightTimes()


def ready_times(seed: int, call_id: int, base: int, talk_seconds: int) -> InsightTimes:
    """When Aircall has each insight of a recorded call whose AI work starts at ``base``.

    ``base`` is the hang-up (or, in a day scenario, when the recording appeared, if
    later). The transcription comes 10 s to a few minutes after it, longer for longer
    calls, or 1 to 3 hours after it for :data:`LATE_FRACTION` of the calls; the other
    four follow it by 30 s to 10 minutes each. The draws happen in a fixed order
    whatever the outcome, so changing one rule never reshuffles the others.
    """
    rng = random.Random(f"aircall-sandbox-ai:{seed}:{call_id}")
    never, late, no_topics, no_items = (rng.random() for _ in range(4))
    late_delay = rng.randint(3600, 3 * 3600)
    delay = 10 + talk_seconds // 6 + rng.randint(0, 90)
    follow = [rng.randint(30, 300) for _ in range(3)] + [rng.randint(60, 600)]
    # Drawn after the five's draws, so that adding them left the five's times as they were.
    pro_follow = [rng.randint(60, 600) for _ in range(4)]
    pro_never = [rng.random() < fraction for fraction in PRO_NEVER_FRACTIONS]
    if talk_seconds < MIN_TALK_SECONDS or never < NEVER_FRACTION:
        return NEVER
    transcription = base + (late_delay if late < LATE_FRACTION else delay)
    pro = [
        None if no else transcription + after
        for no, after in zip(pro_never, pro_follow, strict=True)
    ]
    return InsightTimes(
        transcription=transcription,
        summary=transcription + follow[0],
        topics=None if no_topics < NO_TOPICS_FRACTION else transcription + follow[1],
        sentiments=transcription + follow[2],
        action_items=None if no_items < NO_ACTION_ITEMS_FRACTION else transcription + follow[3],
        playbook_result=pro[0],
        evaluations=pro[1],
        custom_summary_result=pro[2],
        predicted_csat=pro[3],
    )


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the text of a call's insights depends on, besides the seed."""

    id: int
    direction: str
    started_at: int
    answered_at: int | None
    ended_at: int
    user_id: int | None
    raw_digits: str
    language: str
    """The agent's language (``en-US``, ``fr-FR``...): the transcript is in it."""


VOICE_AGENT_ID = 4_201


def plain_number(raw_digits: str) -> str | None:
    """``+1 617-610-5413`` -> ``+16176105413``, as the AI endpoints give it; None for
    ``anonymous``."""
    digits = "".join(ch for ch in raw_digits if ch.isdigit())
    return f"+{digits}" if digits else None


@dataclass(frozen=True, slots=True)
class _Conversation:
    """The drawn shape of one call's conversation, shared by its five insights."""

    theme: int
    sentiment: str
    turns: int
    voice_agent: bool
    line_picks: tuple[int, ...]
    jitter: tuple[float, ...]
    topics: int
    items: int


def _conversation(seed: int, facts: CallFacts) -> _Conversation:
    rng = random.Random(f"aircall-sandbox-ai-text:{seed}:{facts.id}")
    talk = _talk(facts)
    turns = max(2, min(14, 2 + int(talk) // 25))
    theme, sentiment, voice = rng.randrange(len(THEMES)), rng.choice(SENTIMENTS), rng.random()
    return _Conversation(
        theme=theme,
        sentiment=sentiment,
        turns=turns,
        # The AI voice agent takes the agent's first turn; the agent still speaks later.
        voice_agent=facts.direction == "inbound" and turns >= 4 and voice < 0.08,
        line_picks=tuple(rng.randrange(8) for _ in range(turns)),
        jitter=tuple(rng.random() for _ in range(2 * turns)),
        topics=rng.randint(1, 3),
        items=rng.randint(1, 2),
    )


def _talk(facts: CallFacts) -> float:
    """Seconds of recording: from the answer (or the start) to the hang-up, at least 1."""
    begin = facts.answered_at if facts.answered_at is not None else facts.started_at
    return float(max(1, facts.ended_at - begin))


def _language(facts: CallFacts) -> str:
    prefix = facts.language.split("-")[0].lower()
    return prefix if prefix in LINES else "en"


def _utterances(seed: int, facts: CallFacts, agent_name: str) -> list[dict[str, Any]]:
    conv = _conversation(seed, facts)
    agent_lines, customer_lines, greeting, closing = LINES[_language(facts)]
    slot = _talk(facts) / conv.turns
    # Outbound: the callee speaks first ("Hello?"); inbound: the agent greets.
    agent_first = facts.direction != "outbound"
    result: list[dict[str, Any]] = []
    for turn in range(conv.turns):
        start = turn * slot + conv.jitter[2 * turn] * slot * 0.15
        end = start + slot * (0.5 + 0.35 * conv.jitter[2 * turn + 1])
        internal = (turn % 2 == 0) == agent_first
        if turn == conv.turns - 1 and internal:
            text = closing
        elif internal:
            text = agent_lines[conv.line_picks[turn]]
        else:
            text = customer_lines[conv.line_picks[turn]]
        item: dict[str, Any] = {
            "start_time": round(start, 2),
            "end_time": round(end, 2),
            "text": text.replace("{agent}", agent_name),
            "participant_type": "internal" if internal else "external",
        }
        if internal:
            item["user_id"] = facts.user_id
        else:
            item["phone_number"] = plain_number(facts.raw_digits)
        result.append(item)
    if conv.voice_agent:
        result[0] = {
            "start_time": result[0]["start_time"],
            "end_time": result[0]["end_time"],
            "text": greeting,
            "participant_type": "ai_voice_agent",
            "ai_voice_agent_id": VOICE_AGENT_ID,
        }
    return result


def render(
    resource: str, seed: int, facts: CallFacts, ready_at: int, agent_name: str = "Alex"
) -> dict[str, Any]:
    """The whole JSON body of ``GET /v1/calls/{id}/<resource>`` once it is ready.

    ``ready_at`` becomes the insight's ``created_at``: Aircall stamps an insight when
    it writes it, so the stamp is the ready time, not the call's.
    """
    conv = _conversation(seed, facts)
    summary_text, topic_pool, item_pool = THEMES[conv.theme]
    call_id = facts.id
    if resource == "transcription":
        return {
            "transcription": {
                "id": stable_id(resource, call_id),
                "call_id": call_id,
                "call_created_at": iso(facts.started_at),
                "type": "call",
                "content": {
                    "language": _language(facts),
                    "utterances": _utterances(seed, facts, agent_name),
                },
            }
        }
    if resource == "summary":
        return {
            "summary": {
                "id": stable_id(resource, call_id),
                "call_id": call_id,
                "created_at": iso(ready_at),
                "content": summary_text,
            }
        }
    if resource == "topics":
        return {
            "topic": {
                "id": stable_id(resource, call_id),
                "call_id": call_id,
                "created_at": iso(ready_at),
                "content": list(topic_pool[: conv.topics]),
            }
        }
    if resource == "sentiments":
        return {
            "sentiment": {
                "id": stable_id(resource, call_id),
                "call_id": call_id,
                "participants": [
                    {
                        "phone_number": plain_number(facts.raw_digits),
                        "value": conv.sentiment,
                        "type": "external",
                    }
                ],
            }
        }
    if resource == "action_items":
        stamp = iso(ready_at)
        return {
            "call_id": call_id,
            "action_items": [
                _action_item(call_id, k, text, stamp, facts.user_id)
                for k, text in enumerate(item_pool[: conv.items])
            ],
        }
    if resource in PRO_RESOURCES:
        return pro_insights.render(
            resource, facts.id, facts.user_id, ready_at, conv.theme, conv.sentiment
        )
    raise ValueError(f"unknown insight {resource!r}")


def _action_item(
    call_id: int, k: int, text: str, stamp: str, user_id: int | None
) -> dict[str, Any]:
    """The second item is sometimes the agent's own: no AI, the agent as its author."""
    item_id = stable_id("action_items", call_id, k)
    by_agent = k == 1 and user_id is not None and item_id % 2 == 0
    return {
        "id": item_id,
        "ai_generated": not by_agent,
        "content": text,
        "created_at": stamp,
        "created_by": user_id if by_agent else None,
        "updated_at": None if by_agent else stamp,
        "updated_by": None,
    }
