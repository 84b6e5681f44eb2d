"""Salescaling's records, one function per stream, beside the schemas they must match
(`schemas/calls.json`, `recordings.json`, `users.json`; unit_tests/test_records.py holds
each function against its schema). The Aircall AI streams' records are in `ai_records.py`.

`calls` and `recordings` share their call fields under the same names (the contract), so
both are built from `call_fields`; the record functions only add their stream's own keys.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

from source_aircall_salescaling.aircall.models import (
    Agent,
    Call,
    CallDetails,
    User,
    aircall_time,
    iso_utc,
)
from source_aircall_salescaling.aircall.phones import e164
from source_aircall_salescaling.config import normalize_email
from source_aircall_salescaling.import_rules import ImportDecision, salescaling_agent
from source_aircall_salescaling.recordings.downloader import (
    RecordingFile,
    RecordingSize,
    file_name_for,
)


def _person(agent: Agent | None) -> dict[str, Any] | None:
    return None if agent is None else {"id": agent.id, "name": agent.name, "email": agent.email}


_NO_DETAILS = CallDetails(None, None, None, None, None, None, None, None, (), (), ())


def call_fields(call: Call, salescaling_emails: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields that `calls` and `recordings` share (contract: same names).
    `salescaling_emails` decides `salescaling_agent` (import_rules.salescaling_agent).
    The media URLs (`recording`, `voicemail`, their short URLs) are pre-signed: anyone
    holding one hears the call, so none is ever a field."""
    details = call.details or _NO_DETAILS
    number = details.number
    return {
        "direction": call.direction,
        "status": call.status,
        "missed_call_reason": call.missed_call_reason,
        "started_at": iso_utc(call.started_at),
        "answered_at": iso_utc(call.answered_at),
        "ended_at": iso_utc(call.ended_at),
        "duration": call.duration,
        "user": _person(call.agent),
        "contact": None
        if call.contact is None
        else {"id": call.contact.id, "name": call.contact.name, "phone": call.contact.phone},
        "internal_number": call.internal_number,
        "external_number": call.external_number,
        "internal_number_e164": e164(call.internal_number, number.country if number else None),
        "external_number_e164": e164(call.external_number),
        "number": None
        if number is None
        else {
            "id": number.id,
            "name": number.name,
            "digits": number.digits,
            "country": number.country,
        },
        "sid": details.sid,
        "cost": details.cost,
        "pricing_type": details.pricing_type,
        "hangup_cause": details.hangup_cause,
        "country_code_a2": details.country_code_a2,
        "asset": details.asset,
        "archived": details.archived,
        "tags": [
            {
                "id": tag.id,
                "name": tag.name,
                "tagged_by": _person(tag.tagged_by),
                "tagged_at": aircall_time(tag.tagged_at),
            }
            for tag in details.tags
        ],
        "comments": [
            {
                "id": comment.id,
                "content": comment.content,
                "posted_by": _person(comment.posted_by),
                "posted_at": aircall_time(comment.posted_at),
            }
            for comment in details.comments
        ],
        "teams": [{"id": team.id, "name": team.name} for team in details.teams],
        "transferred_by": _person(call.transferred_by),
        "transferred_to": _person(call.transferred_to),
        "assigned_to": _person(call.assigned_to),
        "salescaling_agent": _person(salescaling_agent(call, salescaling_emails)),
        "_ab_cdc_deleted_at": None,
    }


def call_record(call: Call, salescaling_emails: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A `calls` record."""
    return {
        "id": call.id,
        **call_fields(call, salescaling_emails),
        "has_recording": call.recording_url is not None,
    }


def record_print(call: Call, salescaling_emails: frozenset[str] = frozenset()) -> int:
    """A short hash of the record `calls` emits (24 bits: a collision only delays nothing
    worse than one missed rewrite in 16 million), kept in the state while the call is
    re-listed, so that a record Aircall changed goes out again and an unchanged one does
    not: the whole record, so a tag, a comment or a cost added after the call ended is a
    change like a rewritten duration."""
    record = call_record(call, salescaling_emails)
    return zlib.crc32(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)) & 0xFFFFFF


def recording_record(
    call: Call,
    audio: RecordingFile | RecordingSize,
    salescaling_emails: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The data of a `recordings` record: of a downloaded file (files mode), or of one
    only sized on the storage host (records mode), which has no `sha256`."""
    if isinstance(audio, RecordingFile):
        file_name, sha256 = audio.file_name, audio.sha256
    else:
        file_name, sha256 = file_name_for(call.id, audio.content_type), None
    return {
        "call_id": call.id,
        **call_fields(call, salescaling_emails),
        "file_name": file_name,
        "content_type": audio.content_type,
        "size_bytes": audio.size_bytes,
        "sha256": sha256,
    }


def user_record(user: User, salescaling_emails: frozenset[str]) -> dict[str, Any]:
    """A `users` record; `salescaling_user` compares normalized emails."""
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "created_at": user.created_at,
        "available": user.available,
        "availability_status": user.availability_status,
        "time_zone": user.time_zone,
        "language": user.language,
        "extension": user.extension,
        "state": user.state,
        "substatus": user.substatus,
        "default_number_id": user.default_number_id,
        "wrap_up_time": user.wrap_up_time,
        "salescaling_user": bool(user.email)
        and normalize_email(user.email or "") in salescaling_emails,
        "_ab_cdc_deleted_at": None,
    }


def deleted_user_record(user_id: int, created_at: str | None, deleted_at: str) -> dict[str, Any]:
    """The `users` record of a user gone from Aircall: its key and cursor unchanged (a
    destination that deduplicates on the key keeps the latest cursor), the rest null."""
    nobody = User(user_id, None, None, created_at, None, None, None, None)
    return {
        **user_record(nobody, frozenset()),
        "salescaling_user": None,
        "_ab_cdc_deleted_at": deleted_at,
    }


# import_decisions -------------------------------------------------------------------------
def decision_record(decision: ImportDecision) -> dict[str, Any]:
    agent = decision.agent
    return {
        "call_id": decision.call_id,
        "started_at": iso_utc(decision.started_at),
        "ended_at": iso_utc(decision.ended_at),
        "user": None
        if agent is None
        else {"id": agent.id, "name": agent.name, "email": agent.email},
        "salescaling_agent": _person(decision.salescaling_agent),
        "decision": decision.decision,
        "reason": decision.reason,
        "size_bytes": decision.size_bytes,
        "decided_at": iso_utc(decision.decided_at),
    }
