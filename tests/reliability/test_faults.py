"""Fault injection: the connector runs against a sandbox that fails.

For every fault the `calls` and `recordings` a sync emits equal those of a fault-free
run on the same sandbox state, and the sync ends with exit 0, or with a clear error
trace from which a re-run completes (never a silent partial success).

One sandbox serves the whole module: 1,500 done calls over 10 days with small recordings,
three calls in progress, and a config that lists one Salescaling user, so that the
40 newest eligible calls take about a dozen pages of `/v1/calls`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, ConnectorRun, catalog
from tests.oracle import done_calls, eligible_calls, newest
from tests.reliability.proxy import ApiProxy
from tests.reliability.support import (
    APPLICATION_ERROR,
    Sequence,
    clear_failure,
    count,
    count_api_faults,
    full_downloads,
    incomplete_final_files,
    partial_files,
    sync_to_completion,
)

CAP = 40
CATALOG = catalog(["users", "calls", "recordings"], include_files=True)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=23, users=8, calls=0, days=10, rate_limit=0, large_recordings=0) as running:
        running.add_bulk_calls(1500, days=10, max_recording_size=200_000)
        running.add_calls(3, status="in_progress", started_ago_seconds=120)
        yield running


@pytest.fixture(scope="module")
def config(sandbox: Sandbox) -> dict[str, Any]:
    ana = next(u for u in sandbox.users() if u["salescaling"])
    return sandbox.config(
        salescaling_user_emails=[ana["email"]],  # as Aircall has it: padded, mixed case
        first_sync_max_calls=CAP,
        requests_per_minute=1000,
    )


@pytest.fixture(scope="module")
def baseline(
    sandbox: Sandbox, config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> ConnectorRun:
    """The fault-free run every faulty run is compared with."""
    run = Connector(sandbox.api_url, tmp_path_factory.mktemp("baseline")).run(
        "read", config, CATALOG, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run


@pytest.fixture(autouse=True)
def _neutral(sandbox: Sandbox, baseline: ConnectorRun) -> Iterator[None]:
    sandbox.reset()
    yield
    sandbox.reset()


def connector(url: str, tmp_path: Path, **env: str) -> Connector:
    return Connector(api_url=url, workdir=tmp_path, extra_env=env)


def assert_same_as_baseline(
    node: str, sequence: Sequence, baseline: ConnectorRun, staging: Path, sandbox: Sandbox
) -> None:
    for stream in ("calls", "recordings"):
        expected, emitted = set(baseline.ids(stream)), set(sequence.ids(stream))
        count(node, records_expected=len(expected), records_lost=len(expected - emitted))
        assert emitted == expected, (
            f"{stream}: lost {sorted(expected - emitted)}, extra {sorted(emitted - expected)}"
        )
    assert incomplete_final_files(staging, sandbox) == []


def faulty_sync(
    node: str,
    sandbox: Sandbox,
    connector: Connector,
    config: dict[str, Any],
    baseline: ConnectorRun,
    fetched_twice: int = 0,
) -> Sequence:
    """Sync to completion under the faults set, compare with the baseline; a sync done in
    one run fetches each recording once (but `fetched_twice`, deliberately cut short)."""
    sandbox.clear_log()
    sequence = sync_to_completion(connector, config, CATALOG)
    sandbox.clear_faults()
    count_api_faults(node, sandbox)
    assert_same_as_baseline(node, sequence, baseline, connector.staging, sandbox)
    if len(sequence.runs) == 1:  # a retried request never fetches a recording again
        downloads = full_downloads(sandbox)
        assert set(downloads) == {f"/recordings/{i}.mp3" for i in baseline.ids("recordings")}
        assert sum(downloads.values()) == len(downloads) + fetched_twice, downloads
    return sequence


def test_the_fault_free_run_emits_what_the_contract_says(
    sandbox: Sandbox, config: dict[str, Any], baseline: ConnectorRun
) -> None:
    now, calls = sandbox.now(), sandbox.calls()
    expected_calls = newest(done_calls(calls, now, 14), CAP)
    eligible = eligible_calls(calls, sandbox.users(), config["salescaling_user_emails"], now, 14)
    assert sorted(baseline.ids("calls")) == sorted(expected_calls)
    assert sorted(baseline.ids("recordings")) == sorted(newest(eligible, CAP))


def test_ten_percent_of_api_answers_failing_with_500_502_503_changes_nothing(
    node: str, sandbox: Sandbox, config: dict[str, Any], baseline: ConnectorRun, tmp_path: Path
) -> None:
    sandbox.set_faults(error_rate=0.1, seed=3)
    faulty_sync(node, sandbox, connector(sandbox.api_url, tmp_path), config, baseline)
    statuses = [r["status"] for r in sandbox.requests_log(host="api")]
    assert len({500, 502, 503} & set(statuses)) >= 2, f"too few 5xx injected: {statuses}"


@pytest.mark.parametrize("unit", ["s", "ms"])
def test_429_bursts_are_waited_out_until_the_reset_and_change_nothing(
    unit: str,
    node: str,
    sandbox: Sandbox,
    config: dict[str, Any],
    baseline: ConnectorRun,
    tmp_path: Path,
) -> None:
    sandbox.set_faults(burst_429=2, reset_unit=unit, reset_after_seconds=0.5)
    faulty_sync(node, sandbox, connector(sandbox.api_url, tmp_path), config, baseline)
    log = sorted(sandbox.requests_log(host="api"), key=lambda r: r["t"])
    refused = [i for i, r in enumerate(log) if r["status"] == 429]
    assert len(refused) == 2
    for index in refused:
        retry = log[index + 1]
        assert retry["t"] - log[index]["t"] >= 0.45, "the retry came before the reset"


def test_dropped_connections_are_retried_and_change_nothing(
    node: str, sandbox: Sandbox, config: dict[str, Any], baseline: ConnectorRun, tmp_path: Path
) -> None:
    sandbox.set_faults(drop_next=2, drop_rate=0.05, seed=2)
    faulty_sync(node, sandbox, connector(sandbox.api_url, tmp_path), config, baseline)
    assert sum(1 for r in sandbox.requests_log(host="api") if r["status"] is None) >= 2


def test_answers_slower_than_the_read_timeout_are_retried_and_change_nothing(
    node: str, sandbox: Sandbox, config: dict[str, Any], baseline: ConnectorRun, tmp_path: Path
) -> None:
    sandbox.set_faults(slow_next=1, slow_seconds=3.0)
    quick = connector(sandbox.api_url, tmp_path, AIRCALL_TIMEOUT_SECONDS="1")
    faulty_sync(node, sandbox, quick, config, baseline)
    count(node, faults_slow=1)


def test_one_malformed_json_body_is_retried_and_changes_nothing(
    node: str, sandbox: Sandbox, config: dict[str, Any], baseline: ConnectorRun, tmp_path: Path
) -> None:
    sandbox.set_faults(malformed_json_next=1, path_prefix="/v1/calls")
    faulty_sync(node, sandbox, connector(sandbox.api_url, tmp_path), config, baseline)
    assert sandbox.state(include_calls=False)["faults"]["malformed_json_next"] == 0
    count(node, faults_malformed_json=1)


def test_storage_host_503s_on_a_recording_are_retried_and_change_nothing(
    node: str, sandbox: Sandbox, config: dict[str, Any], baseline: ConnectorRun, tmp_path: Path
) -> None:
    targets = baseline.ids("recordings")[:2]
    model = {c["id"]: c for c in sandbox.calls()}
    for call_id in targets:
        sandbox.attach_recording(call_id, size=model[call_id]["recording_size"], fail_next=1)
    try:
        faulty_sync(node, sandbox, connector(sandbox.api_url, tmp_path), config, baseline)
    finally:
        for call_id in targets:
            sandbox.attach_recording(call_id, size=model[call_id]["recording_size"])
    refused = [r for r in sandbox.requests_log(host="storage") if r["status"] == 503]
    assert len(refused) == 2
    count(node, faults_storage_503=len(refused))


def test_a_recording_body_cut_short_once_is_fetched_again_and_changes_nothing(
    node: str, sandbox: Sandbox, config: dict[str, Any], baseline: ConnectorRun, tmp_path: Path
) -> None:
    with ApiProxy(sandbox.api_url, sandbox.storage_url, proxy_storage=True) as proxy:
        proxy.cut_once = {f"/recordings/{i}.mp3" for i in baseline.ids("recordings")[:3]}
        faulty_sync(node, sandbox, connector(proxy.url, tmp_path), config, baseline, 3)
        assert proxy.cuts == 3
    assert partial_files(tmp_path / "staging") == []
    count(node, faults_short_body=3)


def test_an_expired_recording_url_is_refreshed_and_changes_nothing(
    node: str, sandbox: Sandbox, config: dict[str, Any], baseline: ConnectorRun, tmp_path: Path
) -> None:
    """The proxy revokes the recording URLs of three calls as soon as a page lists them,
    so the connector's first request with them meets the storage host's expiry answer."""
    targets = set(baseline.ids("recordings")[:3])

    def expire_after_listing(calls: list[Any]) -> list[Any]:
        listed = [c["id"] for c in calls if isinstance(c, dict) and c.get("id") in targets]
        if listed:
            sandbox.expire_recording_urls(listed)
        return calls

    with ApiProxy(sandbox.api_url, sandbox.storage_url) as proxy:
        proxy.on_calls = expire_after_listing
        faulty_sync(node, sandbox, connector(proxy.url, tmp_path), config, baseline)
    expired = [r for r in sandbox.requests_log(host="storage") if r["status"] == 403]
    refreshed = {r["path"] for r in sandbox.requests_log(host="api")} & {
        f"/v1/calls/{i}" for i in targets
    }
    assert len(expired) >= 3 and len(refreshed) == 3
    count(node, faults_expired_url=len(expired))


def test_a_recording_cut_short_on_every_try_is_imported_once_it_is_served_whole(
    node: str, sandbox: Sandbox, config: dict[str, Any], baseline: ConnectorRun, tmp_path: Path
) -> None:
    """A persistent storage fault cannot be overcome within one sync: the sync must then
    either fail with a clear error or keep the call watched, and a later sync from its
    state imports the recording once the storage host serves it whole. Either way the
    union equals the fault-free run and nothing partial is left under a final name."""
    now = sandbox.now()
    model = {c["id"]: c for c in sandbox.calls()}
    target = next(i for i in baseline.ids("recordings") if model[i]["ended_at"] < now - 7200)
    size = model[target]["recording_size"]
    sandbox.attach_recording(target, size=size, short_body=True)
    cut = connector(sandbox.api_url, tmp_path)
    try:
        sequence = Sequence()
        first = sequence.take(cut.run("read", config, CATALOG, timeout=120))
        assert target not in first.ids("recordings")
        assert first.returncode == 0 or clear_failure(first), "failed without an error trace"
        assert incomplete_final_files(cut.staging, sandbox) == []
        count(node, faults_short_body=3)
    finally:
        sandbox.attach_recording(target, size=size)
    sync_to_completion(cut, config, CATALOG, sequence)
    assert_same_as_baseline(node, sequence, baseline, cut.staging, sandbox)


def test_a_rate_limit_that_outlasts_the_retries_ends_the_sync_with_a_transient_error(
    node: str, sandbox: Sandbox, config: dict[str, Any], tmp_path: Path
) -> None:
    """Aircall's limit is shared by every integration of the company, so it can outlast
    the retries: the sync must then fail loudly (a retryable error trace, non-zero exit),
    not end as a success with fewer records. Resuming afterwards is the next test's."""
    sandbox.set_faults(burst_429=1000, reset_after_seconds=0, path_prefix="/v1/calls")
    failed = connector(sandbox.api_url, tmp_path).run("read", config, CATALOG, timeout=180)
    count_api_faults(node, sandbox)
    assert failed.returncode != 0
    assert any(e.get("failure_type") == "transient_error" for e in failed.errors()), failed.errors()
    assert failed.ids("calls") == []
    assert any("rate limit" in str(e.get("message", "")).lower() for e in failed.errors())


def test_a_calls_listing_that_fails_for_good_loses_no_recording_after_the_resume(
    node: str, sandbox: Sandbox, config: dict[str, Any], baseline: ConnectorRun, tmp_path: Path
) -> None:
    with ApiProxy(sandbox.api_url, sandbox.storage_url) as proxy:
        broken = connector(proxy.url, tmp_path)
        proxy.on_request = lambda path, query: (
            (400, APPLICATION_ERROR) if path == "/v1/calls" else None
        )
        sequence = Sequence()
        failed = sequence.take(broken.run("read", config, CATALOG, timeout=120))
        assert failed.returncode != 0 and failed.errors()
        proxy.on_request = None
        sync_to_completion(broken, config, CATALOG, sequence)
    count(node, faults_listing_400=proxy.answered)
    assert_same_as_baseline(node, sequence, baseline, broken.staging, sandbox)
