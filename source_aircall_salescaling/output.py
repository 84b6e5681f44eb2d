"""The JSON lines the connector prints: what airbyte-cdk 7.x's serializer cannot say.

Two gaps, both closed here, on the line the CDK produced, just before it is printed
(run.py), so that every stream and every verb goes through one place:

- The CDK serializes with `omit_none`: a top-level `None` of `record.data` goes out as no
  key at all (`{"contact": null}` becomes `{}`), and a consumer reading
  `record["contact"]` fails. Every field of the stream's schema is written, null included.
- `AirbyteRecordMessage` has `file_reference` (the newer file path, read only for
  connectors published with `supportsFileTransfer`) but no `file`: the object a
  destination in the platform's file mode reads (bulk CDK `DestinationMessageFactory`:
  `file_url`, `file_relative_path`, `bytes`, `modified`, `source_file_url`). A custom
  image only ever gets that file mode, so every record with a `file_reference` also gets
  `file`, pointing at the same staged file.

Lines are parsed again (orjson, a few microseconds each) rather than built by a copy of
the CDK's entrypoint: the CDK serializes inside `AirbyteEntrypoint.run` and offers no
hook between message and string.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

RECORD_PREFIX = '{"type":"RECORD"'
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


class RecordLines:
    """Completes RECORD lines; every other line passes through untouched."""

    def __init__(
        self, schemas: Mapping[str, Mapping[str, Any]], call_link: Callable[[int], str]
    ) -> None:
        self._fields = {stream: schema_fields(schema) for stream, schema in schemas.items()}
        self._call_link = call_link

    def complete(self, line: str) -> tuple[str, bool]:
        """The line to print, and whether to flush it at once (run.py) rather than leave
        it in the CDK's print buffer (up to 0.1 s): a record that brings a file (a
        file-mode destination uploads and deletes each staged file when it reads the
        record, so files must not pile up while their records wait), and a STATE (it
        commits those records: written late, a kill while the next files download would
        cost more than the batch in flight)."""
        if not line.startswith(RECORD_PREFIX):
            return line, line.startswith(STATE_PREFIX)
        message = orjson.loads(line)
        record = message["record"]
        fields = self._fields.get(record["stream"])
        data = record.get("data")
        if fields is not None and isinstance(data, dict):
            _fill(data, fields)
        reference = record.get("file_reference")
        if reference is not None and isinstance(data, dict):
            record["file"] = file_object(data, reference, self._call_link)
        return orjson.dumps(message).decode(), reference is not None
