"""The sandbox's records: users, numbers, contacts and calls, and their shared rules.

These dataclasses are what :class:`~aircall_sandbox.account.SandboxWorld` holds and
what ``render.py`` turns into Aircall's JSON. The helpers below (call SIDs, phone
numbers, the control API's typed fields) are shared by the account and the
generator, so they live with the records rather than in either.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DAY = 86_400
RETENTION_SECONDS = 183 * DAY
"""Aircall serves about six months of history; older calls are never listed."""

BYTES_PER_SECOND = 16_000
"""128 kbit/s MP3: recording sizes are derived from call durations with this rate."""

MIB = 1_048_576
FIRST_CALL_ID = 2_100_000_000
FIRST_USER_ID = 1_300_100
FIRST_CONTACT_ID = 870_000_000
FIRST_NUMBER_ID = 510_000

MISSED_REASONS = (
    "out_of_opening_hours",
    "short_abandoned",
    "abandoned_in_classic",
    "no_available_agent",
    "agents_did_not_answer",
)

_COUNTRIES = (
    ("+33", "FR", (1, 6, 7)),
    ("+34", "ES", (6, 9)),
    ("+44", "GB", (7, 20)),
    ("+1", "US", (212, 415, 646)),
    ("+49", "DE", (30, 151)),
)


@dataclass(slots=True)
class SandboxUser:
    """An Aircall agent. ``email`` is stored exactly as Aircall returns it."""

    id: int
    name: str
    email: str
    salescaling: bool
    created_at: int
    available: bool
    availability_status: str
    substatus: str
    state: str
    time_zone: str
    language: str
    wrap_up_time: int
    extension: str
    default_number_id: int | None

    @property
    def email_normalized(self) -> str:
        """The trimmed lower-case email: what a Salescaling config would list."""
        return self.email.strip().lower()

    def to_control(self) -> dict[str, Any]:
        """The full model view for the control API (includes the salescaling flag)."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "email_normalized": self.email_normalized,
            "salescaling": self.salescaling,
            "created_at": self.created_at,
            "available": self.available,
            "availability_status": self.availability_status,
            "substatus": self.substatus,
            "state": self.state,
            "time_zone": self.time_zone,
            "language": self.language,
            "wrap_up_time": self.wrap_up_time,
            "extension": self.extension,
            "default_number_id": self.default_number_id,
        }


@dataclass(slots=True)
class SandboxNumber:
    """An Aircall phone number; recording is switched on or off per number."""

    id: int
    name: str
    digits: str
    country: str
    time_zone: str
    live_recording_activated: bool


@dataclass(slots=True)
class SandboxContact:
    """A CRM-ish contact; some have only a company name, some no email."""

    id: int
    first_name: str | None
    last_name: str | None
    company_name: str | None
    phone_numbers: list[tuple[int, str, str]]
    emails: list[tuple[int, str, str]]
    created_at: int


@dataclass(slots=True)
class SandboxTag:
    """A tag on a call, as a person put it there (often after the call ended).

    ``tagged_by_id`` None: Aircall's ``tagged_by: {}`` (a tag whose author is unknown).
    """

    name: str
    tagged_by_id: int | None
    tagged_at: int | None

    def to_control(self) -> dict[str, Any]:
        return {"name": self.name, "tagged_by_id": self.tagged_by_id, "tagged_at": self.tagged_at}


@dataclass(slots=True)
class SandboxComment:
    """An agent's note on a call (the content may hold newlines)."""

    content: str
    posted_by_id: int | None
    posted_at: int | None

    def to_control(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "posted_by_id": self.posted_by_id,
            "posted_at": self.posted_at,
        }


def price(direction: str, duration: int, answered: bool) -> str:
    """Aircall's ``cost``, a decimal string: ``"0.0"`` for inbound and unanswered calls,
    else a tenth of a unit per started minute (the sandbox's own tariff)."""
    if direction != "outbound" or not answered:
        return "0.0"
    return f"{((duration + 59) // 60) / 10:.1f}"


@dataclass(slots=True)
class SandboxCall:
    """One call, with the sandbox-only fields that drive the storage host.

    ``recording_size``/``voicemail_size`` are None when the call has no such
    file. The boolean flags make the storage host misbehave for this call's
    recording (see ``server.py``); ``url_serial_min`` revokes every URL issued
    before it (``expire_recording_urls``).
    """

    id: int
    sid: str
    direction: str
    status: str
    started_at: int
    answered_at: int | None
    ended_at: int | None
    duration: int
    missed_call_reason: str | None
    user_id: int | None
    number_id: int
    contact_id: int | None
    raw_digits: str
    country_code_a2: str | None
    archived: bool = False
    cost: str = "0.0"
    pricing_type: str | None = None  # None: "in_bundle" for answered outbound calls
    hangup_cause: str | None = None  # None: derived when rendered (see render.py)
    recording_size: int | None = None
    voicemail_size: int | None = None
    tags: list[SandboxTag] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    comments: list[SandboxComment] = field(default_factory=list)
    assigned_to_id: int | None = None
    transferred_by_id: int | None = None
    transferred_to_id: int | None = None
    no_content_length: bool = False
    short_body: bool = False
    lying_length: bool = False
    lying_actual_size: int | None = None
    redirect: bool = False
    fail_next: int = 0
    fail_always: bool = False
    url_serial_min: int = 0

    @property
    def has_recording(self) -> bool:
        """In-progress calls never expose a recording, whatever the model holds."""
        return self.status == "done" and self.recording_size is not None

    @property
    def has_voicemail(self) -> bool:
        return self.status == "done" and self.voicemail_size is not None

    @property
    def served_size(self) -> int:
        """Bytes a full GET of the recording really sends (differs with ``lying_length``)."""
        size = self.recording_size or 0
        if self.lying_length:
            return self.lying_actual_size or size * 2 + MIB
        return size

    def flags(self) -> dict[str, Any]:
        """The storage behaviour flags, as the control API shows and accepts them."""
        return {
            "no_content_length": self.no_content_length,
            "short_body": self.short_body,
            "lying_length": self.lying_length,
            "lying_actual_size": self.lying_actual_size,
            "redirect": self.redirect,
            "fail_next": self.fail_next,
            "fail_always": self.fail_always,
        }

    def to_control(self) -> dict[str, Any]:
        """The full model view (sizes and flags included) for the control API."""
        return {
            "id": self.id,
            "sid": self.sid,
            "direction": self.direction,
            "status": self.status,
            "started_at": self.started_at,
            "answered_at": self.answered_at,
            "ended_at": self.ended_at,
            "duration": self.duration,
            "missed_call_reason": self.missed_call_reason,
            "user_id": self.user_id,
            "number_id": self.number_id,
            "contact_id": self.contact_id,
            "raw_digits": self.raw_digits,
            "country_code_a2": self.country_code_a2,
            "archived": self.archived,
            "cost": self.cost,
            "recording_size": self.recording_size,
            "voicemail_size": self.voicemail_size,
            "served_size": self.served_size if self.recording_size is not None else None,
            "has_recording": self.has_recording,
            "has_voicemail": self.has_voicemail,
            "pricing_type": self.pricing_type,
            "hangup_cause": self.hangup_cause,
            "tags": [tag.to_control() for tag in self.tags],
            "teams": list(self.teams),
            "comments": [comment.to_control() for comment in self.comments],
            "assigned_to_id": self.assigned_to_id,
            "transferred_by_id": self.transferred_by_id,
            "transferred_to_id": self.transferred_to_id,
            "flags": self.flags(),
        }


class ModelError(ValueError):
    """A control request the model cannot honour; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


FLAG_NAMES = ("no_content_length", "short_body", "lying_length", "redirect", "fail_always")
"""Download behaviours a recording can be given through the control API."""

# Fields the control API may set on a user or a call, with the type each must have.
USER_FIELDS: dict[str, Any] = {
    "name": str, "email": str, "salescaling": bool, "available": bool,
    "availability_status": str, "substatus": str, "state": str, "time_zone": str,
    "language": str, "wrap_up_time": int, "extension": str, "default_number_id": int,
}  # fmt: skip
CALL_FIELDS: dict[str, Any] = {
    "started_at": int, "answered_at": int, "ended_at": int, "duration": int,
    "missed_call_reason": str, "user_id": int, "raw_digits": str, "archived": bool,
    "cost": str, "pricing_type": str, "hangup_cause": str,
    "tags": list, "teams": list, "comments": list, "status": str,
    "recording_size": int, "voicemail_size": int, "direction": str,
    "assigned_to_id": int, "transferred_by_id": int, "transferred_to_id": int,
    "no_content_length": bool, "short_body": bool, "lying_length": bool,
    "lying_actual_size": int, "redirect": bool, "fail_next": int, "fail_always": bool,
}  # fmt: skip


def int_param(spec: Mapping[str, Any], key: str, default: int, low: int, high: int | None) -> int:
    """Read an integer control parameter, refusing junk with a 400."""
    value = spec.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelError(f"{key} must be an integer")
    result = int(value)
    if result < low or (high is not None and result > high):
        raise ModelError(f"{key} out of range")
    return result


def call_sid(call_id: int) -> str:
    """A Twilio-like call SID derived from the id (cheap, stable, unique)."""
    return "CA" + hashlib.blake2b(str(call_id).encode(), digest_size=16).hexdigest()


def random_phone(rng: random.Random) -> tuple[str, str]:
    """A random international number with its ISO country code."""
    prefix, country, areas = rng.choice(_COUNTRIES)
    area = rng.choice(areas)
    if prefix == "+1":
        return f"+1 {area}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}", country
    rest = " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))
    return f"{prefix} {area} {rest}", country


def country_of(raw_digits: str) -> str | None:
    if raw_digits == "anonymous":
        return None
    for prefix, country, _ in _COUNTRIES:
        if raw_digits.startswith(prefix + " "):
            return country
    return None


@dataclass(frozen=True, slots=True)
class NewCalls:
    """A control request for new calls (``POST /_sandbox/calls``), checked.

    The defaults follow the status: a done call is answered and recorded unless told
    otherwise, an ``initial`` one is not answered, and a call still running cannot
    have a recording yet (409).
    """

    count: int
    done: bool
    first_status: str
    direction: str
    answered: bool
    recording: bool
    duration: int
    ago: int
    spread: int
    recording_size: int | None
    raw_digits: str | None

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> NewCalls:
        count = int_param(spec, "count", 1, 1, 100_000)
        status = str(spec.get("status", "done"))
        if status not in ("done", "in_progress", "initial", "answered"):
            raise ModelError("status must be done, in_progress, initial or answered")
        done = status == "done"
        direction = str(spec.get("direction", "inbound"))
        if direction not in ("inbound", "outbound"):
            raise ModelError("direction must be inbound or outbound")
        answered = bool(spec.get("answered", status != "initial"))
        recording = bool(spec.get("recording", done and answered))
        if recording and not done:
            raise ModelError("an in-progress call cannot have a recording", 409)
        duration = int_param(spec, "duration", 120, 1, 10 * DAY)
        ago = int_param(spec, "started_ago_seconds", duration + 60 if done else 30, 0, None)
        spread = int_param(spec, "spread_seconds", min(count - 1, ago), 0, None)
        size, raw = spec.get("recording_size"), spec.get("raw_digits")
        return cls(
            count=count,
            done=done,
            first_status="done" if done else ("answered" if answered else "initial"),
            direction=direction,
            answered=answered,
            recording=recording,
            duration=duration,
            ago=ago,
            spread=spread,
            recording_size=None if size is None or not recording else int(size),
            raw_digits=None if raw is None else str(raw),
        )


def tags_from(value: Any, by: int | None, at: int | None) -> list[SandboxTag]:
    """A control request's ``tags``: names (tagged by ``by`` at ``at``) or objects
    ``{name, tagged_by_id, tagged_at}``."""
    if not isinstance(value, list):
        raise ModelError("tags must be a list")
    tags = []
    for item in value:
        if isinstance(item, str):
            tags.append(SandboxTag(item, by, at))
        elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
            tags.append(SandboxTag(item["name"], item.get("tagged_by_id"), item.get("tagged_at")))
        else:
            raise ModelError("a tag is a name or {name, tagged_by_id, tagged_at}")
    return tags


def comments_from(value: Any, by: int | None, at: int | None) -> list[SandboxComment]:
    """A control request's ``comments``: texts (posted by ``by`` at ``at``) or objects
    ``{content, posted_by_id, posted_at}``."""
    if not isinstance(value, list):
        raise ModelError("comments must be a list")
    comments = []
    for item in value:
        if isinstance(item, str):
            comments.append(SandboxComment(item, by, at))
        elif isinstance(item, Mapping) and isinstance(item.get("content"), str):
            comments.append(
                SandboxComment(item["content"], item.get("posted_by_id"), item.get("posted_at"))
            )
        else:
            raise ModelError("a comment is a text or {content, posted_by_id, posted_at}")
    return comments
