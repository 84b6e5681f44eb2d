"""Pacing towards Aircall: the rate limit is per *company*, shared by every integration,
and Aircall sends no limit headers until it is too late (429). So requests are paced on
this side with the CDK's API budget, evenly (`api_budget`), never a burst; a 429 waits
until `X-AircallApi-Reset` (`seconds_until_reset`), or 60 s when the header is missing.
"""

from __future__ import annotations

import math
import time
from datetime import timedelta

import requests
from airbyte_cdk.sources.streams.call_rate import APIBudget, MovingWindowCallRatePolicy, Rate
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy

RATE_LIMIT_FALLBACK_SECONDS = 60.0


class AircallBackoff(BackoffStrategy):
    """429: wait for `X-AircallApi-Reset`; everything else: the CDK's exponential backoff."""

    def backoff_time(
        self,
        response_or_exception: requests.Response | requests.RequestException | None,
        attempt_count: int,
    ) -> float | None:
        if not isinstance(response_or_exception, requests.Response):
            return None
        if response_or_exception.status_code != 429:
            return None
        return seconds_until_reset(response_or_exception.headers.get("X-AircallApi-Reset"))


def seconds_until_reset(reset: str | None, now: float | None = None) -> float:
    """`X-AircallApi-Reset` is a UNIX timestamp, usually in seconds; one client reads it as
    milliseconds, so a value too large to be seconds is taken as milliseconds."""
    current = time.time() if now is None else now
    try:
        value = float(reset) if reset is not None else None
    except ValueError:
        value = None
    if value is None or not math.isfinite(value):
        return RATE_LIMIT_FALLBACK_SECONDS
    if value > 1e11:  # seconds would be past the year 5000: these are milliseconds
        value /= 1000.0
    return min(max(value - current, 0.5), 3600.0)


def api_budget(requests_per_minute: int) -> APIBudget:
    """Even pacing with the CDK's call-rate policy: two stacked moving windows, one request
    per 60/`requests_per_minute` seconds (so never a burst, and no catch-up burst after a
    429 wait: the spacing counts from the last request sent, however long ago), and
    `requests_per_minute` per minute. The spacing is rounded up to the millisecond (the
    limiter's unit), so that rounding never makes the pace faster than the configured rate.
    A single window of `requests_per_minute` per minute would let a whole minute's worth
    of requests out at once, which a token bucket on Aircall's side answers with 429.
    """
    spacing_ms = math.ceil(60_000 / requests_per_minute)
    return APIBudget(
        policies=[
            MovingWindowCallRatePolicy(
                rates=[
                    Rate(limit=1, interval=timedelta(milliseconds=spacing_ms)),
                    Rate(limit=requests_per_minute, interval=timedelta(minutes=1)),
                ],
                matchers=[],
            )
        ]
    )
