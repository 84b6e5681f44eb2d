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


def eligible_calls(
    calls: Iterable[dict[str, Any]], emails: Iterable[str], limit_mb: int = 200, days: int = 14
) -> list[dict[str, Any]]:
    wanted = {e.strip().lower() for e in emails}
    chosen = []
    for call in done_calls(calls, days):
        user = call.get("user") or {}
        email = (user.get("email") or "").strip().lower()
        if email not in wanted or not call.get("recording"):
            continue
        if call["recording_size"] > limit_mb * MIB:
            continue
        chosen.append(call)
    return chosen
