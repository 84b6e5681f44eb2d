"""`calls`: every done call in the import window, once, in Salescaling's shape."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from airbyte_cdk.sources.streams.core import StreamData

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import Verdict, call_verdict
from source_aircall_salescaling.streams.listed import ListedCallsStream
from source_aircall_salescaling.sync.progress import SyncProgress


def call_record(call: Call) -> dict[str, Any]:
    return {"id": call.id, **call.fields(), "has_recording": call.recording_url is not None}


def record_print(call: Call) -> int:
    """A short hash of the record `calls` emits (24 bits: a collision only delays nothing
    worse than one missed rewrite in 16 million), kept in the state while the call is
    re-listed, so that a record Aircall changed goes out again and an unchanged one does
    not."""
    return zlib.crc32(orjson.dumps(call_record(call), option=orjson.OPT_SORT_KEYS)) & 0xFFFFFF


class CallsStream(ListedCallsStream):
    name = "calls"
    primary_key = "id"

    def judge(self, call: Call) -> Verdict:
        return call_verdict(call)

    def changed_records(self) -> Callable[[Call], int] | None:
        return record_print

    def emit_batch(self, batch: list[Call], progress: SyncProgress) -> Iterable[StreamData]:
        for call in batch:
            progress.emitted(call)
            yield call_record(call)
