"""One sandbox subprocess per test module, reset to neutral settings after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aircall_sandbox.signing import DEFAULT_URL_TTL
from aircall_sandbox.testing import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, users=8, calls=300, days=14, rate_limit=0) as running:
        yield running


@pytest.fixture(autouse=True)
def _neutral(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that change faults, limits, TTL or the clock must not leak into the next."""
    yield
    if "sandbox" in request.fixturenames:
        running: Sandbox = request.getfixturevalue("sandbox")
        running.reset()
        running.set_rate_limit(0, bucket_burst=0)
        running.set_url_ttl(DEFAULT_URL_TTL)
