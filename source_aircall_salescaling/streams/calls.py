"""`calls`: every done call in the import window, once, in Salescaling's shape.

A call that Salescaling imports (a Salescaling user's, with a recording) and that Aircall
deletes later is emitted once more with `_ab_cdc_deleted_at` set; one whose recording
alone is deleted is emitted again as Aircall lists it now, `has_recording` false
(streams/removals.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from airbyte_cdk.sources.streams.core import StreamData

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import Readiness, Verdict, call_verdict, eligible
from source_aircall_salescaling.records import call_record, record_print
from source_aircall_salescaling.streams.identity import StreamIdentity
from source_aircall_salescaling.streams.listed import ListedCallsStream
from source_aircall_salescaling.streams.removals import EmittedCalls, deletion_record
from source_aircall_salescaling.sync.context import SyncContext
from source_aircall_salescaling.sync.progress import SyncProgress
from source_aircall_salescaling.sync.state import CallCursor


class CallsStream(StreamIdentity, ListedCallsStream):
    stream_name, key_field, cursor_name = "calls", "id", "started_at"

    def __init__(self, context: SyncContext) -> None:
        super().__init__(context)
        self.emitted_calls = EmittedCalls(context)

    def planning(self, old: CallCursor) -> None:
        self.emitted_calls.start(self.name, self.context.request.incremental.get(self.name, False))

    def judge(self, call: Call) -> Verdict:
        return call_verdict(call)

    def changed_records(self) -> Callable[[Call], int] | None:
        emails = self.context.config.salescaling_user_emails
        return lambda call: record_print(call, emails)

    def emit_batch(self, batch: list[Call], progress: SyncProgress) -> Iterable[StreamData]:
        context = self.context
        emails = context.config.salescaling_user_emails
        for call in batch:
            progress.emitted(call)
            if eligible(call, context.config, context.sync_time).readiness is Readiness.READY:
                self.emitted_calls.add(call.id, call.started_at)
            yield call_record(call, emails)

    def removal_records(self) -> Iterator[dict[str, Any]]:
        now = self.context.sync_time
        for removal in self.emitted_calls.removals():
            if removal.call is None:
                yield deletion_record(self.key_field, removal.call_id, removal.started_at, now)
            else:
                emails = self.context.config.salescaling_user_emails
                yield call_record(removal.call, emails)  # `has_recording` false now

    def removal_state(self) -> dict[str, Any]:
        return self.emitted_calls.state()
