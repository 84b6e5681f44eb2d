"""Rule 4 (the recording's size) and the file itself, asked of the storage host once per
call per sync, whichever streams need it.

`recordings` (records mode), the Aircall AI streams and `import_decisions` all need to
know whether a call's recording is within `max_recording_size_mb`: the first probe's
outcome is kept for the rest of the sync, so selecting more streams never probes a
recording twice. In file mode `recordings` downloads instead (only it is read then).

    probe (GET, Range: bytes=0-0) / download (streamed to the staging folder)
        | 403 / expired URL: GET /v1/calls/{id} for a fresh URL, once more
        | 404 for the call: deleted in Aircall
        | still unavailable: `failure` says why; `transient` failures are retried on
        |   later syncs (import_rules.after_failed_transfer), the others are given
        |   the lookback, like a recording that has not come yet
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock

from source_aircall_salescaling import import_rules
from source_aircall_salescaling.aircall.client import AircallClient
from source_aircall_salescaling.aircall.errors import CallUnavailable
from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.config import ConnectorConfig
from source_aircall_salescaling.import_rules import Verdict
from source_aircall_salescaling.recordings.downloader import (
    RecordingDownloader,
    RecordingExpired,
    RecordingFile,
    RecordingSize,
    RecordingTooLarge,
    RecordingUnavailable,
)


@dataclass(frozen=True)
class Outcome:
    """What the storage host said about one call's recording: a file, a size, a reason
    it is not imported (`skip_reason`), or a failure to fetch it (`failure`)."""

    call: Call
    file: RecordingFile | None = None
    size: RecordingSize | None = None
    skip_reason: str | None = None
    skip_size: int | None = None
    failure: str | None = None
    transient: bool = False  # a failure that may pass: retried on later syncs for a day
    over_limit_at_download: bool = False  # its size probe said it was within the limit

    @property
    def size_bytes(self) -> int | None:
        if self.file is not None:
            return self.file.size_bytes
        if self.size is not None:
            return self.size.size_bytes
        return self.skip_size


class RecordingChecks:
    """One per sync (`SyncContext.recording_checks`), shared by every stream."""

    def __init__(
        self,
        downloader: RecordingDownloader,
        client: Callable[[], AircallClient],
        config: ConnectorConfig,
        logger: logging.Logger,
    ) -> None:
        self.downloader = downloader
        self._client = client
        self._config = config
        self._logger = logger
        self._probes: dict[int, Outcome] = {}
        self._urls: dict[int, str] = {}
        self._lock = Lock()

    def probe(self, call: Call) -> Outcome:
        """The size, read once per sync (Range 0-0): later asks get the same outcome."""
        with self._lock:
            known = self._probes.get(call.id)
        if known is not None:
            return known
        outcome = self._with_fresh_url(call, self._probe_once)
        with self._lock:
            return self._probes.setdefault(call.id, outcome)

    def known(self, call_id: int) -> Outcome | None:
        """The outcome of this sync's probe of the call, if it was probed."""
        with self._lock:
            return self._probes.get(call_id)

    def download(self, call: Call) -> Outcome:
        return self._with_fresh_url(call, self._download_once)

    def _probe_once(self, call: Call, url: str) -> Outcome:
        size = self.downloader.probe(url)
        if not import_rules.within_size_limit(size.size_bytes, self._config):
            return Outcome(
                call, skip_reason=import_rules.OVER_SIZE_LIMIT, skip_size=size.size_bytes
            )
        return Outcome(call, size=size)

    def _download_once(self, call: Call, url: str) -> Outcome:
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
                with self._lock:
                    probed = self._probes.get(call.id)
                return Outcome(
                    call,
                    skip_reason=import_rules.OVER_SIZE_LIMIT,
                    skip_size=error.size_bytes,
                    over_limit_at_download=probed is not None and probed.size is not None,
                )
            except RecordingExpired as error:
                if attempt == 2:
                    return self._failed(call, str(error), transient=False)
                try:
                    fresh = self._client().call(call.id)
                except CallUnavailable as failure:
                    return self._failed(call, f"no fresh URL: {failure}", transient=True)
                if fresh is None:
                    return Outcome(call, skip_reason=import_rules.CALL_DELETED)
                url = fresh.recording_url
                if url is not None:
                    self._urls[call.id] = url
            except RecordingUnavailable as error:
                return self._failed(call, str(error), transient=True)
        return self._failed(call, "no fresh URL", transient=False)

    def _failed(self, call: Call, why: str, transient: bool) -> Outcome:
        self._logger.warning(f"Recording of call {call.id} could not be fetched ({why}).")
        return Outcome(call, failure=why, transient=transient)


def after_failure(
    outcome: Outcome, config: ConnectorConfig, now: int, failing_since: int | None
) -> tuple[Verdict, int | None]:
    """A failed fetch, judged for one stream: retried later (WAIT) or given up (SKIP),
    and since when its transfers fail (kept in that stream's state; None for a URL
    Aircall no longer signs, which is given the lookback instead)."""
    since = (failing_since if failing_since is not None else now) if outcome.transient else None
    verdict = import_rules.after_failed_transfer(outcome.call, config, now, since)
    return verdict, since
