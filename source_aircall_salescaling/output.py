"""The JSON lines the connector prints: what airbyte-cdk 7.x's serializer cannot say.

Two gaps, both closed here, for every stream and every verb (run.py):

- The CDK serializes with `omit_none` (`AirbyteMessageSerializer`,
  airbyte_cdk/models/airbyte_protocol_serializers.py): a top-level `None` of
  `record.data` goes out as no key at all (`{"contact": null}` becomes `{}`), and a
  consumer reading `record["contact"]` fails. Every field of the stream's schema is
  written, null included.
- `AirbyteRecordMessage` has `file_reference` (the newer file path, read only for
  connectors published with `supportsFileTransfer`) but no `file`: the object a
  destination in the platform's file mode reads (bulk CDK `DestinationMessageFactory`:
  `file_url`, `file_relative_path`, `bytes`, `modified`, `source_file_url`). A custom
  image only ever gets that file mode, so every record with a `file_reference` also gets
  `file`, pointing at the same staged file.

The nulls are put in the message, before the CDK serializes it (`RecordLines.fill`,
called by run.py's entrypoint on each message `read` yields), as `NULL`: an `Enum`
member whose value is None. serpyco's `omit_none` drops only `None` itself and passes
any other value of a field typed `Any` through as it is, and orjson (which
`AirbyteEntrypoint.airbyte_message_to_string` uses) writes an Enum member as its value:
`null`. The line the CDK prints is then final, so a record costs no second parse (that
parse, with its dump, was a tenth of the connector's CPU per record; docs/performance.md).
`file` is not a field of the CDK's record message, so a record that brings a file is
parsed once more and completed on its line (`RecordLines.complete`): one per file.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

import orjson
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteRecordMessageFileReference,
    Type,
)

RECORD_PREFIX = '{"type":"RECORD"'
FILE_REFERENCE_KEY = '"file_reference":'
STATE_PREFIX = '{"type":"STATE"'
_ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


def schema_fields(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Field name -> the field's own fields (nested objects), or None for a leaf."""
    fields: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        nested = isinstance(prop, Mapping) and "properties" in prop
        fields[name] = schema_fields(prop) if nested else None
    return fields


def _fill(data: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for name, nested in fields.items():
        value = data.get(name)
        if name not in data:
            data[name] = None
        elif nested and isinstance(value, dict):
            _fill(value, nested)


def _epoch_ms(iso: Any) -> int | None:
    if not isinstance(iso, str):
        return None
    try:
        return calendar.timegm(time.strptime(iso, _ISO_UTC)) * 1000
    except ValueError:
        return None


def file_object(
    data: Mapping[str, Any], reference: Mapping[str, Any], call_link: Callable[[int], str]
) -> dict[str, Any]:
    """The platform's file-mode `file`, from the record's `file_reference`. `modified` is
    when the recording was made (the call's end, else its start); `source_file_url` is a
    stable link to the call, never the pre-signed storage URL (it grants access)."""
    modified = _epoch_ms(data.get("ended_at")) or _epoch_ms(data.get("started_at")) or 0
    return {
        "file_url": reference["staging_file_url"],
        "file_relative_path": reference["source_file_relative_path"],
        "bytes": reference["file_size_bytes"],
        "modified": modified,
        "source_file_url": call_link(int(data["call_id"])),
    }


class _Null(Enum):
    """A top-level null of `record.data` that the CDK's serializer keeps (see above)."""

    NULL = None


NULL = _Null.NULL


def record_message(
    stream: str,
    data: Mapping[str, Any],
    file_reference: AirbyteRecordMessageFileReference | None = None,
) -> AirbyteMessage:
    """A stream's RECORD message, made by the stream: what the CDK makes of a yielded dict
    (`stream_data_to_airbyte_message`, airbyte_cdk/sources/utils/record_helper.py: a copy,
    a transform that is a no-op here, the two message objects), with the top-level nulls
    already `NULL`. The records functions (records.py) give every field of their schema, so
    `RecordLines.fill` then only checks the message: the copy and the fill were made once
    instead of twice, some 4 microseconds a record (docs/performance.md)."""
    return AirbyteMessage(
        type=Type.RECORD,
        record=AirbyteRecordMessage(
            stream=stream,
            data={name: NULL if value is None else value for name, value in data.items()},
            emitted_at=time.time_ns() // 1_000_000,
            file_reference=file_reference,
        ),
    )


class RecordLines:
    """Completes RECORD messages and lines; every other message and line passes as it is."""

    def __init__(
        self, schemas: Mapping[str, Mapping[str, Any]], call_link: Callable[[int], str]
    ) -> None:
        self._fields = {stream: schema_fields(schema) for stream, schema in schemas.items()}
        self._nested = {
            stream: [(name, nested) for name, nested in fields.items() if nested]
            for stream, fields in self._fields.items()
        }
        self._call_link = call_link

    def fill(self, message: AirbyteMessage) -> AirbyteMessage:
        """Every schema field in the record's data, before the CDK serializes it: the
        data the CDK would print (its top-level Nones dropped), then each missing field of
        the schema, in the schema's order, as null (`NULL` at the top level, where the
        serializer drops None; plain None in nested objects, where it keeps it)."""
        record = message.record
        if message.type is not Type.RECORD or record is None:
            return message
        fields = self._fields.get(record.stream)
        if fields is None or not isinstance(record.data, dict):
            return message
        data = record.data
        if None in data.values() or not data.keys() >= fields.keys():
            # A new dict (the stream's own is left as it is): the data less its top-level
            # Nones, as the CDK would print it; the schema's missing fields then go at the
            # end, in the schema's order, as when the nulls were added to the printed line.
            data = {name: value for name, value in data.items() if value is not None}
            for name in fields:
                if name not in data:
                    data[name] = NULL
        # else: every field is there, its nulls `NULL` (`record_message`), and the dict is
        # the message's own (the CDK copies a yielded dict): nested fields only are checked.
        for name, nested in self._nested[record.stream]:
            value = data[name]
            if isinstance(value, dict) and not value.keys() >= nested.keys():
                data[name] = value = dict(value)
                _fill(value, nested)
        record.data = data
        return message

    def complete(self, line: str) -> tuple[str, bool]:
        """The line to print, and whether to flush it at once (run.py) rather than leave
        it in the CDK's print buffer (up to 0.1 s): a record that brings a file (a
        file-mode destination uploads and deletes each staged file when it reads the
        record, so files must not pile up while their records wait), and a STATE (it
        commits those records: written late, a kill while the next files download would
        cost more than the batch in flight). A record line that names no file reference
        is printed as the CDK wrote it (`fill` already put its nulls in)."""
        if not line.startswith(RECORD_PREFIX):
            return line, line.startswith(STATE_PREFIX)
        if FILE_REFERENCE_KEY not in line:  # not in a string value: its quotes are escaped
            return line, False
        message = orjson.loads(line)
        record = message["record"]
        data = record.get("data")
        reference = record.get("file_reference")
        if reference is None or not isinstance(data, dict):
            return line, False
        fields = self._fields.get(record["stream"])
        if fields is not None:
            _fill(data, fields)  # a record that did not go through `fill`
        record["file"] = file_object(data, reference, self._call_link)
        return orjson.dumps(message).decode(), True
