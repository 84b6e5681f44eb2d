"""The printed JSON lines (output.py): explicit nulls and the file-mode `file` object."""

from __future__ import annotations

import json

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteRecordMessageFileReference,
    Type,
)

from source_aircall_salescaling.output import RecordLines

SCHEMAS = {
    "calls": {
        "properties": {
            "id": {"type": "integer"},
            "contact": {"type": ["null", "object"], "properties": {"id": {}, "name": {}}},
            "ended_at": {"type": ["null", "string"]},
        }
    }
}


def printed(data: dict[str, object], **record: object) -> str:
    """What the CDK itself prints for this record (it drops top-level None values)."""
    message = AirbyteMessage(
        type=Type.RECORD,
        record=AirbyteRecordMessage(stream="calls", data=data, emitted_at=1, **record),  # type: ignore[arg-type]
    )
    return AirbyteEntrypoint.airbyte_message_to_string(message)


def link(call_id: int) -> str:
    return f"https://api.example/v1/calls/{call_id}"


def test_the_cdk_alone_drops_a_null_field() -> None:
    assert "contact" not in json.loads(printed({"id": 1, "contact": None}))["record"]["data"]


def test_every_schema_field_is_written_null_included() -> None:
    line, brings_file = RecordLines(SCHEMAS, link).complete(printed({"id": 1, "contact": None}))
    assert json.loads(line)["record"]["data"] == {"id": 1, "contact": None, "ended_at": None}
    assert brings_file is False


def test_missing_fields_of_a_nested_object_are_written_as_null() -> None:
    line, _ = RecordLines(SCHEMAS, link).complete(printed({"id": 1, "contact": {"id": 5}}))
    assert json.loads(line)["record"]["data"]["contact"] == {"id": 5, "name": None}


def test_a_record_with_a_file_reference_gets_the_file_object() -> None:
    reference = AirbyteRecordMessageFileReference(
        staging_file_url="/staging/files/recordings/7.mp3",
        source_file_relative_path="recordings/7.mp3",
        file_size_bytes=1234,
    )
    data = {"call_id": 7, "ended_at": "2026-11-23T10:00:05Z"}
    line, brings_file = RecordLines({}, link).complete(printed(data, file_reference=reference))
    assert json.loads(line)["record"]["file"] == {
        "file_url": "/staging/files/recordings/7.mp3",
        "file_relative_path": "recordings/7.mp3",
        "bytes": 1234,
        "modified": 1_795_428_005_000,
        "source_file_url": "https://api.example/v1/calls/7",
    }
    assert brings_file is True


def test_other_messages_pass_through_untouched() -> None:
    line = '{"type":"LOG","log":{"level":"INFO","message":"x"}}'
    assert RecordLines(SCHEMAS, link).complete(line) == (line, False)


def test_a_state_line_passes_through_and_is_flushed_at_once() -> None:
    line = '{"type":"STATE","state":{"type":"STREAM"}}'
    assert RecordLines(SCHEMAS, link).complete(line) == (line, True)
