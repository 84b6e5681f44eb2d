"""What the contract says a sync must emit, computed from the sandbox's own model.

Nothing here reads the connector's output: expectations come from the calls and users
the sandbox holds (`Sandbox.calls()`, `Sandbox.users()`) and the rules of the contract
(`calls`: done calls in the lookback window; `recordings`: those of a Salescaling
user, by its agent or else by the agent it was transferred to, with a recording no
larger than the size limit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MIB = 1_048_576
DAY = 86_400
WINDOW_DAYS = 14  # the spec's default `lookback_window_days`
LIMIT_MB = 200  # the spec's default `max_recording_size_mb`


def users_by_id(users: Iterable[Mapping[str, Any]]) -> dict[int, Mapping[str, Any]]:
    return {int(user["id"]): user for user in users}


def in_window(call: Mapping[str, Any], now: float, days: int = WINDOW_DAYS) -> bool:
    """Started after `now` minus `days` (the window's start itself is outside)."""
    return bool(call["started_at"] > now - days * DAY)


def ranked_newest(calls: Iterable[Mapping[str, Any]], count: int) -> list[int]:
    """The ids of the `count` most recent calls by (started_at, id), newest first."""
    ordered = sorted(calls, key=lambda c: (c["started_at"], c["id"]), reverse=True)
    return [int(c["id"]) for c in ordered[:count]]


def newest(calls: Iterable[Mapping[str, Any]], count: int) -> set[int]:
    """The ids of the `count` most recent calls by (started_at, id): the first sync's cap."""
    return set(ranked_newest(calls, count))


def done_calls(
    calls: Iterable[Mapping[str, Any]], now: float, days: int = WINDOW_DAYS
) -> list[Mapping[str, Any]]:
    return [c for c in calls if c["status"] == "done" and in_window(c, now, days)]


def agent_email(call: Mapping[str, Any], users: Iterable[Mapping[str, Any]]) -> str:
    """The agent's email as the connector compares it (trimmed, lower case), or ""."""
    user_id = call.get("user_id")
    user = users_by_id(users).get(int(user_id)) if user_id is not None else None
    return str((user or {}).get("email") or "").strip().lower()


def transferee_email(call: Mapping[str, Any], users: Iterable[Mapping[str, Any]]) -> str:
    """The email of the agent the call was transferred to, as compared, or ""."""
    return agent_email({"user_id": call.get("transferred_to_id")}, users)


def belongs_to_salescaling(
    call: Mapping[str, Any], users: Iterable[Mapping[str, Any]], wanted: set[str]
) -> bool:
    """Whose call it is (contract): its agent's email, else its transferee's, is wanted."""
    known = list(users)
    return agent_email(call, known) in wanted or transferee_email(call, known) in wanted


def eligible_calls(
    calls: Iterable[Mapping[str, Any]],
    users: Iterable[Mapping[str, Any]],
    emails: Iterable[str],
    now: float,
    days: int = WINDOW_DAYS,
    limit_mb: int = LIMIT_MB,
) -> list[Mapping[str, Any]]:
    """Done calls in the window whose recording Salescaling imports: a Salescaling user's
    call (`belongs_to_salescaling`), a recording, at most `limit_mb` (contract:
    `recordings`)."""
    wanted = {e.strip().lower() for e in emails}
    known = list(users)
    chosen = []
    for call in done_calls(calls, now, days):
        if not belongs_to_salescaling(call, known, wanted) or not call.get("has_recording"):
            continue
        if int(call["recording_size"]) > limit_mb * MIB:
            continue
        chosen.append(call)
    return chosen
