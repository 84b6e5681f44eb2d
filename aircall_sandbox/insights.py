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
  ``ai_voice_agent`` utterance that carries neither ``user_id`` nor ``phone_number``.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

RESOURCES = ("transcription", "summary", "topics", "sentiments", "action_items")
"""The five insight endpoints (``GET /v1/calls/{id}/<resource>``), in the order Aircall
writes them."""

AI_MODES: dict[str, str | None] = {
    "on": None,
    "off": "Forbidden access: Aircall AI is not enabled for this company.",
    "unverified": "Forbidden access: company is not verified.",
}
"""Account switch -> the 403 message of the five endpoints (None: they answer)."""

MIN_TALK_SECONDS = 20
"""Calls with less talk (hang-up minus answer) never get any insight."""
NEVER_FRACTION = 0.10
"""Recorded calls that never get any insight (no speech detected, unsupported language...)."""
LATE_FRACTION = 0.05
"""Recorded calls whose transcription comes one to three hours late (a backlog)."""
NO_TOPICS_FRACTION = 0.05
NO_ACTION_ITEMS_FRACTION = 0.12


@dataclass(frozen=True, slots=True)
class InsightTimes:
    """The moment (sandbox UNIX seconds) each insight of one call is ready; None = never."""

    transcription: int | None = None
    summary: int | None = None
    topics: int | None = None
    sentiments: int | None = None
    action_items: int | None = None

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
    if talk_seconds < MIN_TALK_SECONDS or never < NEVER_FRACTION:
        return NEVER
    transcription = base + (late_delay if late < LATE_FRACTION else delay)
    return InsightTimes(
        transcription=transcription,
        summary=transcription + follow[0],
        topics=None if no_topics < NO_TOPICS_FRACTION else transcription + follow[1],
        sentiments=transcription + follow[2],
        action_items=None if no_items < NO_ACTION_ITEMS_FRACTION else transcription + follow[3],
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


def iso(ts: int) -> str:
    """``2026-09-28T10:21:09.000Z``, the format of users' ``created_at``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def stable_id(kind: str, call_id: int, k: int = 0) -> int:
    """A 9-digit id for an insight (or an action item), the same on every request."""
    digest = hashlib.blake2b(f"{kind}:{call_id}:{k}".encode(), digest_size=6).digest()
    return 100_000_000 + int.from_bytes(digest, "big") % 900_000_000


# ----------------------------------------------------------------------- texts
_LINES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str, str]] = {
    # language: (agent lines, customer lines, ai voice agent greeting, agent closing)
    "en": (
        (
            "Hi, this is {agent} from the sales team, thanks for taking my call.",
            "Could you tell me a bit about how your team handles calls today?",
            "That makes sense. How many people would be using it?",
            "Our standard plan would fit, and we can add the analytics option later.",
            "I can send you a quote by email this afternoon.",
            "Would Thursday work for a short demo with your manager?",
            "We usually get new teams set up within a week.",
            "Let me check that with our product team and come back to you.",
        ),
        (
            "Sure, we are about fifteen people on the phones right now.",
            "Mostly inbound, with a few outbound campaigns each quarter.",
            "Price is the main question for us, to be honest.",
            "Does it integrate with our CRM?",
            "Thursday afternoon would be fine.",
            "We had some issues with our current provider last month.",
            "Can you send me the details in writing?",
            "I need to check with my manager before we commit.",
        ),
        "Welcome, this call may be recorded. Let me put you through to an advisor.",
        "Great, I will follow up by email. Have a good day!",
    ),
    "fr": (
        (
            "Bonjour, {agent} de l'équipe commerciale, merci de prendre mon appel.",
            "Comment votre équipe gère-t-elle les appels aujourd'hui ?",
            "Combien de personnes utiliseraient l'outil ?",
            "L'offre standard vous conviendrait, avec l'option analytique plus tard.",
            "Je vous envoie un devis par e-mail cet après-midi.",
            "Jeudi, ce serait possible pour une démo avec votre responsable ?",
            "La mise en place prend en général moins d'une semaine.",
            "Je vérifie avec l'équipe produit et je reviens vers vous.",
        ),
        (
            "Nous sommes une quinzaine au téléphone en ce moment.",
            "Surtout des appels entrants, et quelques campagnes sortantes.",
            "Le prix est notre principale question, honnêtement.",
            "Est-ce que ça s'intègre à notre CRM ?",
            "Jeudi après-midi, ça me va.",
            "Nous avons eu des soucis avec notre fournisseur le mois dernier.",
            "Vous pouvez m'envoyer tout ça par écrit ?",
            "Je dois en parler à mon responsable avant de m'engager.",
        ),
        "Bienvenue, cet appel peut être enregistré. Je vous mets en relation avec un conseiller.",
        "Parfait, je vous fais un suivi par e-mail. Bonne journée !",
    ),
    "es": (
        (
            "Hola, soy {agent} del equipo comercial, gracias por atender mi llamada.",
            "¿Cómo gestiona su equipo las llamadas hoy en día?",
            "¿Cuántas personas lo usarían?",
            "El plan estándar le encajaría, y la opción de análisis se puede añadir después.",
            "Le envío un presupuesto por correo esta tarde.",
            "¿Le vendría bien el jueves para una demo con su responsable?",
            "Normalmente la puesta en marcha lleva menos de una semana.",
            "Lo consulto con el equipo de producto y le digo algo.",
        ),
        (
            "Ahora mismo somos unas quince personas al teléfono.",
            "Sobre todo llamadas entrantes, y alguna campaña saliente.",
            "El precio es nuestra principal duda, la verdad.",
            "¿Se integra con nuestro CRM?",
            "El jueves por la tarde me va bien.",
            "Tuvimos problemas con nuestro proveedor el mes pasado.",
            "¿Me lo puede enviar por escrito?",
            "Tengo que consultarlo con mi responsable antes de decidir.",
        ),
        "Bienvenido, esta llamada puede ser grabada. Le paso con un asesor.",
        "Perfecto, le escribo por correo. ¡Que tenga un buen día!",
    ),
}

_THEMES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    # (summary sentence, topics, action items)
    (
        "The prospect asked about pricing for a team of about fifteen agents; "
        "the agent offered the standard plan and promised a written quote.",
        ("pricing", "quote", "team size"),
        ("Send the quote by email", "Follow up on the quote next week"),
    ),
    (
        "The agent qualified the lead and booked a product demo with the prospect's manager.",
        ("demo", "qualification", "decision maker"),
        ("Send the demo invitation for Thursday", "Prepare a demo tailored to inbound teams"),
    ),
    (
        "The customer asked whether the product integrates with their CRM; "
        "the agent will confirm with the product team.",
        ("integration", "CRM", "setup"),
        ("Check the CRM integration with the product team", "Share the integration guide"),
    ),
    (
        "The customer reported problems with their current provider and wants to "
        "switch within the quarter.",
        ("competitor", "migration", "timeline"),
        ("Send a migration plan", "Schedule a call with the onboarding team"),
    ),
    (
        "The prospect is interested but needs their manager's approval before committing.",
        ("budget", "approval", "next steps"),
        ("Call back after the manager's review", "Send a one-page summary for the manager"),
    ),
)
_SENTIMENTS = ("POSITIVE", "POSITIVE", "POSITIVE", "NEUTRAL", "NEUTRAL", "NEUTRAL", "NEGATIVE")


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
    theme, sentiment, voice = rng.randrange(len(_THEMES)), rng.choice(_SENTIMENTS), rng.random()
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
    return prefix if prefix in _LINES else "en"


def _utterances(seed: int, facts: CallFacts, agent_name: str) -> list[dict[str, Any]]:
    conv = _conversation(seed, facts)
    agent_lines, customer_lines, greeting, closing = _LINES[_language(facts)]
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
            item["phone_number"] = facts.raw_digits
        result.append(item)
    if conv.voice_agent:
        result[0] = {
            "start_time": result[0]["start_time"],
            "end_time": result[0]["end_time"],
            "text": greeting,
            "participant_type": "ai_voice_agent",
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
    summary_text, topic_pool, item_pool = _THEMES[conv.theme]
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
                    {"phone_number": facts.raw_digits, "value": conv.sentiment, "type": "external"}
                ],
            }
        }
    if resource == "action_items":
        stamp = iso(ready_at)
        return {
            "call_id": call_id,
            "action_items": [
                {
                    "id": stable_id(resource, call_id, k),
                    "ai_generated": True,
                    "content": text,
                    "created_at": stamp,
                    "created_by": None,
                    "updated_at": stamp,
                    "updated_by": None,
                }
                for k, text in enumerate(item_pool[: conv.items])
            ],
        }
    raise ValueError(f"unknown insight {resource!r}")
