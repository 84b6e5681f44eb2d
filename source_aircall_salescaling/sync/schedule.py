"""When to ask Aircall again about a call that waits for something that may come later
(its recording, an Aircall AI insight), until a deadline.

Asking on every 15-minute sync would cost one request per waiting call per sync for as
long as the deadline allows (up to two days for insights). Most things come within
minutes of the call's end, a few come hours later, some never: so the asks are dense at
first, then sparse, and the last one always falls in the deadline's last 15 minutes, so
that whatever appears at any time before the deadline is still caught. A call's
recording (`EARLY_ASKS`, the default):

    start   +15 min   +1 h                 start + half            deadline - 15 min
    |ask-----|ask-----|ask--------------------|ask------------------------|ask ...| dropped

For an Aircall AI insight, `start` is the sync that first asked about the call (its
recording may have come long after the call ended, so counting from the end would skip
the early asks). The transcription comes first (`TRANSCRIPTION_ASKS`). Aircall writes it
seconds to minutes after the recording, longer for a longer call (aircall-api.md,
"Conversation intelligence"): the first ask, or the one 15 minutes later, finds nearly
all. One still missing then is held up (a call of hours, a backlog at Aircall), and
Aircall does not say for how long. An ask finds on time only what became ready since
the sync before it, and 5 asks cannot follow a held-up transcription sync by sync, so
the two asks left before the last go to the quarter-hours where it is most likely:

    start   +15 min            +1 h 15  +1 h 30                deadline - 15 min
    |ask-----|ask---------------|ask-----|ask---------------------|ask ...| dropped

Why there: the sandbox, the only model of that tail (aircall_sandbox/insights.py),
holds a backlogged transcription one to three hours after the recording and a long
call's about a sixth of its length. `start` is up to a sync after the recording, so a
hold of an hour or more ends 45 minutes or more after `start`: the quarter-hour ending
at +1 h gets half as many as each of the next two, and later ones get fewer, as each
call's deadline cuts its tail off. Asks at +30 and +45 minutes would find only the
transcriptions of calls over an hour long. On the simulated day (`make day`), where
every late transcription was held an hour or more, 98.0% of the insights came on the
first sync at or after they were ready (95.6% with the asks at +1 h and half-way
before), at the same cost: 1.29 requests per imported call per AI stream.

An insight other than the transcription gets its own checkpoints only once the
transcription is there (sync/ai_asks.py): Aircall writes the others from it within
minutes, so they are asked on every sync for the first 45 minutes, then once more in
the deadline's last 15 minutes (`FOLLOW_ASKS`):

    transcription found  +15 min  +30 min  +45 min            deadline - 15 min
    |ask-----------------|ask-----|ask-----|ask------------------|ask ...| dropped

A deadline too close for some offsets keeps those that fall before its last 15 minutes,
in the order given (`TRANSCRIPTION_ASKS` ends with +1 h for such deadlines), and
half-way takes a place left free.

A sync asks when a checkpoint passed since the last ask it made (several that passed
together count as one ask), so a call costs at most `len(ask_times(...))` requests,
however often or rarely the syncs run. A sync that comes after the deadline while the
last checkpoint was never asked still asks once: the thing may have appeared in time.
"""

from __future__ import annotations

from bisect import bisect_right

LAST_ASK_BEFORE_DEADLINE = 15 * 60
# After the first ask: these offsets from the start, the first ones first when a
# deadline leaves room for fewer.
EARLY_ASKS = (15 * 60, 3600)  # a call's recording
TRANSCRIPTION_ASKS = (15 * 60, 75 * 60, 90 * 60, 3600)  # the +1 h for shorter deadlines
FOLLOW_ASKS = (15 * 60, 30 * 60, 45 * 60)  # an insight once its transcription is there
MAX_ASKS = 5


def ask_times(
    start: int,
    deadline: int,
    max_asks: int = MAX_ASKS,
    early: tuple[int, ...] = EARLY_ASKS,
) -> tuple[int, ...]:
    """The checkpoints, oldest first: `start` itself and the deadline less 15 minutes,
    then, while fewer than `max_asks`, the `early` offsets from `start` that fall between
    the two, in the order given, and half-way."""
    last = deadline - LAST_ASK_BEFORE_DEADLINE
    if last <= start:
        return (start,)
    points = {start, last}
    for point in [start + offset for offset in early] + [start + (deadline - start) // 2]:
        if len(points) >= max_asks:
            break
        if start < point < last:
            points.add(point)
    return tuple(sorted(points))


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
