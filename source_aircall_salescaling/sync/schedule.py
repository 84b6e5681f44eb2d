"""When to ask Aircall again about a call that waits for something that may come later
(its recording, an Aircall AI insight), until a deadline.

Asking on every 15-minute sync would cost one request per waiting call per sync for as
long as the deadline allows (up to two days for insights). Most things come within
minutes of the call's end, a few come hours later, some never: so the asks are dense at
first, then sparse, and the last one always falls in the deadline's last 15 minutes, so
that whatever appears at any time before the deadline is still caught:

    start   +15 min   +1 h                 start + half            deadline - 15 min
    |ask-----|ask-----|ask--------------------|ask------------------------|ask ...| dropped

For an Aircall AI insight, `start` is the sync that first asked about the call (its
recording may have come long after the call ended, so counting from the end would skip
the dense asks), and an insight other than the transcription gets its own checkpoints
only once the transcription is there (sync/ai_asks.py): Aircall writes the others from
it within minutes, so they are asked on every sync for the first 45 minutes, then once
more in the deadline's last 15 minutes (`FOLLOW_ASKS`):

    transcription found  +15 min  +30 min  +45 min            deadline - 15 min
    |ask-----------------|ask-----|ask-----|ask------------------|ask ...| dropped

A sync asks when a checkpoint passed since the last ask it made (several that passed
together count as one ask), so a call costs at most `len(ask_times(...))` requests,
however often or rarely the syncs run. A sync that comes after the deadline while the
last checkpoint was never asked still asks once: the thing may have appeared in time.
"""

from __future__ import annotations

from bisect import bisect_right

LAST_ASK_BEFORE_DEADLINE = 15 * 60
EARLY_ASKS = (15 * 60, 3600)  # after the first ask: these offsets from the start
FOLLOW_ASKS = (15 * 60, 30 * 60, 45 * 60)  # an insight once its transcription is there
MAX_ASKS = 5


def ask_times(
    start: int,
    deadline: int,
    max_asks: int = MAX_ASKS,
    early: tuple[int, ...] = EARLY_ASKS,
) -> tuple[int, ...]:
    """The checkpoints, oldest first: `start` itself, the `early` ones, half-way, and
    the deadline less 15 minutes; at most `max_asks` (the first and the last are kept)."""
    last = deadline - LAST_ASK_BEFORE_DEADLINE
    if last <= start:
        return (start,)
    middle = [start + offset for offset in early] + [start + (deadline - start) // 2]
    points = sorted({start, last, *(p for p in middle if start < p < last)})
    if len(points) > max_asks:
        points = [*points[: max_asks - 1], last]
    return tuple(points)


def passed(times: tuple[int, ...], now: int) -> int:
    """How many checkpoints are at or before `now`."""
    return bisect_right(times, now)


def ask_due(times: tuple[int, ...], asked: int, now: int, deadline: int) -> bool:
    """Whether a sync at `now` asks, given how many checkpoints the asks so far covered
    (`asked`, as returned by `passed` at the last ask). After the deadline: only when
    the last checkpoint was never covered."""
    if now >= deadline:
        return asked < len(times)
    return passed(times, now) > asked
