"""Calls waiting for an Aircall AI insight: who is asked again on this sync, and the
small state that remembers them.

A call enters the list when it is importable but Aircall answered 404 for the insight
(not generated yet). It is asked again on the checkpoints of `sync/schedule.py`, from
the call's end to `insights_lookback_minutes` after it, and leaves the list when the
insight comes or the lookback is over (dropped, counted in the report):

    call ended      first ask: 404      checkpoints ...        end + insights lookback
    |---------------|--------------------|---------|-----------|-- dropped
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from source_aircall_salescaling.sync.schedule import ask_due, ask_times, passed
from source_aircall_salescaling.sync.state import base36

# A failed request (not a 404) after the deadline is tried again for this long at most.
RETRY_AFTER_DEADLINE_SECONDS = 86_400
# At most this many calls wait per stream (about 12 bytes each in the state: under 64 KiB
# with room to spare). Only an account where most imported calls never get an insight,
# with a lookback of a day or more, reaches it: the calls asked most often go first.
MAX_WAITING = 4_000


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
    ended: int  # when the call ended: the schedule counts from here
    asked: int  # checkpoints covered by the asks so far (`schedule.passed`)

    def deadline(self, lookback_seconds: int) -> int:
        return self.ended + lookback_seconds

    def due(self, lookback_seconds: int, now: int) -> bool:
        deadline = self.deadline(lookback_seconds)
        return ask_due(ask_times(self.ended, deadline), self.asked, now, deadline)

    def after_ask(self, lookback_seconds: int, now: int) -> InsightWait:
        times = ask_times(self.ended, self.deadline(lookback_seconds))
        return InsightWait(self.started_at, self.ended, max(self.asked + 1, passed(times, now)))

    def after_failed_ask(self, lookback_seconds: int, now: int) -> InsightWait:
        """A failed request (not a 404) spends its checkpoint, so that an outage costs no
        more requests than the schedule, except the last: that one stays due on every
        sync (for a day past the deadline at most, `given_up`), so the call is not lost."""
        times = ask_times(self.ended, self.deadline(lookback_seconds))
        asked = max(self.asked, min(passed(times, now), len(times) - 1))
        return InsightWait(self.started_at, self.ended, asked)

    def over(self, lookback_seconds: int, now: int) -> bool:
        """Past the deadline with every checkpoint asked: dropped."""
        deadline = self.deadline(lookback_seconds)
        return now >= deadline and self.asked >= len(ask_times(self.ended, deadline))

    def given_up(self, lookback_seconds: int, now: int) -> bool:
        """Asks that keep failing (not a 404) stop a day after the deadline."""
        return now >= self.deadline(lookback_seconds) + RETRY_AFTER_DEADLINE_SECONDS


def pack_waits(waits: Mapping[int, InsightWait]) -> str:
    """`id:started:ended-started:asked` per call, ids and starts as differences from the
    entry before, in base 36, joined by commas (about 12 bytes a call)."""
    parts: list[str] = []
    previous_id = previous_started = 0
    for call_id, wait in sorted(waits.items()):
        parts.append(
            f"{base36(call_id - previous_id)}:{base36(wait.started_at - previous_started)}:"
            f"{base36(wait.ended - wait.started_at)}:{wait.asked}"
        )
        previous_id, previous_started = call_id, wait.started_at
    return ",".join(parts)


def unpack_waits(text: str) -> dict[int, InsightWait]:
    """The inverse of `pack_waits`; text it did not write raises ValueError."""
    waits: dict[int, InsightWait] = {}
    call_id = started = 0
    for part in text.split(",") if text else []:
        id_step, started_step, length, asked = part.split(":")
        call_id += int(id_step, 36)
        started += int(started_step, 36)
        waits[call_id] = InsightWait(started, started + int(length, 36), int(asked))
    return waits
