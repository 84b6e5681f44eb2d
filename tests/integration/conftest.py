"""Integration tests: the connector runs against the sandbox on loopback (in the test
process, or as a process where the process is what is tested: tests/harness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox per test: tests add calls and faults, so none shares one."""
    with Sandbox(seed=11, users=8, calls=400, days=20, rate_limit=0) as running:
        yield running


@pytest.fixture
def connector(sandbox: Sandbox, tmp_path: Path) -> Connector:
    return Connector(api_url=sandbox.api_url, workdir=tmp_path)
