"""Two connections on one Aircall company: records to a warehouse, files to S3.

Aircall's rate limit is per company (60 or 120 requests a minute), shared by every
integration, and a 429 blocks everyone for up to a minute. Each connection paces at its
own `requests_per_minute`; docs/aircall-salescaling.md ("Step 5") tells the admin to
give them shares whose sum stays under the company's limit. These tests run both syncs at
the same time, as two processes against ONE sandbox whose token bucket is the company's
(burst 2: only evenly spaced requests get through), and count the 429s in the sandbox's
request log.

Telling the two apart in the log: the files connection's import window is one day
shorter (13 days, not 14), so its `/v1/calls` listings carry another `from`; every call
of the sandbox is within both windows, so both import the same calls. `/v2/users` is the
records connection's alone.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, ConnectorRun, catalog

# Two processes paced at the company's real rates, side by side: 20 to 50 s each (`make slow`).
pytestmark = pytest.mark.slow

DAY = 86_400
# docs/aircall-salescaling.md, "Step 5", for a company allowed 120 requests a minute:
# records 80, files 20, and 20 a minute left to the company's other integrations.
COMPANY_LIMIT = 120
RECORDS_PACE = 80
FILES_PACE = 20
BURST = 2  # the token bucket's size: a client must space its requests evenly
RECORDS_WINDOW_DAYS = 14
FILES_WINDOW_DAYS = 13
FILES_MODE = {"delivery_method": {"delivery_type": "use_file_transfer"}}


@dataclass
class Request:
    t: float
    connection: str  # "records" or "files"
    status: int


@dataclass
class TwoSyncs:
    records: ConnectorRun
    files: ConnectorRun
    log: list[Request]

    def times(self, connection: str) -> list[float]:
        return [r.t for r in self.log if r.connection == connection]

    def statuses(self) -> list[int]:
        return [r.status for r in self.log]


def company(users: int, calls: int) -> Sandbox:
    """One Aircall company: its calls in the last 12 days, its limit a token bucket."""
    return Sandbox(
        seed=11,
        users=users,
        calls=calls,
        days=12,
        rate_limit=COMPANY_LIMIT,
        rate_bucket_burst=BURST,
    )


def attributed(sandbox: Sandbox, records_started: float) -> list[Request]:
    """The API requests of the log, each told to belong to one connection."""
    boundary = records_started - (RECORDS_WINDOW_DAYS + FILES_WINDOW_DAYS) / 2 * DAY
    log = []
    for entry in sandbox.requests_log("api"):
        if entry["path"] == "/v2/users":
            connection = "records"
        elif entry["path"] == "/v1/ping":
            # The sync's clock (Aircall's `Date`): read from the users page in the records
            # connection, asked with a ping in the files connection, which has no users.
            connection = "files"
        elif entry["path"] == "/v1/calls" and "from" in entry["query"]:
            connection = "records" if int(entry["query"]["from"]) < boundary else "files"
        else:
            raise AssertionError(f"a request neither connection makes on a first sync: {entry}")
        log.append(Request(entry["t"], connection, entry["status"]))
    return log


def run_both_at_once(
    sandbox: Sandbox,
    workdir: Path,
    records_pace: int,
    files_pace: int,
    first_sync_max_calls: int,
) -> TwoSyncs:
    """Start the records sync and the files sync as two processes, then wait for both."""
    # Processes: two syncs at once (in-process runs take turns).
    records = Connector(api_url=sandbox.api_url, workdir=workdir / "records", process=True)
    files = Connector(api_url=sandbox.api_url, workdir=workdir / "files", process=True)
    common: dict[str, Any] = {"first_sync_max_calls": first_sync_max_calls}
    records_config = sandbox.config(
        requests_per_minute=records_pace, import_window_days=RECORDS_WINDOW_DAYS, **common
    )
    files_config = sandbox.config(
        requests_per_minute=files_pace,
        import_window_days=FILES_WINDOW_DAYS,
        **FILES_MODE,
        **common,
    )
    sandbox.clear_log()
    now = sandbox.now()
    with ThreadPoolExecutor(max_workers=2) as pool:
        records_run = pool.submit(
            records.run, "read", records_config, catalog(["users", "calls", "recordings"])
        )
        files_run = pool.submit(
            files.run, "read", files_config, catalog(["recordings"], include_files=False)
        )
        both = TwoSyncs(records_run.result(), files_run.result(), [])
    both.log = attributed(sandbox, now)
    return both


def test_two_connections_at_their_documented_paces_share_the_company_limit_without_a_429(
    tmp_path: Path,
) -> None:
    """Done when: both syncs succeed, each sent requests while the other was sending,
    and the company's bucket refused none of them."""
    # 800 users are 16 pages that only the records connection reads: it keeps sending
    # (24 requests, 17 s at its pace) while the files connection lists (8 pages, 21 s).
    with company(users=800, calls=3000) as sandbox:
        both = run_both_at_once(sandbox, tmp_path, RECORDS_PACE, FILES_PACE, 100)

    assert both.records.returncode == 0, both.records.errors()
    assert both.files.returncode == 0, both.files.errors()
    assert both.records.records("recordings") and both.files.records("recordings")
    records, files = both.times("records"), both.times("files")
    overlap = (max(records[0], files[0]), min(records[-1], files[-1]))
    in_overlap = [r for r in both.log if overlap[0] <= r.t <= overlap[1]]
    assert overlap[1] - overlap[0] >= 8, overlap  # seconds during which both were sending
    assert sum(r.connection == "records" for r in in_overlap) >= 10
    assert sum(r.connection == "files" for r in in_overlap) >= 3
    assert both.statuses().count(429) == 0


def test_two_connections_each_at_the_full_company_rate_trip_the_limit(tmp_path: Path) -> None:
    """The other side of the rule, and proof that the bed above can see a 429: each
    connection alone would be within the limit, their sum is twice it."""
    with company(users=100, calls=3000) as sandbox:
        both = run_both_at_once(sandbox, tmp_path, COMPANY_LIMIT, COMPANY_LIMIT, 100)

    assert both.statuses().count(429) > 0
