"""The connector against the sandbox's strictest rate limit, and what
`check` costs in requests."""

from __future__ import annotations

from pathlib import Path

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, catalog

RATE = 120  # requests a minute: Aircall's current figure


def test_a_read_paced_at_the_limit_gets_no_429_from_a_token_bucket_with_a_burst_of_2(
    tmp_path: Path,
) -> None:
    with Sandbox(seed=11, calls=400, days=20, rate_limit=RATE, rate_bucket_burst=2) as sandbox:
        connector = Connector(api_url=sandbox.api_url, workdir=tmp_path)
        config = sandbox.config(requests_per_minute=RATE, first_sync_max_calls=1_000)

        run = connector.run(
            "read", config, catalog({"users": "full_refresh", "calls": "full_refresh"})
        )

        statuses = [entry["status"] for entry in sandbox.requests_log("api")]
    assert run.returncode == 0, run.errors()
    assert len(statuses) >= 5  # enough requests that a burst would have been refused
    assert statuses.count(429) == 0


def test_check_reads_one_users_page_when_the_emails_are_all_on_it(
    sandbox: Sandbox, connector: Connector
) -> None:
    for n in range(110):  # three pages of users, the Salescaling ones on the first
        sandbox.add_user(f"Extra {n}", f"extra.{n}@example.net")
    sandbox.clear_log()

    status = connector.run("check", sandbox.config()).connection_status()

    users_pages = [e for e in sandbox.requests_log("api") if e["path"] == "/v2/users"]
    assert status["status"] == "SUCCEEDED"
    assert len(users_pages) == 1


def test_check_with_an_email_that_matches_no_one_reads_every_users_page(
    sandbox: Sandbox, connector: Connector
) -> None:
    for n in range(110):
        sandbox.add_user(f"Extra {n}", f"extra.{n}@example.net")
    sandbox.clear_log()
    emails = [*sandbox.salescaling_emails(), "Nobody.Here@Example.org"]

    run = connector.run("check", sandbox.config(salescaling_user_emails=emails))

    users_pages = [e for e in sandbox.requests_log("api") if e["path"] == "/v2/users"]
    assert run.connection_status()["status"] == "SUCCEEDED"
    assert len(users_pages) == 3
    assert any("Nobody.Here@Example.org" in line for line in run.logs("WARN"))
