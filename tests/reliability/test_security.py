"""Security: the token never leaks, the storage host never gets the credentials, the API
URL cannot be pointed at a plain-http remote host, files land only under the staging
directory with names made of integer call ids, and the size guard holds when the
storage host lies about the size.
"""

from __future__ import annotations

import base64
import json
import socket
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from aircall_sandbox.testing import Sandbox
from tests import harness
from tests.harness import ROOT, Connector, ConnectorRun, catalog
from tests.oracle import MIB
from tests.reliability.proxy import ApiProxy
from tests.reliability.support import FINAL_NAME, count, partial_files

API_ID = "sec-id-Qx81"
TOKEN = "tok-7f3e9c-SECRET-d1e2a4"
REVOKED = "tok-REVOKED-0b5c77-OLD"
ALL_STREAMS = catalog(["users", "calls", "recordings"], include_files=True)


def leaks(secret_id: str, secret: str) -> list[str]:
    """The forms a credential could take in output: itself and the Basic-auth header."""
    return [secret, base64.b64encode(f"{secret_id}:{secret}".encode()).decode()]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(
        seed=53, users=6, calls=120, days=5, rate_limit=0, large_recordings=0,
        api_id=API_ID, api_token=TOKEN,
    ) as running:  # fmt: skip
        yield running


@pytest.fixture(autouse=True)
def _neutral(sandbox: Sandbox) -> Iterator[None]:
    sandbox.reset()
    yield
    sandbox.reset()


@pytest.fixture
def debug(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run the connector as `main.py <verb> --debug ...` (the CDK wants the flag after
    the verb; the harness puts the verb last, so a launcher moves it). The tests that use
    it run a process (`process=True`): what they check is all the process writes, stdout
    and stderr."""
    launcher = tmp_path / "debug_main.py"
    launcher.write_text(
        "import runpy, sys\n"
        "sys.argv = [sys.argv[0], sys.argv[1], '--debug', *sys.argv[2:]]\n"
        f"runpy.run_path({str(ROOT / 'main.py')!r}, run_name='__main__')\n"
    )
    monkeypatch.setattr(harness, "connector_command", lambda: [sys.executable, str(launcher)])


def output_of(run: ConnectorRun) -> str:
    return "\n".join([*(json.dumps(m) for m in run.messages), *run.stdout_noise, run.stderr])


def assert_no_secret(node: str, run: ConnectorRun, *secrets: tuple[str, str]) -> None:
    text = output_of(run)
    assert any(m.get("type") == "DEBUG" for m in run.messages), "debug logs were not on"
    count(node, outputs_scanned_for_secrets=1)
    for secret_id, secret in secrets:
        for form in leaks(secret_id, secret):
            assert form not in text, f"{form!r} appears in the output"


# ------------------------------------------------------------------ the token
@pytest.mark.usefixtures("debug")
def test_the_token_never_appears_in_a_successful_debug_read(
    node: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    run = Connector(sandbox.api_url, tmp_path, process=True).run(
        "read", sandbox.config(first_sync_max_calls=10), ALL_STREAMS
    )
    assert run.returncode == 0 and run.ids("recordings")
    assert_no_secret(node, run, (API_ID, TOKEN))


@pytest.mark.usefixtures("debug")
def test_the_token_never_appears_when_retries_log_failed_requests(
    node: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.set_faults(error_next=1, burst_429=1, reset_after_seconds=0.2)
    run = Connector(sandbox.api_url, tmp_path, process=True).run(
        "read", sandbox.config(first_sync_max_calls=10), ALL_STREAMS
    )
    assert run.returncode == 0
    assert_no_secret(node, run, (API_ID, TOKEN))


@pytest.mark.usefixtures("debug")
def test_neither_token_appears_when_a_revoked_token_fails_the_sync(
    node: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    run = Connector(sandbox.api_url, tmp_path, process=True).run(
        "read", sandbox.config(api_token=REVOKED), ALL_STREAMS
    )
    assert run.returncode != 0 and run.errors()
    assert_no_secret(node, run, (API_ID, TOKEN), (API_ID, REVOKED))


@pytest.mark.usefixtures("debug")
def test_the_token_never_appears_in_a_check_with_a_revoked_token(
    node: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    run = Connector(sandbox.api_url, tmp_path, process=True).run(
        "check", sandbox.config(api_token=REVOKED)
    )
    assert run.connection_status()["status"] == "FAILED"
    assert_no_secret(node, run, (API_ID, TOKEN), (API_ID, REVOKED))


@pytest.mark.usefixtures("debug")
def test_the_token_never_appears_in_the_traceback_of_a_crashed_sync(
    node: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """A page Aircall sends without its `calls` list stops the sync with an exception:
    its trace (stack included) must not carry the credentials either."""
    with ApiProxy(sandbox.api_url, sandbox.storage_url) as proxy:
        proxy.on_page = lambda page: {**page, "calls": None}
        run = Connector(proxy.url, tmp_path, process=True).run(
            "read", sandbox.config(), ALL_STREAMS
        )
    assert run.returncode != 0
    assert any(e.get("stack_trace") for e in run.errors())
    assert_no_secret(node, run, (API_ID, TOKEN))


@pytest.mark.usefixtures("debug")
def test_the_token_never_appears_when_the_api_is_unreachable(
    node: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    connector = Connector(f"http://127.0.0.1:{closed}", tmp_path, process=True)
    run = connector.run("check", sandbox.config(), timeout=120)
    assert run.connection_status()["status"] == "FAILED"
    assert_no_secret(node, run, (API_ID, TOKEN))


# ------------------------------------------------------------ the storage host
def test_the_storage_host_never_gets_the_authorization_header_even_after_a_redirect(
    node: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    config = sandbox.config(first_sync_max_calls=8)
    salescaling = {u["id"] for u in sandbox.users() if u["salescaling"]}
    recorded = [c for c in sandbox.calls() if c["has_recording"] and c["user_id"] in salescaling]
    bounced = [c["id"] for c in recorded[-3:]]
    for call in recorded[-3:]:
        sandbox.attach_recording(call["id"], size=call["recording_size"], redirect=True)
    run = Connector(sandbox.api_url, tmp_path).run("read", config, ALL_STREAMS)
    assert run.returncode == 0
    assert set(bounced) <= set(run.ids("recordings"))
    storage = sandbox.requests_log(host="storage")
    redirected = sandbox.requests_log(host="redirect")
    assert {f"/recordings/{i}.mp3" for i in bounced} <= {
        r["path"] for r in redirected if r["status"] == 200
    }
    assert storage and not any(r["authorization"] for r in storage + redirected)
    assert all(r["authorization"] for r in sandbox.requests_log(host="api"))
    count(node, storage_requests_checked=len(storage) + len(redirected))


# ---------------------------------------------------------------- the API URL
# Each would stay on this machine even if it were (wrongly) accepted: 0.0.0.0 is this
# host for Linux, yet not a loopback address; port 9 (discard) has no listener here.
REFUSED_URLS = {
    "plain-http-to-0.0.0.0": "http://0.0.0.0:9",
    "ftp": "ftp://127.0.0.1:9",
    "no-scheme": "127.0.0.1:9",
}
# To save time, the ftp URL is only tried with `read`, the scheme-less one with `check`.
JOBS_SKIPPED = {(REFUSED_URLS["ftp"], "check"), (REFUSED_URLS["no-scheme"], "read")}


@pytest.fixture(scope="module")
def refused_runs(
    sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], ConnectorRun]:
    jobs = [(url, verb) for url in REFUSED_URLS.values() for verb in ("check", "read")]
    jobs = [job for job in jobs if job not in JOBS_SKIPPED]

    def run(job: tuple[str, str]) -> ConnectorRun:
        url, verb = job
        connector = Connector(url, tmp_path_factory.mktemp("refused"))
        if verb == "check":
            return connector.run("check", sandbox.config(), timeout=60)
        return connector.run("read", sandbox.config(), ALL_STREAMS, timeout=60)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(jobs, pool.map(run, jobs), strict=True))


@pytest.mark.parametrize("url", list(REFUSED_URLS.values()), ids=list(REFUSED_URLS))
def test_a_non_https_non_loopback_api_url_is_refused_by_check_and_read(
    node: str, url: str, refused_runs: dict[tuple[str, str], ConnectorRun]
) -> None:
    count(node, inputs_tried=1)
    if (url, "check") in refused_runs:
        status = refused_runs[(url, "check")].connection_status()
        assert status["status"] == "FAILED" and "AIRCALL_API_URL" in status["message"]
    if (url, "read") in refused_runs:
        read = refused_runs[(url, "read")]
        assert read.returncode != 0 and not read.of_type("RECORD")
        assert any("AIRCALL_API_URL" in e["message"] for e in read.errors()), read.errors()


# ------------------------------------------------------------ files and sizes
def test_files_are_named_from_integer_call_ids_and_stay_under_the_staging_directory(
    node: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """Hostile answers: call ids that are paths, a Content-Type and a Content-Disposition
    that try to choose the file name. Only `<integer id>.<known extension>` files appear,
    all under `<staging>/recordings/`, and nothing at all outside the work directory."""
    hostile_ids = ["../../../escaped", "2100000001/../../escaped", "..", "/tmp/escaped"]

    def rename(calls: list[Any]) -> list[Any]:
        for call, hostile in zip(calls[:4], hostile_ids, strict=False):
            if isinstance(call, dict):
                call["id"] = hostile
        return calls

    workdir = tmp_path / "work"
    with ApiProxy(sandbox.api_url, sandbox.storage_url, proxy_storage=True) as proxy:
        proxy.on_calls = rename
        proxy.storage_headers = {
            "Content-Type": "audio/mpeg; name=../../escaped.sh",
            "Content-Disposition": 'attachment; filename="../../../escaped.mp3"',
        }
        run = Connector(proxy.url, workdir).run(
            "read", sandbox.config(first_sync_max_calls=20), ALL_STREAMS
        )
    count(node, inputs_tried=len(hostile_ids) + 2)
    assert run.returncode == 0 and run.ids("recordings")
    assert [p.name for p in tmp_path.iterdir()] == ["work"]
    staging = workdir / "staging"
    written = [p for p in workdir.rglob("*") if p.is_file()]
    for path in written:
        if path.parent == staging / "recordings":
            assert FINAL_NAME.match(path.name), path
        else:
            assert path.parent == workdir and path.suffix in (".json", ".stderr"), path
    assert not any("escaped" in str(p) for p in tmp_path.rglob("*"))
    assert not Path("/tmp/escaped").exists()
    for message in run.record_messages("recordings"):
        record = message["record"]
        assert FINAL_NAME.match(record["data"]["file_name"])
        assert record["data"]["file_name"] == f"{record['data']['call_id']}.mp3"
        assert Path(record["file_reference"]["staging_file_url"]).parent == staging / "recordings"


def test_the_size_limit_holds_against_a_storage_host_that_lies_about_the_size(
    node: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The storage host announces 500 KB (Content-Range of the size probe) but streams
    1 GiB without a Content-Length: with a 1 MiB limit the connector stops reading
    early (the server could push at most the socket buffers, tens of MiB, past what it
    read), imports nothing for that call and leaves no file behind."""
    user = next(u for u in sandbox.users() if u["salescaling"])
    liar = sandbox.add_calls(
        1, status="done", recording=False, user_id=user["id"], started_ago_seconds=600
    )[0]["id"]
    sandbox.attach_recording(liar, size=500_000, lying_length=True, lying_actual_size=1024 * MIB)
    connector = Connector(sandbox.api_url, tmp_path)
    run = connector.run(
        "read", sandbox.config(first_sync_max_calls=3, max_recording_size_mb=1), ALL_STREAMS
    )
    count(node, inputs_tried=1)
    assert run.returncode == 0
    assert liar not in run.ids("recordings") and run.ids("recordings")
    assert not list((connector.staging / "recordings").glob(f"*{liar}*"))
    assert partial_files(connector.staging) == []
    sent = [
        r["bytes_sent"] for r in sandbox.requests_log(host="storage")
        if r["path"] == f"/recordings/{liar}.mp3" and r["range"] is None
    ]  # fmt: skip
    assert sent and max(sent) < 64 * MIB, f"the connector read on: {sent}"
