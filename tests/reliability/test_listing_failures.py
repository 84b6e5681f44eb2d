"""A listing that fails: the sync says why in Aircall's words, and concludes nothing
from what it did not read (a user missing from an unfinished `/v2/users` is not gone)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, catalog
from tests.reliability.proxy import ApiProxy
from tests.reliability.support import APPLICATION_ERROR

USERS = catalog(["users"])
CALLS = catalog(["calls"])


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """60 users: two pages of `/v2/users`."""
    with Sandbox(seed=31, users=60, calls=40, days=2, rate_limit=0) as running:
        yield running


def removals(records: list[dict[str, Any]]) -> list[int]:
    return [r["id"] for r in records if r["_ab_cdc_deleted_at"] is not None]


def test_a_sync_that_fails_while_listing_users_reports_no_user_removed(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    first = Connector(sandbox.api_url, tmp_path / "first").run("read", sandbox.config(), USERS)
    gone = sandbox.users()[0]["id"]  # on the first page, which the failing sync reads
    sandbox.delete_user(gone)

    with ApiProxy(sandbox.api_url, sandbox.storage_url) as proxy:
        proxy.on_request = lambda path, query: (
            (400, APPLICATION_ERROR) if path == "/v2/users" and query.get("page") == "2" else None
        )
        failed = Connector(proxy.url, tmp_path / "failed").run(
            "read", sandbox.config(), USERS, state=first.states()
        )
    again = Connector(sandbox.api_url, tmp_path / "again").run(
        "read", sandbox.config(), USERS, state=failed.states() or first.states()
    )

    assert failed.returncode != 0 and proxy.answered == 1
    assert removals(failed.records("users")) == []
    assert removals(again.records("users")) == [gone]


def test_a_403_while_listing_calls_fails_the_sync_quoting_aircalls_reason(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # The sandbox's 403 has Aircall's {"error": "Forbidden", "troubleshoot": ...} shape.
    sandbox.set_faults(error_next=1, error_statuses=[403], path_prefix="/v1/calls")

    run = Connector(sandbox.api_url, tmp_path).run("read", sandbox.config(), CALLS)

    assert run.returncode != 0
    assert any('"company is not verified"' in error["message"] for error in run.errors())
