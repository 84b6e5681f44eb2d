"""Raw Aircall calls for unit tests, built the way the sandbox serves them.

    a_call(77).started(t).answered(t + 5).ended(t + 65).with_recording().by("ana@x.com")

`.payload()` is the dict `GET /v1/calls` holds for the call, with every key the sandbox
serves (`tests/test_builders.py` holds the two together); `.parsed()` is the `Call` the
connector reads from it. Each step returns a new builder, so a test may keep a base call
and derive variants from it.

A field a test does not set has a value that changes no behaviour: no agent, no contact,
no number, no voicemail, no recording, `raw_digits` "anonymous" (no external number),
ended 60 s after it started, a duration derived from the two as Aircall does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from source_aircall_salescaling.aircall.models import Call, parse_call

STARTED = 1_763_892_000  # 2025-11-23T10:00:00Z
API = "https://api.aircall.io"
_UNSET: Any = object()  # "not set": ended_at and duration follow started_at


@dataclass(frozen=True)
class CallBuilder:
    call_id: int
    direction: str = "inbound"
    status: str = "done"
    started_at: int = STARTED
    answered_at: int | None = None
    ended_at: int | None = _UNSET
    duration: int | None = _UNSET
    missed_call_reason: str | None = None
    recording: str | None = None
    recording_size: int | None = None  # not in the payload: what storage would serve
    voicemail: str | None = None
    raw_digits: str | None = "anonymous"
    user: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    number: dict[str, Any] | None = None
    tags: tuple[dict[str, Any], ...] = ()
    comments: tuple[dict[str, Any], ...] = ()
    teams: tuple[dict[str, Any], ...] = ()
    transferred_by: dict[str, Any] | None = None
    transferred_to: dict[str, Any] | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    removed: tuple[str, ...] = ()

    # ----------------------------------------------------------------- the call's life
    def started(self, at: int) -> CallBuilder:
        return replace(self, started_at=at)

    def answered(self, at: int | None) -> CallBuilder:
        return replace(self, answered_at=at)

    def ended(self, at: int | None) -> CallBuilder:
        return replace(self, ended_at=at)

    def lasting(self, seconds: int | None) -> CallBuilder:
        """Aircall's `duration` as given, whatever the start and end say."""
        return replace(self, duration=seconds)

    def done(self) -> CallBuilder:
        return replace(self, status="done")

    def in_progress(self, status: str = "answered") -> CallBuilder:
        """Still running (Aircall's `initial` or `answered`): no end, a duration of 0."""
        return replace(self, status=status, ended_at=None, duration=0)

    def with_status(self, status: str) -> CallBuilder:
        return replace(self, status=status)

    def inbound(self) -> CallBuilder:
        return replace(self, direction="inbound")

    def outbound(self) -> CallBuilder:
        return replace(self, direction="outbound")

    def missed(self, reason: str | None) -> CallBuilder:
        return replace(self, missed_call_reason=reason)

    # ---------------------------------------------------------------------- media
    def with_recording(self, size: int | None = None, url: str | None = None) -> CallBuilder:
        """A recording URL; `size` is what storage serves for it (kept beside the payload)."""
        address = (
            url if url is not None else f"https://storage.example/recordings/{self.call_id}.mp3"
        )
        return replace(self, recording=address, recording_size=size)

    def without_recording(self) -> CallBuilder:
        return replace(self, recording=None, recording_size=None)

    def with_voicemail(self, url: str = "https://storage.example/vm.mp3") -> CallBuilder:
        return replace(self, voicemail=url)

    def without_voicemail(self) -> CallBuilder:
        return replace(self, voicemail=None)

    # ---------------------------------------------------------------------- people
    def by(self, email: str | None, user_id: int = 7, name: str | None = "Ana") -> CallBuilder:
        """Taken by an agent with this email (None: an agent without one)."""
        return replace(self, user=_user(user_id, name, email))

    def by_nobody(self) -> CallBuilder:
        return replace(self, user=None)

    def transferred_to_agent(
        self, email: str | None, user_id: int = 8, name: str | None = "Bo"
    ) -> CallBuilder:
        """Transferred by its agent (`by`) to another agent, who took the call over."""
        return replace(self, transferred_by=self.user, transferred_to=_user(user_id, name, email))

    # ------------------------------------------------------- what people add later
    def tagged(
        self, name: str, by: str | None = "ana@x.com", at: int | None = None, tag_id: int = 41
    ) -> CallBuilder:
        """A tag, put by the agent with email `by` (None: Aircall's `tagged_by: {}`) at
        `at` (UNIX seconds, default 30 s after the call ended)."""
        tag = {
            "id": tag_id,
            "name": name,
            "tagged_by": _user(7, "Ana", by) if by is not None else {},
            "tagged_at": at if at is not None else self.started_at + 90,
        }
        return replace(self, tags=(*self.tags, tag))

    def commented(
        self, content: str, by: str | None = "ana@x.com", at: int | None = None
    ) -> CallBuilder:
        comment = {
            "id": 70_000 + len(self.comments),
            "content": content,
            "posted_at": at if at is not None else self.started_at + 120,
            "posted_by": _user(7, "Ana", by) if by is not None else None,
        }
        return replace(self, comments=(*self.comments, comment))

    def in_team(self, name: str, team_id: int = 9_001) -> CallBuilder:
        return replace(
            self, teams=(*self.teams, {"id": team_id, "name": name, "direct_link": None})
        )

    def from_digits(self, raw_digits: str | None) -> CallBuilder:
        return replace(self, raw_digits=raw_digits)

    def on_number(
        self,
        digits: str | None,
        number_id: int = 3,
        name: str | None = "Sales",
        live_recording_activated: bool | None = None,
    ) -> CallBuilder:
        return replace(self, number=_number(number_id, name, digits, live_recording_activated))

    # ------------------------------------------------------------ raw, for bad input
    def with_fields(self, **raw: Any) -> CallBuilder:
        """Payload keys set as given, after everything else (a wrong type, a raw dict)."""
        return replace(self, overrides={**self.overrides, **raw})

    def without(self, *keys: str) -> CallBuilder:
        """Payload keys left out altogether (a partial or damaged payload)."""
        return replace(self, removed=(*self.removed, *keys))

    # ---------------------------------------------------------------------- output
    def payload(self) -> dict[str, Any]:
        ended_at = self.started_at + 60 if self.ended_at is _UNSET else self.ended_at
        duration = self.duration
        if duration is _UNSET:
            duration = 0 if ended_at is None else max(0, ended_at - self.started_at)
        media = self.recording or self.voicemail
        raw: dict[str, Any] = {
            "id": self.call_id,
            "sid": f"CA{self.call_id:032x}",
            "direct_link": f"{API}/v1/calls/{self.call_id}",
            "direction": self.direction,
            "status": self.status,
            "missed_call_reason": self.missed_call_reason,
            "started_at": self.started_at,
            "answered_at": self.answered_at,
            "ended_at": ended_at,
            "duration": duration,
            "archived": False,
            "cost": "0.0",
            "voicemail": self.voicemail,
            "recording": self.recording,
            "recording_short_url": None,
            "voicemail_short_url": None,
            "asset": (
                f"https://assets.aircall.io/calls/{self.call_id}/"
                + ("recording" if self.recording else "voicemail")
                if media
                else None
            ),
            "raw_digits": self.raw_digits,
            "user": self.user,
            "contact": self.contact,
            "assigned_to": None,
            "transferred_by": self.transferred_by,
            "transferred_to": self.transferred_to,
            "number": self.number,
            "teams": list(self.teams),
            "tags": list(self.tags),
            "comments": list(self.comments),
            "country_code_a2": None,
            "pricing_type": None,
            "hangup_cause": None,
        }
        raw.update(self.overrides)
        for key in self.removed:
            raw.pop(key, None)
        return raw

    def parsed(self) -> Call:
        return parse_call(self.payload())


def a_call(call_id: int = 2_100_000_123) -> CallBuilder:
    return CallBuilder(call_id)


@dataclass(frozen=True)
class UserBuilder:
    """A `/v2/users` item as the sandbox serves it:

    a_user(7).with_email("ana@x.com").named("Ana Lima").created("2026-09-28T10:21:09.000Z")
    """

    user_id: int
    overrides: dict[str, Any] = field(default_factory=dict)

    def with_email(self, email: str | None) -> UserBuilder:
        return self.with_fields(email=email)

    def named(self, name: str | None) -> UserBuilder:
        return self.with_fields(name=name)

    def created(self, at: str | None) -> UserBuilder:
        return self.with_fields(created_at=at)

    def unavailable(self) -> UserBuilder:
        return self.with_fields(available=False, availability_status="unavailable")

    def with_fields(self, **raw: Any) -> UserBuilder:
        return replace(self, overrides={**self.overrides, **raw})

    def payload(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "id": self.user_id,
            "direct_link": f"{API}/v2/users/{self.user_id}",
            "name": f"User {self.user_id}",
            "email": f"user{self.user_id}@example.com",
            "created_at": "2025-01-06T09:00:00.000Z",
            "available": True,
            "availability_status": "available",
            "substatus": "always_opened",
            "state": "active",
            "time_zone": "Europe/Paris",
            "language": "fr-FR",
            "wrap_up_time": 0,
            "extension": "101",
            "default_number_id": 3,
        }
        raw.update(self.overrides)
        return raw


def a_user(user_id: int = 7) -> UserBuilder:
    return UserBuilder(user_id)


def _user(user_id: int, name: str | None, email: str | None) -> dict[str, Any]:
    """The agent summary a call embeds (the sandbox's `_call_user`)."""
    return {
        "id": user_id,
        "direct_link": f"{API}/v1/users/{user_id}",
        "name": name,
        "email": email,
        "available": True,
        "availability_status": "available",
        "created_at": "2025-01-06T09:00:00.000Z",
        "time_zone": "Europe/Paris",
        "language": "fr-FR",
        "state": "always_opened",
        "wrap_up_time": 0,
    }


def _number(
    number_id: int, name: str | None, digits: str | None, live_recording: bool | None
) -> dict[str, Any]:
    return {
        "id": number_id,
        "direct_link": f"{API}/v1/numbers/{number_id}",
        "name": name,
        "digits": digits,
        "country": "FR",
        "time_zone": "Europe/Paris",
        "open": True,
        "availability_status": "open",
        "is_ivr": False,
        "live_recording_activated": live_recording,
    }
