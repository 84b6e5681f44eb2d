"""Even pacing of API requests ("requests are spaced evenly at this rate, never more than
2 in a burst", the spec's `requests_per_minute`), on an injected clock: no test waits or depends on how
fast the machine is. The clock moves only when the code under test sleeps."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from itertools import pairwise
from types import SimpleNamespace
from typing import Any

import pyrate_limiter.clocks
import pytest
import requests
import requests_mock as requests_mock_module
from airbyte_cdk.sources.streams import call_rate
from airbyte_cdk.sources.streams.http import rate_limiting

import source_aircall_salescaling.aircall.pacing as client_module
from source_aircall_salescaling.aircall.client import AircallClient
from source_aircall_salescaling.aircall.pacing import api_budget
from source_aircall_salescaling.config import parse_config

API = "http://127.0.0.1:9"
START = 1_800_000_000.0


class FakeClock:
    """Wall clock of the limiter, the budget's sleeps, the 429 wait and the reset header."""

    def __init__(self) -> None:
        self.now = START

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        # Even `sleep(0)` lets a millisecond pass: the limiter's windows include their
        # edge, so its computed wait is a millisecond short, and with a real clock the
        # retry loop spins through that millisecond.
        self.now += max(0.001, float(seconds))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    fake = FakeClock()
    # pyrate-limiter's TimeClock reads `time()`; the CDK's budget sleeps with `time.sleep`,
    # its rate-limit backoff too; the client reads the time for `X-AircallApi-Reset`.
    monkeypatch.setattr(pyrate_limiter.clocks, "time", fake.time)
    monkeypatch.setattr(call_rate, "time", SimpleNamespace(sleep=fake.sleep, time=fake.time))
    monkeypatch.setattr(rate_limiting, "time", SimpleNamespace(sleep=fake.sleep, time=fake.time))
    monkeypatch.setattr(client_module, "time", SimpleNamespace(time=fake.time))
    yield fake


def acquire_times(clock: FakeClock, requests_per_minute: int, count: int) -> list[float]:
    budget = api_budget(requests_per_minute)
    request = requests.Request("GET", f"{API}/v1/calls").prepare()
    times = []
    for _ in range(count):
        budget.acquire_call(request)
        times.append(clock.now)
    return times


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in pairwise(times)]


@pytest.mark.parametrize("requests_per_minute", [60, 120, 600, 1000, 7])
def test_requests_are_spaced_by_sixty_seconds_over_the_rate(
    clock: FakeClock, requests_per_minute: int
) -> None:
    spacing = 60 / requests_per_minute

    times = acquire_times(clock, requests_per_minute, 30)

    assert min(gaps(times)) >= spacing - 1e-9
    # The limiter counts whole milliseconds: rounded up, plus the edge of its window.
    assert max(gaps(times)) <= spacing + 0.003


@pytest.mark.parametrize("requests_per_minute", [60, 600])
def test_no_minute_holds_more_requests_than_the_rate(
    clock: FakeClock, requests_per_minute: int
) -> None:
    times = acquire_times(clock, requests_per_minute, requests_per_minute * 2)

    busiest = max(sum(1 for t in times if start <= t < start + 60) for start in times)
    assert busiest <= requests_per_minute


def test_at_most_two_requests_in_any_span_shorter_than_two_spacings(clock: FakeClock) -> None:
    times = acquire_times(clock, 120, 40)

    assert all(later - earlier >= 0.5 for earlier, later in zip(times, times[2:], strict=False))


def test_the_first_request_goes_out_at_once(clock: FakeClock) -> None:
    assert acquire_times(clock, 60, 1) == [START]


# The client, against a mocked API ------------------------------------------------------


def paced_client(requests_per_minute: int) -> AircallClient:
    config = parse_config(
        {
            "api_id": "my-api-id",
            "api_token": "my-api-token",
            "salescaling_user_emails": ["ana@example.com"],
            "requests_per_minute": requests_per_minute,
        },
        environ={"AIRCALL_API_URL": API},
    )
    return AircallClient(config, logging.getLogger("test_pacing"), max_retries=3)


class RecordingApi:
    """`/v1/ping` answering from a script of statuses; keeps the clock time of each request."""

    def __init__(self, clock: FakeClock, statuses: list[int], reset_in: float) -> None:
        self.clock = clock
        self.statuses = list(statuses)
        self.reset_in = reset_in
        self.times: list[float] = []
        self.reset_at: float | None = None

    def __call__(self, request: Any, context: Any) -> dict[str, Any]:
        self.times.append(self.clock.now)
        status = self.statuses.pop(0) if self.statuses else 200
        context.status_code = status
        if status == 429:
            self.reset_at = self.clock.now + self.reset_in
            context.headers["X-AircallApi-Reset"] = str(int(self.reset_at))
            return {"message": "Too Many Requests"}
        return {"ping": "pong"}


def test_the_client_sends_its_requests_evenly_spaced(
    clock: FakeClock, requests_mock: requests_mock_module.Mocker
) -> None:
    api = RecordingApi(clock, [], reset_in=0)
    requests_mock.get(f"{API}/v1/ping", json=api)
    client = paced_client(120)

    for _ in range(10):
        client.ping()

    assert min(gaps(api.times)) >= 0.5 - 1e-9


def test_after_a_429_the_retry_waits_for_the_reset(
    clock: FakeClock, requests_mock: requests_mock_module.Mocker
) -> None:
    api = RecordingApi(clock, [200, 200, 429], reset_in=20)
    requests_mock.get(f"{API}/v1/ping", json=api)
    client = paced_client(60)

    for _ in range(3):
        client.ping()

    assert api.reset_at is not None
    assert len(api.times) == 4
    assert api.times[3] >= api.reset_at


def test_after_a_429_the_pace_resumes_with_no_catch_up_burst(
    clock: FakeClock, requests_mock: requests_mock_module.Mocker
) -> None:
    api = RecordingApi(clock, [200, 200, 429], reset_in=20)
    requests_mock.get(f"{API}/v1/ping", json=api)
    client = paced_client(60)

    for _ in range(10):
        client.ping()

    after_the_wait = api.times[3:]
    assert len(after_the_wait) == 8
    assert min(gaps(after_the_wait)) >= 1.0 - 1e-9
