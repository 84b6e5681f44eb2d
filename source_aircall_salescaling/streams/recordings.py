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

Downloads run in a small pool (the storage host is not rate limited and each download
waits mostly on the network), one pool-full at a time: the records of a pool-full go
out before the next one is fetched, so at most DOWNLOAD_WORKERS files sit staged
without their record (a batch may hold more calls when they share a second). Records
still come out in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteRecordMessageFileReference,
    AirbyteStream,
    Type,
)
from airbyte_cdk.sources.streams.core import StreamData

from source_aircall_salescaling import import_rules
from source_aircall_salescaling.aircall.errors import CallUnavailable
from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import Readiness, Verdict
from source_aircall_salescaling.recordings.downloader import (
    RecordingDownloader,
    RecordingExpired,
    RecordingFile,
    RecordingSize,
    RecordingTooLarge,
    RecordingUnavailable,
)
from source_aircall_salescaling.records import recording_record
from source_aircall_salescaling.streams.identity import StreamIdentity
from source_aircall_salescaling.streams.listed import ListedCallsStream
from source_aircall_salescaling.sync.context import SyncContext
from source_aircall_salescaling.sync.plan import SyncPlan
from source_aircall_salescaling.sync.progress import SyncProgress
from source_aircall_salescaling.sync.state import CallCursor

DOWNLOAD_WORKERS = 4
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """What became of one eligible call: a file, a size, or a reason it was not imported."""

    call: Call
    file: RecordingFile | None = None
    size: RecordingSize | None = None
    skip_reason: str | None = None
    skip_size: int | None = None
    retry_later: bool = False
    over_limit_at_download: bool = False  # its size probe said it was within the limit


class RecordingsStream(StreamIdentity, ListedCallsStream):
    stream_name, key_field, cursor_name = "recordings", "call_id", "started_at"
    batch_size = DOWNLOAD_WORKERS

    def __init__(self, context: SyncContext) -> None:
        super().__init__(context)
        self.downloader = RecordingDownloader(
            context.staging_directory, context.config.recording_size_limit, self.logger
        )
        self._sizes: dict[int, RecordingSize] = {}
        self._urls: dict[int, str] = {}
        self._skip_sizes: dict[int, int] = {}
        self._failed: dict[int, int] = {}  # transfers failed this sync -> first failure
        self._old_failing: Mapping[int, int] = {}

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

    # Eligibility -------------------------------------------------------------------
    def judge(self, call: Call) -> Verdict:
        return import_rules.eligible(call, self.context.config, self.context.sync_time)

    def planning(self, old: CallCursor) -> None:
        self._old_failing = old.failing

    def planned(self, plan: SyncPlan) -> None:
        plan.failing.update(self._failed)  # first-sync probes that failed (see `confirm`)

    def confirm(self, call: Call) -> Verdict:
        """First sync: the cap counts importable recordings, so the size is checked now."""
        outcome = self._with_fresh_url(call, self._probe)
        if outcome.size is not None:
            self._sizes[call.id] = outcome.size
            return Verdict.ready()
        if outcome.retry_later:
            return Verdict.wait(import_rules.UNAVAILABLE)
        if outcome.skip_size is not None:
            self._skip_sizes[call.id] = outcome.skip_size
        return Verdict.skip(outcome.skip_reason or import_rules.UNAVAILABLE)

    # Emission ----------------------------------------------------------------------
    def emit_batch(self, batch: list[Call], progress: SyncProgress) -> Iterable[StreamData]:
        fetch = self._download if self.downloads_files else self._probe
        for start in range(0, len(batch), DOWNLOAD_WORKERS):
            yield from self._emit_outcomes(
                self._fetch_all(batch[start : start + DOWNLOAD_WORKERS], fetch), progress
            )

    def _fetch_all(
        self, calls: list[Call], fetch: Callable[[Call, str], Outcome]
    ) -> list[Outcome]:
        if len(calls) == 1:
            return [self._with_fresh_url(calls[0], fetch)]
        with ThreadPoolExecutor(max_workers=DOWNLOAD_WORKERS) as pool:
            return list(pool.map(lambda call: self._with_fresh_url(call, fetch), calls))

    def _emit_outcomes(
        self, outcomes: list[Outcome], progress: SyncProgress
    ) -> Iterable[StreamData]:
        report = self.context.report
        for outcome in outcomes:
            call = outcome.call
            if outcome.skip_reason is not None:
                report.skip(call.id, outcome.skip_reason, size=outcome.skip_size)
                progress.skipped(call)
                if progress.plan.old.cursor is None and outcome.over_limit_at_download:
                    progress.slot_freed()
                continue
            if outcome.retry_later:
                report.retrying.append(call.id)
                progress.plan.failing[call.id] = self._failed.get(call.id, self.context.sync_time)
                progress.defer(call)
                continue
            progress.emitted(call)
            report.imported += 1
            if outcome.file is not None:
                report.bytes_downloaded += outcome.file.size_bytes
            yield self._record(outcome)

    def _record(self, outcome: Outcome) -> AirbyteMessage:
        call = outcome.call
        reference = None
        if outcome.file is not None:
            data = recording_record(call, outcome.file)
            reference = AirbyteRecordMessageFileReference(
                staging_file_url=str(outcome.file.absolute_path),
                source_file_relative_path=outcome.file.relative_path,
                file_size_bytes=outcome.file.size_bytes,
            )
        else:
            assert outcome.size is not None
            data = recording_record(call, outcome.size)
        return AirbyteMessage(
            type=Type.RECORD,
            record=AirbyteRecordMessage(
                stream=self.name,
                data=data,
                emitted_at=int(time.time() * 1000),
                file_reference=reference,
            ),
        )

    # Talking to the storage host -----------------------------------------------------
    def _probe(self, call: Call, url: str) -> Outcome:
        size = self._sizes.get(call.id) or self.downloader.probe(url)
        if not import_rules.within_size_limit(size.size_bytes, self.context.config):
            return Outcome(
                call, skip_reason=import_rules.OVER_SIZE_LIMIT, skip_size=size.size_bytes
            )
        return Outcome(call, size=size)

    def _download(self, call: Call, url: str) -> Outcome:
        return Outcome(call, file=self.downloader.download(url, call.id))

    def _with_fresh_url(self, call: Call, fetch: Callable[[Call, str], Outcome]) -> Outcome:
        """Recording URLs are pre-signed and expire (10 minutes to an hour): on a refusal,
        ask Aircall for the call again, which signs a fresh URL, and try once more."""
        url = self._urls.get(call.id, call.recording_url)
        for attempt in (1, 2):
            try:
                if url is None:
                    raise RecordingUnavailable("Aircall lists no recording URL any more")
                return fetch(call, url)
            except RecordingTooLarge as error:
                return Outcome(
                    call,
                    skip_reason=import_rules.OVER_SIZE_LIMIT,
                    skip_size=error.size_bytes,
                    over_limit_at_download=call.id in self._sizes,
                )
            except RecordingExpired as error:
                if attempt == 2:
                    return self._unavailable(call, str(error), transient=False)
                try:
                    fresh = self.context.client.call(call.id)
                except CallUnavailable as failure:
                    return self._unavailable(call, f"no fresh URL: {failure}", transient=True)
                if fresh is None:
                    return Outcome(call, skip_reason=import_rules.CALL_DELETED)
                url = fresh.recording_url
                if url is not None:
                    self._urls[call.id] = url
            except RecordingUnavailable as error:
                return self._unavailable(call, str(error), transient=True)
        return self._unavailable(call, "no fresh URL", transient=False)

    def _unavailable(self, call: Call, why: str, transient: bool) -> Outcome:
        """Retried on later syncs or given up (`import_rules.after_failed_transfer`); a
        transient failure records its first failure, which the state keeps."""
        now = self.context.sync_time
        failing_since = None
        if transient:
            failing_since = self._old_failing.get(call.id, now)
            self._failed[call.id] = failing_since
        verdict = import_rules.after_failed_transfer(call, self.context.config, now, failing_since)
        retry = verdict.readiness is Readiness.WAIT
        self.logger.warning(
            f"Recording of call {call.id} could not be fetched ({why}); "
            + (
                "it is tried again on the next sync."
                if retry
                else f"giving up on it: {verdict.reason}."
            )
        )
        if retry:
            return Outcome(call, retry_later=True)
        return Outcome(call, skip_reason=verdict.reason)

    def finish(self, plan: SyncPlan) -> None:
        report = self.context.report
        for call, reason in plan.skipped:
            email = call.agent.email.strip() if call.agent and call.agent.email else None
            report.skip(call.id, reason, email=email, size=self._skip_sizes.get(call.id))
        assert self._progress is not None
        report.waiting = len(self._progress.state().pending)
        report.left_behind = plan.left_behind
        report.left_behind_is_lower_bound = plan.left_behind_lower_bound
        for call_id in plan.gone:
            report.skip(call_id, import_rules.CALL_DELETED)
        for line in report.lines():
            self.logger.info(line)
