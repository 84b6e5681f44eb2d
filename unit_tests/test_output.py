"""The printed JSON lines (output.py): explicit nulls and the file-mode `file` object."""

from __future__ import annotations

import json

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteRecordMessageFileReference,
    Level,
    Type,
)
from airbyte_cdk.sources.utils.record_helper import stream_data_to_airbyte_message

from source_aircall_salescaling.output import RecordLines, record_message

SCHEMAS = {
    "calls": {
        "properties": {
            "id": {"type": "integer"},
            "contact": {"type": ["null", "object"], "properties": {"id": {}, "name": {}}},
            "ended_at": {"type": ["null", "string"]},
        }
    }
}


def message(data: dict[str, object], **record: object) -> AirbyteMessage:
    return AirbyteMessage(
        type=Type.RECORD,
        record=AirbyteRecordMessage(stream="calls", data=data, emitted_at=1, **record),  # type: ignore[arg-type]
    )


def printed(data: dict[str, object], **record: object) -> str:
    """What the CDK itself prints for this record (it drops top-level None values)."""
    return AirbyteEntrypoint.airbyte_message_to_string(message(data, **record))


def through_message(lines: RecordLines, made: AirbyteMessage) -> tuple[str, bool]:
    """The way run.py prints a record: `fill` on the message the CDK's read yields, the
    CDK's own serializer, then `complete` on the line."""
    return lines.complete(AirbyteEntrypoint.airbyte_message_to_string(lines.fill(made)))


def through(lines: RecordLines, data: dict[str, object], **record: object) -> tuple[str, bool]:
    return through_message(lines, message(data, **record))


def link(call_id: int) -> str:
    return f"https://api.example/v1/calls/{call_id}"


def test_the_cdk_alone_drops_a_null_field() -> None:
    assert "contact" not in json.loads(printed({"id": 1, "contact": None}))["record"]["data"]


def test_every_schema_field_is_written_null_included() -> None:
    line, brings_file = through(RecordLines(SCHEMAS, link), {"id": 1, "contact": None})
    assert json.loads(line)["record"]["data"] == {"id": 1, "contact": None, "ended_at": None}
    assert brings_file is False


def test_missing_fields_of_a_nested_object_are_written_as_null() -> None:
    line, _ = through(RecordLines(SCHEMAS, link), {"id": 1, "contact": {"id": 5}})
    assert json.loads(line)["record"]["data"]["contact"] == {"id": 5, "name": None}


def test_nulls_go_last_in_the_schemas_order_and_a_null_outside_the_schema_is_dropped() -> None:
    """The line is the one printed before the nulls went into the message (the CDK's line
    with the missing fields appended), byte for byte."""
    data: dict[str, object] = {"ended_at": None, "id": 1, "extra": None, "contact": {"id": 5}}
    line, _ = through(RecordLines(SCHEMAS, link), data)
    assert '"data":{"id":1,"contact":{"id":5,"name":null},"ended_at":null}' in line


def test_fill_leaves_the_streams_own_record_as_it_is() -> None:
    contact = {"id": 5}
    data: dict[str, object] = {"id": 1, "ended_at": None, "contact": contact}
    through(RecordLines(SCHEMAS, link), data)
    assert data == {"id": 1, "ended_at": None, "contact": {"id": 5}}
    assert contact == {"id": 5}


def test_a_stream_without_a_schema_is_printed_as_the_cdk_prints_it() -> None:
    line, _ = through(RecordLines({}, link), {"id": 1, "contact": None})
    assert line == printed({"id": 1, "contact": None})


def test_only_a_record_is_filled() -> None:
    log = AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message="x"))
    assert RecordLines(SCHEMAS, link).fill(log) is log


def test_a_record_with_a_file_reference_gets_the_file_object() -> None:
    reference = AirbyteRecordMessageFileReference(
        staging_file_url="/staging/files/recordings/7.mp3",
        source_file_relative_path="recordings/7.mp3",
        file_size_bytes=1234,
    )
    data = {"call_id": 7, "ended_at": "2026-11-23T10:00:05Z"}
    line, brings_file = through(RecordLines({}, link), data, file_reference=reference)
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


def test_a_record_that_brings_a_file_gets_its_nulls_and_the_file_object() -> None:
    reference = AirbyteRecordMessageFileReference(
        staging_file_url="/staging/files/recordings/7.mp3",
        source_file_relative_path="recordings/7.mp3",
        file_size_bytes=1234,
    )
    line, brings_file = through(
        RecordLines(SCHEMAS, link),
        {"id": 7, "call_id": 7, "contact": None},
        file_reference=reference,
    )
    record = json.loads(line)["record"]
    assert record["data"] == {"id": 7, "call_id": 7, "contact": None, "ended_at": None}
    assert record["file"]["file_url"] == "/staging/files/recordings/7.mp3"
    assert record["file"]["modified"] == 0  # no end, no start: no date known
    assert brings_file is True


def test_a_record_line_without_a_file_is_printed_as_the_cdk_wrote_it() -> None:
    lines = RecordLines(SCHEMAS, link)
    written = AirbyteEntrypoint.airbyte_message_to_string(lines.fill(message({"id": 1})))
    assert lines.complete(written) == (written, False)


def test_the_words_file_reference_in_a_value_do_not_make_a_file() -> None:
    data: dict[str, object] = {"id": 1, "contact": {"id": 2, "name": 'a "file_reference": b'}}
    line, brings_file = through(RecordLines(SCHEMAS, link), data)
    assert "file" not in json.loads(line)["record"]
    assert brings_file is False


# record_message: the message a stream makes itself ------------------------------------


def test_a_record_message_prints_as_the_cdks_message_of_the_same_record() -> None:
    lines = RecordLines(SCHEMAS, link)
    for data in (
        {"id": 1, "contact": None, "ended_at": None},
        {"id": 1, "contact": {"id": 5, "name": None}, "ended_at": "2026-01-01T00:00:00Z"},
        {"id": 1, "contact": {"id": 5}},  # a nested field missing, a top-level one too
    ):
        ours, cdks = record_message("calls", data), stream_data_to_airbyte_message("calls", data)
        for made in (ours, cdks):
            assert made.record is not None
            made.record.emitted_at = 1
        assert through_message(lines, ours) == through_message(lines, cdks)


def test_a_record_message_leaves_the_streams_record_as_it_is() -> None:
    data: dict[str, object] = {"id": 1, "contact": {"id": 5}, "ended_at": None}
    through_message(RecordLines(SCHEMAS, link), record_message("calls", data))
    assert data == {"id": 1, "contact": {"id": 5}, "ended_at": None}
