"""What the sandbox's Aircall AI says: the lines of its transcripts (per language), the
themes its summaries, topics, action items and playbooks are drawn from, and the stamps
and ids it gives them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime


def iso(ts: int) -> str:
    """``2026-09-28T10:21:09.000Z``, the format of users' ``created_at``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def stable_id(kind: str, call_id: int, k: int = 0) -> int:
    """A 9-digit id for an insight (or an action item), the same on every request."""
    digest = hashlib.blake2b(f"{kind}:{call_id}:{k}".encode(), digest_size=6).digest()
    return 100_000_000 + int.from_bytes(digest, "big") % 900_000_000


LINES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str, str]] = {
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

THEMES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
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
SENTIMENTS = ("POSITIVE", "POSITIVE", "POSITIVE", "NEUTRAL", "NEUTRAL", "NEUTRAL", "NEGATIVE")
