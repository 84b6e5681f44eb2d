"""Crash and resume: `read` is killed with SIGKILL (no chance to clean up) early, midway
and late, then re-run from the last state it emitted until a run completes.

What must hold, against an uninterrupted run on the same sandbox:
- the union of the records emitted equals the uninterrupted run's, for `calls` and
  `recordings`;
- a record covered by a STATE message is never emitted again (records after the last
  state of a killed run are replayed: Airbyte did not commit them);
- every file under a final name in `<staging>/recordings/` is complete (size and
  sha256 of what the storage host serves); partial files only ever have a `.*.part` name;
- no recording is downloaded twice except those in flight at the kill: the connector
  downloads a batch of 4 in a pool of 4 and saves state after each batch, so at most
  4 re-downloads per kill are allowed.

Records are counted on stdout: 40 `calls` come first (one slice), then 40 `recordings`.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, ConnectorRun, catalog
from tests.reliability.support import (
    Sequence,
    clear_failure,
    committed_ids,
    count,
    full_downloads,
    incomplete_final_files,
    partial_files,
    sha256_of,
)

CAP = 40
CATALOG = catalog(["calls", "recordings"], include_files=True)
IN_FLIGHT_PER_KILL = 4  # DOWNLOAD_WORKERS: one batch of downloads


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=31, users=8, calls=0, days=10, rate_limit=0, large_recordings=0) as running:
        running.add_bulk_calls(600, days=10, max_recording_size=400_000)
        running.add_calls(2, status="in_progress", started_ago_seconds=60)
        yield running


@pytest.fixture(scope="module")
def config(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.config(first_sync_max_calls=CAP, requests_per_minute=1000)


@pytest.fixture(scope="module")
def uninterrupted(
    sandbox: Sandbox, config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> ConnectorRun:
    run = Connector(sandbox.api_url, tmp_path_factory.mktemp("uninterrupted")).run(
        "read", config, CATALOG
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.ids("calls")) == CAP and len(run.ids("recordings")) == CAP
    return run


@dataclass
class Resumed:
    scenario: str
    connector: Connector
    sequence: Sequence
    downloads: list[Counter[str]]  # full recording GETs answered 200, one Counter per run


def killed_then_resumed(
    scenario: str, sandbox: Sandbox, config: dict[str, Any], workdir: Path
) -> Resumed:
    """Kill successive runs after these many records each, then run to completion."""
    connector = Connector(sandbox.api_url, workdir)
    resumed = Resumed(scenario, connector, Sequence(), [])

    def read(kill_at: int | None) -> ConnectorRun:
        sandbox.clear_log()
        if kill_at is None:
            run = connector.run("read", config, CATALOG, state=resumed.sequence.state)
        else:
            run = connector.run(
                "read", config, CATALOG, resumed.sequence.state, 300, kill_after_records=kill_at
            )
        resumed.downloads.append(full_downloads(sandbox))
        return resumed.sequence.take(run)

    # Every answer takes 20 ms, so the connector cannot finish the sync in the moment
    # between writing a record and the test reading it: the SIGKILL lands mid-sync.
    sandbox.set_faults(latency_ms=20)
    try:
        for point in SCENARIOS[scenario]:
            run = read(point)
            assert run.returncode == -signal.SIGKILL, f"not killed mid-sync at record {point}"
    finally:
        sandbox.clear_faults()
    for _ in range(3):
        run = read(None)
        if run.returncode == 0:
            return resumed
        assert clear_failure(run), f"read exited {run.returncode} silently: {run.stderr[-2000:]}"
    raise AssertionError("the resumed sync did not complete in 3 runs")


SCENARIOS = {
    "early": [3],  # inside `calls`, before any state
    "midway": [CAP + 10],  # ten recordings in
    "late": [2 * CAP - 6],  # in the last but one batch of downloads
    "three_kills_in_a_row": [CAP + 2, 5, 9],
}


@pytest.fixture(params=list(SCENARIOS), scope="module")
def resumed(
    request: pytest.FixtureRequest,
    sandbox: Sandbox,
    config: dict[str, Any],
    uninterrupted: ConnectorRun,
    tmp_path_factory: pytest.TempPathFactory,
) -> Resumed:
    workdir = tmp_path_factory.mktemp(f"killed-{request.param}")
    return killed_then_resumed(request.param, sandbox, config, workdir)


def test_the_union_of_records_equals_the_uninterrupted_run(
    node: str, resumed: Resumed, uninterrupted: ConnectorRun
) -> None:
    staging = resumed.connector.staging
    count(node, kills_survived=len(SCENARIOS[resumed.scenario]))
    count(node, stale_part_files=len(partial_files(staging)))
    for stream in ("calls", "recordings"):
        expected, emitted = set(uninterrupted.ids(stream)), set(resumed.sequence.ids(stream))
        count(node, records_expected=len(expected), records_lost=len(expected - emitted))
        assert emitted == expected, (
            f"{stream}: lost {sorted(expected - emitted)}, extra {sorted(emitted - expected)}"
        )


def test_no_record_covered_by_a_state_is_emitted_again(resumed: Resumed) -> None:
    for stream in ("calls", "recordings"):
        committed = [i for run in resumed.sequence.runs for i in committed_ids(run, stream)]
        assert len(committed) == len(set(committed)), f"{stream} committed twice"
        assert set(committed) == set(resumed.sequence.ids(stream))


def test_every_file_under_a_final_name_is_complete(resumed: Resumed, sandbox: Sandbox) -> None:
    staging = resumed.connector.staging
    assert incomplete_final_files(staging, sandbox) == []
    assert all(name.endswith(".part") for name in partial_files(staging))


def test_each_emitted_recording_points_at_its_complete_file(resumed: Resumed) -> None:
    last: dict[int, dict[str, Any]] = {}
    for message in resumed.sequence.record_messages("recordings"):
        last[message["record"]["data"]["call_id"]] = message["record"]
    for call_id, record in last.items():
        path = Path(record["file_reference"]["staging_file_url"])
        assert path.parent == resumed.connector.staging / "recordings"
        assert path.stat().st_size == record["data"]["size_bytes"], call_id
        assert sha256_of(path) == record["data"]["sha256"], call_id


def test_a_recording_committed_before_a_kill_is_never_downloaded_again(resumed: Resumed) -> None:
    runs, downloads = resumed.sequence.runs, resumed.downloads
    for index, run in enumerate(runs):
        committed = {f"/recordings/{i}.mp3" for i in committed_ids(run, "recordings")}
        later = {path for counter in downloads[index + 1 :] for path in counter}
        assert not committed & later, f"run {index}: committed, then fetched again"


def test_at_most_the_batch_in_flight_is_downloaded_again_per_kill(
    node: str, resumed: Resumed, sandbox: Sandbox
) -> None:
    """A kill costs at most the downloads of one batch (4, the pool size), more only if
    the batch holds calls that share a started_at second (batches never split one)."""
    started = {f"/recordings/{c['id']}.mp3": c["started_at"] for c in sandbox.calls()}
    runs, downloads = resumed.sequence.runs, resumed.downloads
    again = 0
    for index, run in enumerate(runs[:-1]):
        committed = {f"/recordings/{i}.mp3" for i in committed_ids(run, "recordings")}
        in_flight = set(downloads[index]) - committed
        fetched_later = {path for counter in downloads[index + 1 :] for path in counter}
        again += len(in_flight & fetched_later)
        seconds = Counter(started[path] for path in in_flight)
        ties = sum(n for n in seconds.values() if n > 1)
        assert len(in_flight) <= IN_FLIGHT_PER_KILL + ties, sorted(in_flight)
    total = sum(sum(counter.values()) for counter in downloads)
    assert again == total - len({path for counter in downloads for path in counter})
    count(node, recordings_downloaded_again=again)
