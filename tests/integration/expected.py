"""What the contract says a sync must emit, computed from the sandbox's own model.

Nothing here reads the connector's output: expectations come from the calls the
sandbox holds and the rules of ../shared/connector-contract.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

MIB = 1_048_576


def in_window(call: dict[str, Any], days: int = 14, now: float | None = None) -> bool:
    current = time.time() if now is None else now
    return bool(call["started_at"] > current - days * 86_400)


def newest(calls: Iterable[dict[str, Any]], count: int) -> list[int]:
    ordered = sorted(calls, key=lambda c: (c["started_at"], c["id"]), reverse=True)
    return [c["id"] for c in ordered[:count]]


def done_calls(calls: Iterable[dict[str, Any]], days: int = 14) -> list[dict[str, Any]]:
    return [c for c in calls if c["status"] == "done" and in_window(c, days)]


def agent_email(call: dict[str, Any], users: Iterable[dict[str, Any]]) -> str:
    """The agent's email as the connector compares it (trimmed, lower case), or ""."""
    by_id = {user["id"]: user for user in users}
    user = by_id.get(call.get("user_id"))
    return str((user or {}).get("email") or "").strip().lower()


def eligible_calls(
    calls: Iterable[dict[str, Any]],
    users: list[dict[str, Any]],
    emails: Iterable[str],
    limit_mb: int = 200,
    days: int = 14,
) -> list[dict[str, Any]]:
    wanted = {e.strip().lower() for e in emails}
    chosen = []
    for call in done_calls(calls, days):
        if agent_email(call, users) not in wanted or not call["has_recording"]:
            continue
        if call["recording_size"] > limit_mb * MIB:
            continue
        chosen.append(call)
    return chosen
