"""Which calls Salescaling imports: the rules, in one place.

A call is imported (one `recordings` record, with its audio file) when
  1. it is done (in-progress calls have no recording yet),
  2. its agent's email matches a paying Salescaling user (trimmed, case-insensitive),
  3. it has a recording, and
  4. the recording is at most `max_recording_size_mb` MiB (exactly the limit is kept).

A done call with no recording yet is watched for `lookback_minutes` after it ended,
because Aircall publishes recordings a few minutes after hang-up; unless recording is
off on the Aircall number it was made on (`live_recording_activated`), or the call was
never answered (missed, voicemail, failed outbound): then no file will ever come, and
the call is decided at once instead of being watched.

The life of a call, as these rules see it (one clock, the sync time):

    started_at        call_end(call)              + lookback_minutes
    |--- in progress ---|--- done: its recording may still come ---|--- no recording
                        |   a URL no longer signed is retried here |
    |<------- watch_horizon(): STALE_IN_PROGRESS_SECONDS + lookback ------->| a first
                                                    sync expects nothing older to change

A transfer that failed (storage errors, cut bodies) is retried on every later sync for
`RETRY_FAILED_TRANSFERS_SECONDS` after its first failure, then given up: see
`after_failed_transfer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.config import ConnectorConfig

# A call that started this long before the sync (plus the lookback) is not expected to
# become ready any more: the first sync stops paging there once capped. Later syncs
# still watch every pending call, however long it stays in progress.
STALE_IN_PROGRESS_SECONDS = 6 * 3600
RETRY_FAILED_TRANSFERS_SECONDS = 86_400

NOT_SALESCALING_USER = "agent email not a Salescaling user"
NO_RECORDING = "no recording"
RECORDING_OFF = "no recording: recording is off on the Aircall number"
OVER_SIZE_LIMIT = "recording over the size limit"
UNAVAILABLE = "recording unavailable: Aircall no longer signs a URL for it"
TRANSFERS_FAILED = "recording unavailable: its transfer failed on every sync for a day"
CALL_DELETED = "call deleted in Aircall"
NOT_ANSWERED = "no recording: the call was not answered"
IN_PROGRESS = "call in progress"
RECORDING_NOT_READY = "recording not ready yet"


class Readiness(Enum):
    READY = "ready"  # emit now
    WAIT = "wait"  # not ready yet, may become ready: keep watching
    SKIP = "skip"  # never imported (the reason says why)


@dataclass(frozen=True)
class Verdict:
    readiness: Readiness
    reason: str | None = None

    @staticmethod
    def ready() -> Verdict:
        return _READY  # one instance (frozen): asked twice per call listed

    @staticmethod
    def wait(reason: str) -> Verdict:
        return Verdict(Readiness.WAIT, reason)

    @staticmethod
    def skip(reason: str) -> Verdict:
        return Verdict(Readiness.SKIP, reason)


_READY = Verdict(Readiness.READY)


def call_end(call: Call) -> int:
    """When a call ended: `ended_at`, or `started_at + duration` for a call that Aircall
    lists without one (the lookback counts from here, see `lookback_ends`)."""
    return call.ended_at if call.ended_at is not None else call.started_at + call.duration


def lookback_ends(call: Call, config: ConnectorConfig) -> int:
    """Until this moment a done call may still get its recording (or a fresh URL)."""
    return call_end(call) + config.lookback_seconds


def watch_horizon(config: ConnectorConfig) -> int:
    """How far before the sync time a call may still become ready (see the docstring)."""
    return STALE_IN_PROGRESS_SECONDS + config.lookback_seconds


def call_verdict(call: Call) -> Verdict:
    """`calls` emits every done call."""
    return Verdict.ready() if call.is_done else Verdict.wait(IN_PROGRESS)


def eligible(call: Call, config: ConnectorConfig, now: int) -> Verdict:
    """Rules 1-3 (rule 4 needs the file's size: see `within_size_limit`)."""
    if not call.is_done:
        return Verdict.wait(IN_PROGRESS)
    email = call.agent.normalized_email if call.agent else None
    if email is None or email not in config.salescaling_user_emails:
        return Verdict.skip(NOT_SALESCALING_USER)
    if call.recording_url is None and call.answered_at is None:
        return Verdict.skip(NOT_ANSWERED)  # missed, voicemail, failed outbound: no file comes
    if call.recording_url is None and call.recording_enabled is False:
        return Verdict.skip(RECORDING_OFF)  # no file will come: no need to keep watching
    if call.recording_url is None:
        if now < lookback_ends(call, config):
            return Verdict.wait(RECORDING_NOT_READY)
        return Verdict.skip(NO_RECORDING)
    return Verdict.ready()


def within_size_limit(size_bytes: int, config: ConnectorConfig) -> bool:
    """Rule 4: a recording of exactly the limit is imported, one byte more is not."""
    return size_bytes <= config.recording_size_limit


def after_failed_transfer(
    call: Call, config: ConnectorConfig, now: int, failing_since: int | None
) -> Verdict:
    """Retry later (WAIT) or give up (SKIP) on a recording that could not be fetched.
    `failing_since` is the first failure of a transfer that failed (kept in the state):
    the file exists and must not be lost to an outage, but a file that never comes must
    not be retried for the whole import window either. None: Aircall no longer signs a
    URL for it, which is given the lookback, like a recording that has not come yet."""
    if failing_since is not None:
        if now < failing_since + RETRY_FAILED_TRANSFERS_SECONDS:
            return Verdict.wait(TRANSFERS_FAILED)
        return Verdict.skip(TRANSFERS_FAILED)
    if now < lookback_ends(call, config):
        return Verdict.wait(UNAVAILABLE)
    return Verdict.skip(UNAVAILABLE)
