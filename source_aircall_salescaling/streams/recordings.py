"""`recordings`: one record per call that Salescaling imports, with its audio file.

Per call, in order:

    eligible? (import_rules) --no--> skipped, with the reason, in the import report
        | yes
    files wanted? --no--> size from one byte (Range 0-0) -----------------+
        | yes                                                             |
    stream the file to the staging folder (size limit enforced) ---------+--> record
        | 403 / expired URL: GET /v1/calls/{id} for a fresh URL, once more
        | 404 for the call: it was deleted in Aircall (reported)
        | still unavailable: retried on later syncs (by id once out of the re-listed
        |   range) for a day after its first failure, then given up and reported
        |   (import_rules.after_failed_transfer)

Files are wanted when the config says "Copy Raw Files" (`delivery_method`: the only
signal the platform honours for a custom image) or the catalog sets `include_files` on
`recordings` (a registry-published install, PyAirbyte cannot). Either one is enough.

The rules, the size probes and the retries of failed transfers are shared with the
Aircall AI streams and `import_decisions` (streams/imported.py).

Downloads run in a small pool (the storage host is not rate limited and each download
waits mostly on the network), one pool-full at a time: the records of a pool-full go
out before the next one is fetched, so at most DOWNLOAD_WORKERS files sit staged
without their record (a batch may hold more calls when they share a second). Records
still come out in order.
"""

from __future__ import annotations

from collections.abc import Iterable

from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessageFileReference, AirbyteStream
from airbyte_cdk.sources.streams.core import StreamData

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import Readiness
from source_aircall_salescaling.output import record_message
from source_aircall_salescaling.records import recording_record
from source_aircall_salescaling.streams.identity import StreamIdentity
from source_aircall_salescaling.streams.imported import POOL_SIZE, ImportedCallsStream, fetch_all
from source_aircall_salescaling.streams.removals import deletion_records
from source_aircall_salescaling.sync.planned import SyncPlan
from source_aircall_salescaling.sync.progress import SyncProgress
from source_aircall_salescaling.sync.recording_checks import Outcome

DOWNLOAD_WORKERS = POOL_SIZE


class RecordingsStream(StreamIdentity, ImportedCallsStream):
    stream_name, key_field, cursor_name = "recordings", "call_id", "started_at"
    batch_size = DOWNLOAD_WORKERS
    makes_decisions = True

    def as_airbyte_stream(self) -> AirbyteStream:
        """Not declared file-based: for a custom image the web app would then switch
        include-files on, which the platform refuses (the definition has no
        supportsFileTransfer), or deselect the stream. Files go by `delivery_method`."""
        stream = super().as_airbyte_stream()
        stream.is_file_based = False
        return stream

    @property
    def downloads_files(self) -> bool:
        return self.context.config.file_transfer or self.context.request.include_files

    def emit_batch(self, batch: list[Call], progress: SyncProgress) -> Iterable[StreamData]:
        fetch = self.checks.download if self.downloads_files else self.checks.probe
        for start in range(0, len(batch), DOWNLOAD_WORKERS):
            yield from self._emit_outcomes(
                fetch_all(batch[start : start + DOWNLOAD_WORKERS], fetch), progress
            )

    def _emit_outcomes(
        self, outcomes: list[Outcome], progress: SyncProgress
    ) -> Iterable[StreamData]:
        for outcome in outcomes:
            verdict = self.settle(outcome, progress)
            if verdict.readiness is not Readiness.READY:
                continue
            progress.emitted(outcome.call)
            self.emitted_calls.add(outcome.call.id, outcome.call.started_at)
            if outcome.file is not None:
                self.context.report.bytes_downloaded += outcome.file.size_bytes
            yield self._record(outcome)

    def _record(self, outcome: Outcome) -> AirbyteMessage:
        call = outcome.call
        emails = self.context.config.salescaling_user_emails
        reference = None
        if outcome.file is not None:
            data = recording_record(call, outcome.file, emails)
            reference = AirbyteRecordMessageFileReference(
                staging_file_url=str(outcome.file.absolute_path),
                source_file_relative_path=outcome.file.relative_path,
                file_size_bytes=outcome.file.size_bytes,
            )
        else:
            assert outcome.size is not None
            data = recording_record(call, outcome.size, emails)
        return record_message(self.name, data, reference)

    def tracks_removals(self) -> bool:
        """Not in file mode: a file-mode record must bring a file, so the records
        connection reports removals (docs/removals.md)."""
        return super().tracks_removals() and not self.downloads_files

    def removal_records(self) -> Iterable[StreamData]:
        yield from deletion_records(self.emitted_calls, self.key_field, self.context.sync_time)

    def finish(self, plan: SyncPlan) -> None:
        self.decide_plan(plan)
        self.log_import_report(plan)
