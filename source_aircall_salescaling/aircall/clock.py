"""Aircall's clock: each sync's time is taken from the `Date` header of Aircall's first
answer, so that the window, the lookback and the first sync's cap are measured on the
clock that stamps the calls' `started_at` and `ended_at`, whatever this machine's says.

    this machine  ......|..... skew .....|......  Aircall's Date (the sync time T)
    a late recording is judged against   end + lookback   on Aircall's clock

A `Date` that is missing, cannot be read, or is more than a day away from this machine's
clock is not believed: the sync falls back to the local clock (and says so). A skew over a
minute is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

MAX_BELIEVED_SKEW_SECONDS = 86_400  # further away: the header is wrong, not the clock
LOGGED_SKEW_SECONDS = 60


@dataclass(frozen=True)
class SyncClock:
    """The sync's time, and whether it is Aircall's (else this machine's)."""

    now: int
    aircalls: bool


def aircall_time(date_header: str | None, local_now: float) -> int | None:
    """The UNIX time of an HTTP `Date` header, or None when it is missing, unreadable or
    absurd (more than `MAX_BELIEVED_SKEW_SECONDS` from `local_now`)."""
    if not date_header:
        return None
    try:
        moment = parsedate_to_datetime(date_header)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # RFC 7231 dates are GMT; a naive one says -0000
        return None
    seconds = int(moment.timestamp())
    if abs(seconds - local_now) > MAX_BELIEVED_SKEW_SECONDS:
        return None
    return seconds


def sync_clock(date_header: str | None, local_now: float, logger: logging.Logger) -> SyncClock:
    """The sync time from Aircall's `Date` (see the module docstring), with the skew
    logged when it is over a minute."""
    aircall = aircall_time(date_header, local_now)
    local = int(local_now)
    if aircall is None:
        logger.warning(
            f"Aircall's answer has no usable Date header ({date_header!r}); this sync uses "
            "this machine's clock."
        )
        return SyncClock(local, aircalls=False)
    skew = aircall - local
    if abs(skew) > LOGGED_SKEW_SECONDS:
        side = "ahead of" if skew > 0 else "behind"
        logger.warning(
            f"Aircall's clock is {abs(skew)} s {side} this machine's; this sync uses "
            "Aircall's (its Date header)."
        )
    return SyncClock(aircall, aircalls=True)
