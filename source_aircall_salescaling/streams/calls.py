"""`calls`: every done call in the import window, once, in Salescaling's shape."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from airbyte_cdk.sources.streams.core import StreamData

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import Verdict, call_verdict
from source_aircall_salescaling.records import call_record, record_print
from source_aircall_salescaling.streams.identity import StreamIdentity
from source_aircall_salescaling.streams.listed import ListedCallsStream
from source_aircall_salescaling.sync.progress import SyncProgress


class CallsStream(StreamIdentity, ListedCallsStream):
    stream_name, key_field, cursor_name = "calls", "id", "started_at"

    def judge(self, call: Call) -> Verdict:
        return call_verdict(call)

    def changed_records(self) -> Callable[[Call], int] | None:
        emails = self.context.config.salescaling_user_emails
        return lambda call: record_print(call, emails)

    def emit_batch(self, batch: list[Call], progress: SyncProgress) -> Iterable[StreamData]:
        emails = self.context.config.salescaling_user_emails
        for call in batch:
            progress.emitted(call)
            yield call_record(call, emails)
