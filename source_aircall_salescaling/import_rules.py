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
"""

from __future__ import annotations

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.config import ConnectorConfig
from source_aircall_salescaling.sync.cursor import Verdict

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
        ended = call.ended_at if call.ended_at is not None else call.started_at + call.duration
        if now < ended + config.lookback_seconds:
            return Verdict.wait(RECORDING_NOT_READY)
        return Verdict.skip(NO_RECORDING)
    return Verdict.ready()


def within_size_limit(size_bytes: int, config: ConnectorConfig) -> bool:
    """Rule 4: a recording of exactly the limit is imported, one byte more is not."""
    return size_bytes <= config.recording_size_limit
