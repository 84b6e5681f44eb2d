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
    Call,
    User,
    iso_utc,
)
from source_aircall_salescaling.config import normalize_email
from source_aircall_salescaling.import_rules import ImportDecision
from source_aircall_salescaling.recordings.downloader import (
    RecordingFile,
    RecordingSize,
    file_name_for,
)


def call_fields(call: Call) -> dict[str, Any]:
    """The fields that `calls` and `recordings` share (contract: same names)."""
    return {
        "direction": call.direction,
        "status": call.status,
        "missed_call_reason": call.missed_call_reason,
        "started_at": iso_utc(call.started_at),
        "answered_at": iso_utc(call.answered_at),
        "ended_at": iso_utc(call.ended_at),
        "duration": call.duration,
        "user": None
        if call.agent is None
        else {"id": call.agent.id, "name": call.agent.name, "email": call.agent.email},
        "contact": None
        if call.contact is None
        else {"id": call.contact.id, "name": call.contact.name, "phone": call.contact.phone},
        "internal_number": call.internal_number,
        "external_number": call.external_number,
    }


def call_record(call: Call) -> dict[str, Any]:
    """A `calls` record."""
    return {"id": call.id, **call_fields(call), "has_recording": call.recording_url is not None}


def record_print(call: Call) -> int:
    """A short hash of the record `calls` emits (24 bits: a collision only delays nothing
    worse than one missed rewrite in 16 million), kept in the state while the call is
    re-listed, so that a record Aircall changed goes out again and an unchanged one does
    not."""
    return zlib.crc32(orjson.dumps(call_record(call), option=orjson.OPT_SORT_KEYS)) & 0xFFFFFF


def recording_record(call: Call, audio: RecordingFile | RecordingSize) -> dict[str, Any]:
    """The data of a `recordings` record: of a downloaded file (files mode), or of one
    only sized on the storage host (records mode), which has no `sha256`."""
    if isinstance(audio, RecordingFile):
        file_name, sha256 = audio.file_name, audio.sha256
    else:
        file_name, sha256 = file_name_for(call.id, audio.content_type), None
    return {
        "call_id": call.id,
        **call_fields(call),
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
        "salescaling_user": bool(user.email)
        and normalize_email(user.email or "") in salescaling_emails,
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
        "decision": decision.decision,
        "reason": decision.reason,
        "size_bytes": decision.size_bytes,
        "decided_at": iso_utc(decision.decided_at),
    }
