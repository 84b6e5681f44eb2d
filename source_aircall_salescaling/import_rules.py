"""Which calls Salescaling imports: the rules, in one place.

A call is imported (one `recordings` record, with its audio file) when
  1. it is done (in-progress calls have no recording yet),
  2. it belongs to a paying Salescaling user (`salescaling_agent`: its agent's email, else
     for a transferred call the email of the agent it was transferred to; trimmed,
     case-insensitive),
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

import time
from dataclasses import dataclass
from enum import Enum

from source_aircall_salescaling.aircall.models import Agent, Call
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


def salescaling_agent(call: Call, salescaling_emails: frozenset[str]) -> Agent | None:
    """Whose call it is: its agent (`user`) when a Salescaling user, else, for a
    transferred call, the agent it was transferred to when a Salescaling user. Aircall
    keeps a transferred call as one call: `user` answered first, `transferred_to` took it
    over, and both spoke on the one recording. None: no Salescaling user's call."""
    agent = call.agent
    if agent is not None and agent.normalized_email in salescaling_emails:
        return agent
    taker = call.transferred_to
    if taker is not None and taker.normalized_email in salescaling_emails:
        return taker
    return None


def by_transfer(call: Call, owner: Agent | None) -> bool:
    """The call is its owner's because it was transferred to them (not their own)."""
    return owner is not None and owner is not call.agent


def call_verdict(call: Call) -> Verdict:
    """`calls` emits every done call."""
    return Verdict.ready() if call.is_done else Verdict.wait(IN_PROGRESS)


def eligible(call: Call, config: ConnectorConfig, now: int) -> Verdict:
    """Rules 1-3 (rule 4 needs the file's size: see `within_size_limit`)."""
    if not call.is_done:
        return Verdict.wait(IN_PROGRESS)
    if salescaling_agent(call, config.salescaling_user_emails) is None:
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


# What became of a call, as the `import_decisions` stream tells it ------------------------
IMPORTED = "imported"
WAITING_FOR_RECORDING = "waiting_for_recording"
NOT_A_SALESCALING_USER = "not_a_salescaling_user"
NO_RECORDING_DECISION = "no_recording"
RECORDING_TOO_LARGE = "recording_too_large"
LEFT_BEHIND_BY_FIRST_SYNC = "left_behind_by_first_sync"
RECORDING_UNAVAILABLE = "recording_unavailable"
CALL_DELETED_DECISION = "call_deleted"

# A verdict's reason (the report's words) -> the decision it is.
DECISION_OF_REASON = {
    NOT_SALESCALING_USER: NOT_A_SALESCALING_USER,
    NO_RECORDING: NO_RECORDING_DECISION,
    RECORDING_OFF: NO_RECORDING_DECISION,
    NOT_ANSWERED: NO_RECORDING_DECISION,
    OVER_SIZE_LIMIT: RECORDING_TOO_LARGE,
    UNAVAILABLE: RECORDING_UNAVAILABLE,
    TRANSFERS_FAILED: RECORDING_UNAVAILABLE,
    CALL_DELETED: CALL_DELETED_DECISION,
    RECORDING_NOT_READY: WAITING_FOR_RECORDING,
}


@dataclass(frozen=True)
class ImportDecision:
    """One call's decision at one sync, with a sentence a Salescaling admin can act on.
    `rule` is the verdict's short reason (the import report's key), None for imported."""

    call_id: int
    started_at: int
    ended_at: int | None
    agent: Agent | None
    decision: str
    reason: str
    rule: str | None
    size_bytes: int | None
    decided_at: int
    salescaling_agent: Agent | None = None  # whose call it is (`salescaling_agent`)


def _megabytes(size_bytes: int) -> str:
    return f"{size_bytes / 1_048_576:.1f} MB"


def _clock(moment: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(moment))


def decide(
    call: Call, rule: str | None, config: ConnectorConfig, now: int, size_bytes: int | None = None
) -> ImportDecision:
    """The decision for a call whose verdict gave `rule` (a reason above), or None when
    it is imported; the sentence names the email, the size or the limit involved."""
    email = call.agent.email.strip() if call.agent and call.agent.email else None
    owner = salescaling_agent(call, config.salescaling_user_emails)
    limit = f"{config.max_recording_size_mb} MB"
    if rule is None:
        decision = IMPORTED
        size = f" ({_megabytes(size_bytes)})" if size_bytes is not None else ""
        reason = (
            f"Imported: {_whose(call, owner, email)} and the recording{size} is within "
            f"the {limit} limit."
        )
    elif rule == LEFT_BEHIND:
        decision = LEFT_BEHIND_BY_FIRST_SYNC
        reason = (
            "Importable, but older than the newest "
            f"{config.first_sync_max_calls} importable calls that the first sync imports "
            "(first_sync_max_calls); later syncs import only newer calls."
        )
    else:
        decision = DECISION_OF_REASON.get(rule, RECORDING_UNAVAILABLE)
        reason = _sentence(call, rule, email, config, limit, size_bytes)
    return ImportDecision(
        call.id,
        call.started_at,
        call.ended_at,
        call.agent,
        decision,
        reason,
        rule,
        size_bytes,
        now,
        owner,
    )


def _email_of(agent: Agent | None) -> str | None:
    return agent.email.strip() if agent is not None and agent.email else None


def _whose(call: Call, owner: Agent | None, email: str | None) -> str:
    """Whose call it is, naming the transfer when that decided it."""
    if not by_transfer(call, owner):
        return f"{email} is a Salescaling user"
    first = f"{email} (who answered it first)" if email else "the agent who answered it first"
    return f"the call was transferred to {_email_of(owner)}, a Salescaling user, by {first},"


def decide_deleted(call_id: int, started_at: int, now: int) -> ImportDecision:
    """A pending call that Aircall answered 404 for: only its id and start are known."""
    return ImportDecision(
        call_id,
        started_at,
        None,
        None,
        CALL_DELETED_DECISION,
        _sentence_deleted(),
        CALL_DELETED,
        None,
        now,
    )


def _sentence_deleted() -> str:
    return "The call was deleted in Aircall before it was imported."


LEFT_BEHIND = "left behind by the first-sync cap"


def _sentence(
    call: Call,
    rule: str,
    email: str | None,
    config: ConnectorConfig,
    limit: str,
    size_bytes: int | None,
) -> str:
    if rule == NOT_SALESCALING_USER:
        taker = _email_of(call.transferred_to)
        if email is None and taker is not None:
            return (
                f"The call was transferred to {taker}, who is not one of the Salescaling "
                "users: add them in Salescaling or fix it in Aircall (Users)."
            )
        if email is None:
            return (
                "No agent took this call (for example a call missed in the IVR), so it "
                "belongs to no Salescaling user."
            )
        if taker is not None:
            return (
                f"Neither the agent's Aircall email {email} nor {taker}, to whom the call was "
                "transferred, is one of the Salescaling users: add one in Salescaling or fix "
                "it in Aircall (Users)."
            )
        return (
            f"The agent's Aircall email {email} is not one of the Salescaling users: add it "
            "in Salescaling or fix it in Aircall (Users)."
        )
    if rule == RECORDING_NOT_READY:
        return (
            "Aircall has no recording for it yet; the connector looks for one until "
            f"{_clock(lookback_ends(call, config))} ({config.lookback_minutes} minutes "
            "after the call ended, lookback_minutes)."
        )
    if rule == NO_RECORDING:
        return (
            f"No recording appeared within {config.lookback_minutes} minutes after the call "
            "ended (lookback_minutes): check that call recording is on for the Aircall "
            "number, or raise lookback_minutes."
        )
    if rule == RECORDING_OFF:
        number = f" {call.internal_number}" if call.internal_number else ""
        return (
            f"Call recording is off on the Aircall number{number}, so there is no "
            "recording: turn it on in Aircall (Numbers -> Call recording)."
        )
    if rule == NOT_ANSWERED:
        return f"The call was not answered ({call.status}), so there is no recording."
    if rule == OVER_SIZE_LIMIT:
        if size_bytes is None:
            return f"The recording is over the {limit} limit (max_recording_size_mb)."
        return f"The recording is {_megabytes(size_bytes)}; the limit is {limit}."
    if rule == TRANSFERS_FAILED:
        return (
            "Its recording could not be fetched from Aircall's storage on any sync for a "
            "day: given up. Check https://status.aircall.io; the call is not imported."
        )
    if rule == UNAVAILABLE:
        return (
            "Aircall no longer gives a URL for its recording (it may have been deleted in "
            "Aircall): the call is not imported."
        )
    if rule == CALL_DELETED:
        return _sentence_deleted()
    return f"Not imported: {rule}."
