"""Each record function against its stream's JSON schema (schemas/*.json): every property
the schema declares is produced, nothing it does not declare, and every value is valid."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from source_aircall_salescaling.aircall.models import Call, User, parse_call, parse_user
from source_aircall_salescaling.recordings.downloader import RecordingFile, RecordingSize
from source_aircall_salescaling.records import call_record, recording_record, user_record
from tests.builders import a_call as build_call

STARTED = 1_763_892_000

FULL_CALL: dict[str, Any] = {
    "id": 2100000123,
    "direction": "inbound",
    "status": "done",
    "missed_call_reason": None,
    "started_at": STARTED,
    "answered_at": STARTED + 5,
    "ended_at": STARTED + 65,
    "duration": 65,
    "voicemail": None,
    "recording": "https://storage.example/rec.mp3?sig=abc",
    "raw_digits": "+33 1 23 45 67 89",
    "user": {"id": 7, "name": "Ana Lopez", "email": "Ana@Example.com"},
    "contact": {
        "id": 9,
        "first_name": "Marie",
        "last_name": "Curie",
        "phone_numbers": [{"label": "work", "value": "+33 6 11 22 33 44"}],
    },
    "number": {"id": 3, "digits": "+33 9 87 65 43 21", "live_recording_activated": True},
}

BARE_CALL: dict[str, Any] = {
    "id": 2100000124,
    "direction": "outbound",
    "status": "done",
    "missed_call_reason": None,
    "started_at": STARTED,
    "answered_at": None,
    "ended_at": None,
    "voicemail": None,
    "recording": None,
    "raw_digits": "anonymous",
    "user": None,
    "contact": None,
    "number": None,
}

MISSED_VOICEMAIL: dict[str, Any] = {
    **BARE_CALL,
    "id": 2100000125,
    "direction": "inbound",
    "missed_call_reason": "out_of_opening_hours",
    "ended_at": STARTED + 30,
    "voicemail": "https://storage.example/vm.mp3",
    "user": {"id": None, "name": None, "email": None},
    "contact": {"id": 11, "company_name": "ESPCI", "phone_numbers": []},
}

ANNOTATED_TRANSFER: dict[str, Any] = (
    build_call(2100000126)
    .answered(STARTED + 5)
    .with_recording()
    .by("someone@example.com")
    .transferred_to_agent("ana@example.com")
    .on_number("+1 617-610-5413")
    .tagged("Demo booked")
    .tagged("Lead", by=None)
    .commented("Sent pricing:\n- 15 seats")
    .in_team("Sales")
    .payload()
)

CALLS = {
    "full": FULL_CALL,
    "bare": BARE_CALL,
    "missed voicemail": MISSED_VOICEMAIL,
    "annotated transfer": ANNOTATED_TRANSFER,
}

FULL_USER: dict[str, Any] = {
    "id": 7,
    "name": "Ana Lopez",
    "email": "Ana@Example.com",
    "created_at": "2026-09-28T10:21:09.000Z",
    "available": True,
    "availability_status": "available",
    "time_zone": "Europe/Paris",
    "language": "fr-FR",
}
BARE_USER: dict[str, Any] = {"id": 8}
USERS = {"full": FULL_USER, "bare": BARE_USER}


def schema(stream: str) -> dict[str, Any]:
    text = resources.files("source_aircall_salescaling").joinpath(f"schemas/{stream}.json")
    loaded: dict[str, Any] = json.loads(text.read_text())
    return loaded


def assert_matches(record: dict[str, Any], stream_schema: dict[str, Any]) -> None:
    """Same keys as the schema's properties (nested objects too, when not null), and
    valid against it, date-time formats included."""
    properties = stream_schema["properties"]
    assert set(record) == set(properties)
    for key, value in record.items():
        if isinstance(value, dict):
            assert set(value) == set(properties[key]["properties"]), key
    jsonschema.validate(
        record, stream_schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def a_call(kind: str) -> Call:
    return parse_call(CALLS[kind])


def a_user(kind: str) -> User:
    return parse_user(USERS[kind])


@pytest.mark.parametrize("kind", CALLS)
def test_calls_record_matches_the_calls_schema(kind: str) -> None:
    assert_matches(call_record(a_call(kind), frozenset({"ana@example.com"})), schema("calls"))


@pytest.mark.parametrize("kind", CALLS)
def test_recordings_record_of_a_downloaded_file_matches_the_recordings_schema(kind: str) -> None:
    staged = Path("/staging/recordings/2100000123.mp3")
    audio = RecordingFile(
        "2100000123.mp3", "recordings/2100000123.mp3", staged, 1234, "ab" * 32, "audio/mpeg"
    )
    record = recording_record(a_call(kind), audio)

    assert_matches(record, schema("recordings"))


@pytest.mark.parametrize("kind", CALLS)
def test_recordings_record_of_a_sized_file_matches_the_recordings_schema(kind: str) -> None:
    record = recording_record(a_call(kind), RecordingSize(1234, "audio/mpeg"))

    assert_matches(record, schema("recordings"))


@pytest.mark.parametrize("kind", USERS)
def test_users_record_matches_the_users_schema(kind: str) -> None:
    record = user_record(a_user(kind), frozenset({"ana@example.com"}))

    assert_matches(record, schema("users"))


def test_a_record_outside_its_schema_is_refused_by_the_check() -> None:
    """The check itself can fail: a key the schema lacks is caught."""
    record = {**call_record(a_call("full")), "unexpected": 1}

    with pytest.raises(AssertionError):
        assert_matches(record, schema("calls"))
