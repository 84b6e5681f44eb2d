"""The JSON shapes the fake API answers with, built from the model.

Kept apart from the model so the model stays free of URLs and of Aircall's
wire quirks (ISO strings on users but integer timestamps on calls, ``contact``
null unless asked for, media URLs signed at the moment of the answer).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .account import SandboxWorld
from .model import SandboxCall, SandboxContact, SandboxNumber, SandboxUser
from .signing import UrlSigner

SHORT_URL_TTL = 3 * 3600


def iso(ts: int) -> str:
    """Aircall's user timestamp format: ``2026-09-28T10:21:09.000Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _stable_id(text: str, base: int) -> int:
    return base + zlib.crc32(text.encode()) % 100_000


def _pricing_type(call: SandboxCall) -> str | None:
    """Aircall's ``pricing_type``: null, or a plan's name for calls it prices."""
    return "in_bundle" if call.direction == "outbound" and call.answered_at is not None else None


def _hangup_cause(call: SandboxCall) -> str | None:
    """Aircall's ``hangup_cause``: null, or a string (the sandbox's own words)."""
    if call.status != "done" or call.answered_at is None:
        return None
    return "agent_hung_up" if call.id % 3 == 0 else "external_hung_up"


@dataclass(frozen=True)
class Renderer:
    """Renders model objects for one sandbox (its API and storage base URLs)."""

    world: SandboxWorld
    signer: UrlSigner
    api_url: str
    storage_url: str
    # Where recording and voicemail URLs point, when not at the sandbox's own storage
    # host: a real web server serving the same files (see ``--media-url``).
    media_url: str | None = None

    def user(self, user: SandboxUser) -> dict[str, Any]:
        """A ``/v2/users`` item."""
        return {
            "id": user.id,
            "direct_link": f"{self.api_url}/v2/users/{user.id}",
            "name": user.name,
            "email": user.email,
            "created_at": iso(user.created_at),
            "available": user.available,
            "availability_status": user.availability_status,
            "substatus": user.substatus,
            "state": user.state,
            "time_zone": user.time_zone,
            "language": user.language,
            "wrap_up_time": user.wrap_up_time,
            "extension": user.extension,
            "default_number_id": user.default_number_id,
        }

    def _call_user(self, user_id: int | None) -> dict[str, Any] | None:
        """The agent summary embedded in calls (null if unknown or absent)."""
        user = self.world.users.get(user_id) if user_id is not None else None
        if user is None:
            return None
        return {
            "id": user.id,
            "direct_link": f"{self.api_url}/v1/users/{user.id}",
            "name": user.name,
            "email": user.email,
            "available": user.available,
            "availability_status": user.availability_status,
            "created_at": iso(user.created_at),
            "time_zone": user.time_zone,
            "language": user.language,
            "state": user.state,
            "wrap_up_time": user.wrap_up_time,
        }

    def number(self, number: SandboxNumber | None) -> dict[str, Any] | None:
        if number is None:
            return None
        return {
            "id": number.id,
            "direct_link": f"{self.api_url}/v1/numbers/{number.id}",
            "name": number.name,
            "digits": number.digits,
            "country": number.country,
            "time_zone": number.time_zone,
            "open": True,
            "availability_status": "open",
            "is_ivr": False,
            "live_recording_activated": number.live_recording_activated,
        }

    def contact(self, contact: SandboxContact | None) -> dict[str, Any] | None:
        if contact is None:
            return None
        return {
            "id": contact.id,
            "direct_link": f"{self.api_url}/v1/contacts/{contact.id}",
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "company_name": contact.company_name,
            "information": None,
            "is_shared": True,
            "created_at": contact.created_at,
            "updated_at": contact.created_at,
            "phone_numbers": [
                {"id": i, "label": label, "value": value}
                for i, label, value in contact.phone_numbers
            ],
            "emails": [
                {"id": i, "label": label, "value": value} for i, label, value in contact.emails
            ],
        }

    def _media_url(self, kind: str, call_id: int, now: int) -> str:
        return self.signer.sign(self.media_url or self.storage_url, f"/{kind}/{call_id}.mp3", now)

    def _short_url(self, kind: str, call_id: int, now: int) -> str:
        return self.signer.sign(self.storage_url, f"/short/{kind}/{call_id}", now, SHORT_URL_TTL)

    def call(
        self,
        call: SandboxCall,
        fetch_contact: bool = False,
        fetch_short_urls: bool = False,
        signed_at: int | None = None,
    ) -> dict[str, Any]:
        """A call as ``/v1/calls`` returns it, media URLs signed at ``signed_at`` (now)."""
        now = self.world.now() if signed_at is None else signed_at
        recording = self._media_url("recordings", call.id, now) if call.has_recording else None
        voicemail = self._media_url("voicemails", call.id, now) if call.has_voicemail else None
        contact = None
        if fetch_contact and call.contact_id is not None:
            contact = self.contact(self.world.contacts.get(call.contact_id))
        body: dict[str, Any] = {
            "id": call.id,
            "sid": call.sid,
            "direct_link": f"{self.api_url}/v1/calls/{call.id}",
            "direction": call.direction,
            "status": call.status,
            "missed_call_reason": call.missed_call_reason,
            "started_at": call.started_at,
            "answered_at": call.answered_at,
            "ended_at": call.ended_at,
            "duration": call.duration,
            "archived": call.archived,
            "cost": call.cost,
            "voicemail": voicemail,
            "recording": recording,
            "recording_short_url": (
                self._short_url("recordings", call.id, now)
                if fetch_short_urls and recording
                else None
            ),
            "voicemail_short_url": (
                self._short_url("voicemails", call.id, now)
                if fetch_short_urls and voicemail
                else None
            ),
            "asset": (
                f"{self.storage_url}/assets/calls/{call.id}/"
                + ("recording" if recording else "voicemail")
                if recording or voicemail
                else None
            ),
            "raw_digits": call.raw_digits,
            "user": self._call_user(call.user_id),
            "contact": contact,
            "assigned_to": self._call_user(call.assigned_to_id),
            "transferred_by": self._call_user(call.transferred_by_id),
            "transferred_to": self._call_user(call.transferred_to_id),
            "number": self.number(self.world.numbers.get(call.number_id)),
            "teams": [
                {"id": _stable_id(t, 9_000), "name": t, "direct_link": None} for t in call.teams
            ],
            "tags": [
                {
                    "id": _stable_id(tag.name, 40_000),
                    "name": tag.name,
                    "tagged_by": self._call_user(tag.tagged_by_id) or {},
                    "tagged_at": tag.tagged_at,
                }
                for tag in call.tags
            ],
            "comments": [
                {
                    "id": _stable_id(f"{call.id}:{k}", 70_000),
                    "content": comment.content,
                    "posted_at": comment.posted_at,
                    "posted_by": self._call_user(comment.posted_by_id),
                }
                for k, comment in enumerate(call.comments)
            ],
            "country_code_a2": call.country_code_a2,
            "pricing_type": call.pricing_type or _pricing_type(call),
            "hangup_cause": call.hangup_cause or _hangup_cause(call),
        }
        if call.user_id is None and zlib.crc32(call.sid.encode()) % 2 == 0:
            # No agent: Aircall's webhook form of a call leaves the key out altogether.
            del body["user"]
        return body
