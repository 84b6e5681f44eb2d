"""The sandbox's token-bucket rate limit: N a minute refilled evenly, a burst of B."""

from __future__ import annotations

from aircall_sandbox.faults import RateLimiter
from aircall_sandbox.testing import Sandbox

T0 = 1_800_000_000.0


def bucket(per_minute: int, burst: int) -> RateLimiter:
    limiter = RateLimiter()
    limiter.configure(per_minute, 60.0, burst)
    return limiter


def test_a_full_bucket_lets_its_burst_through_then_refuses() -> None:
    limiter = bucket(60, 2)

    allowed = [limiter.hit("id", now=T0)[0] for _ in range(3)]

    assert allowed == [True, True, False]


def test_a_token_comes_back_after_sixty_seconds_over_the_rate() -> None:
    limiter = bucket(60, 2)
    for _ in range(2):
        limiter.hit("id", now=T0)

    assert limiter.hit("id", now=T0 + 0.9)[0] is False
    assert limiter.hit("id", now=T0 + 1.0)[0] is True


def test_requests_evenly_spaced_at_the_rate_are_never_refused() -> None:
    limiter = bucket(120, 2)

    allowed = [limiter.hit("id", now=T0 + n * 0.5)[0] for n in range(500)]

    assert all(allowed)


def test_a_minute_within_the_total_is_still_refused_when_it_bursts() -> None:
    limiter = bucket(120, 2)

    allowed = [limiter.hit("id", now=T0 + n * 0.01)[0] for n in range(10)]

    assert allowed.count(True) == 2


def test_a_refusal_resets_when_the_next_token_is_due() -> None:
    limiter = bucket(60, 1)
    limiter.hit("id", now=T0)

    allowed, reset_at = limiter.hit("id", now=T0 + 0.25)

    assert allowed is False
    assert reset_at == T0 + 1.0


def test_the_bucket_holds_no_more_than_its_burst_after_a_long_pause() -> None:
    limiter = bucket(60, 2)
    limiter.hit("id", now=T0)

    allowed = [limiter.hit("id", now=T0 + 3600)[0] for _ in range(3)]

    assert allowed == [True, True, False]


def test_burst_zero_keeps_the_fixed_window() -> None:
    limiter = bucket(3, 0)

    allowed = [limiter.hit("id", now=T0 + n * 0.01)[0] for n in range(5)]

    assert allowed == [True, True, True, False, False]


def test_the_control_api_switches_the_api_host_to_a_token_bucket(sandbox: Sandbox) -> None:
    sandbox.set_rate_limit(1, bucket_burst=2)

    statuses = [sandbox.api_get("/v1/ping").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert sandbox.state(include_calls=False)["settings"]["rate_bucket_burst"] == 2


def test_the_command_line_starts_the_sandbox_with_a_token_bucket() -> None:
    with Sandbox(seed=1, users=2, calls=0, rate_limit=1, rate_bucket_burst=1) as fresh:
        statuses = [fresh.api_get("/v1/ping").status_code for _ in range(2)]

    assert statuses == [200, 429]
