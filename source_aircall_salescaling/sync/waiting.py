"""Calls waiting for an Aircall AI insight: who is asked again on this sync, and the
small state that remembers them.

A call enters the list when it is importable but its insight is not there yet (Aircall
answered 404 or 400), or when the sync's slot for AI requests was full before its turn
(nothing asked, nothing spent). It is asked again on the checkpoints of
`sync/schedule.py`, counted from `since` (the first ask; for an insight other than the
transcription, from the sync that found the transcription: `follow`), until
`insights_lookback_minutes` after the call ended, and leaves the list when the insight
comes or the lookback is over (dropped, counted in the report):

    call ended   first ask (since): 404   checkpoints ...     end + insights lookback
    |------------|------------------------|---------|---------|-- dropped
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from source_aircall_salescaling.sync.schedule import (
    FOLLOW_ASKS,
    TRANSCRIPTION_ASKS,
    ask_due,
    ask_times,
    passed,
)
from source_aircall_salescaling.sync.state import base36

# A sync this close before a checkpoint counts as at it. Syncs every 15 minutes meet
# checkpoints 15 minutes apart, but each sync's time is Aircall's clock at its first
# answer, a few seconds after the sync started: a sync 3 seconds "early" would otherwise
# skip its checkpoint, and the insight would wait 15 minutes more.
#     checkpoint t0 + 15 min
#   ..|.......... sync k+1 at t0 + 15 min - 3 s: asks (within the jitter)
SYNC_JITTER_SECONDS = 120
# A failed request (not a 404) after the deadline is tried again for this long at most.
RETRY_AFTER_DEADLINE_SECONDS = 86_400
# At most this many calls wait per stream (about 16 bytes each in the state: 40 KiB a
# stream, 360 KiB for the nine). Only an account where most imported calls never get an
# insight, with a lookback of a day or more, reaches it: the calls asked most often go.
MAX_WAITING = 2_500


def over_capacity(waits: Mapping[int, InsightWait]) -> list[int]:
    """The waiting calls to drop so that at most `MAX_WAITING` remain: the most asked
    first (the least likely to get their insight), then the oldest."""
    extra = len(waits) - MAX_WAITING
    if extra <= 0:
        return []
    ranked = sorted(waits.items(), key=lambda item: (-item[1].asked, item[1].ended, item[0]))
    return [call_id for call_id, _ in ranked[:extra]]


@dataclass(frozen=True)
class InsightWait:
    started_at: int  # the call's, for the record's cursor
    ended: int  # when the call ended: the deadline counts from here
    asked: int  # checkpoints covered by the asks so far (`schedule.passed`)
    since: int = 0  # the schedule's start (0: the call's end, as states before it said)
    follow: bool = False  # the transcription is there: the stream's own resource is asked

    def deadline(self, lookback_seconds: int) -> int:
        return self.ended + lookback_seconds

    def times(self, lookback_seconds: int) -> tuple[int, ...]:
        early = FOLLOW_ASKS if self.follow else TRANSCRIPTION_ASKS
        return ask_times(max(self.since, self.ended), self.deadline(lookback_seconds), early=early)

    def due(self, lookback_seconds: int, now: int) -> bool:
        deadline = self.deadline(lookback_seconds)
        times = self.times(lookback_seconds)
        return ask_due(times, self.asked, now + SYNC_JITTER_SECONDS, deadline)

    def after_ask(self, lookback_seconds: int, now: int) -> InsightWait:
        times = self.times(lookback_seconds)
        return replace(self, asked=max(self.asked + 1, passed(times, now + SYNC_JITTER_SECONDS)))

    def after_failed_ask(self, lookback_seconds: int, now: int) -> InsightWait:
        """A failed request (not a 404) spends its checkpoint, so that an outage costs no
        more requests than the schedule, except the last: that one stays due on every
        sync (for a day past the deadline at most, `given_up`: then it is spent too, and
        the call `over`), so the call is not lost."""
        times = self.times(lookback_seconds)
        if self.given_up(lookback_seconds, now):
            return replace(self, asked=len(times))
        covered = passed(times, now + SYNC_JITTER_SECONDS)
        return replace(self, asked=max(self.asked, min(covered, len(times) - 1)))

    def following(self, now: int) -> InsightWait:
        """The transcription is there (found at `now`): the stream's own checkpoints start."""
        return replace(self, asked=0, since=now, follow=True)

    def over(self, lookback_seconds: int, now: int) -> bool:
        """Past the deadline with every checkpoint asked: dropped."""
        deadline = self.deadline(lookback_seconds)
        return now >= deadline and self.asked >= len(self.times(lookback_seconds))

    def given_up(self, lookback_seconds: int, now: int) -> bool:
        """Asks that keep failing (not a 404) stop a day after the deadline."""
        return now >= self.deadline(lookback_seconds) + RETRY_AFTER_DEADLINE_SECONDS


def pack_waits(waits: Mapping[int, InsightWait]) -> str:
    """`id:started:ended-started:asked:since-ended[:f]` per call, ids and starts as
    differences from the entry before, in base 36, joined by commas (about 16 bytes a
    call; `f` marks a call whose transcription is there)."""
    parts: list[str] = []
    previous_id = previous_started = 0
    for call_id, wait in sorted(waits.items()):
        since = base36(max(0, wait.since - wait.ended))
        parts.append(
            f"{base36(call_id - previous_id)}:{base36(wait.started_at - previous_started)}:"
            f"{base36(wait.ended - wait.started_at)}:{wait.asked}:{since}"
            + (":f" if wait.follow else "")
        )
        previous_id, previous_started = call_id, wait.started_at
    return ",".join(parts)


def unpack_waits(text: str) -> dict[int, InsightWait]:
    """The inverse of `pack_waits` (and of its older four-field form, which counted the
    schedule from the call's end); text it did not write raises ValueError."""
    waits: dict[int, InsightWait] = {}
    call_id = started = 0
    for part in text.split(",") if text else []:
        fields = part.split(":")
        if len(fields) not in (4, 5, 6) or fields[5:] not in ([], ["f"]):
            raise ValueError(f"not a waiting call: {part!r}")
        id_step, started_step, length, asked = fields[:4]
        call_id += int(id_step, 36)
        started += int(started_step, 36)
        ended = started + int(length, 36)
        offset = int(fields[4], 36) if len(fields) > 4 else 0
        since = ended + offset if offset else 0  # 0: from the call's end
        waits[call_id] = InsightWait(started, ended, int(asked), since, len(fields) == 6)
    return waits
