"""Shared helpers of the reliability tests: syncs run to completion, file checks,
committed records, and the figures the README quotes.

Expected records come from `tests/oracle.py` (the sandbox's model), never from the
connector's own output unless a test says so (a fault-free run used as the reference of
a faulty one).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aircall_sandbox.recordings import recording_sha256
from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, ConnectorRun
from tests.oracle import MIB

FINAL_NAME = re.compile(r"^\d+\.(mp3|wav|ogg|m4a|webm)$")
# Aircall's body of an application error, all four text fields set (aircall/errors.py).
APPLICATION_ERROR = {
    "error": "Bad Request",
    "message": "BAD_REQUEST",
    "errors": "Injected by the reliability tests",
    "troubleshoot": "BAD_REQUEST",
    "success": False,
    "data": None,
}

# --------------------------------------------------------------------------- figures
# What the README's "Reliability" section quotes, summed over the session and shown by
# conftest.py at the end of the run, split by the outcome of the test that counted it.
FIGURES: dict[str, Counter[str]] = defaultdict(Counter)


def count(request_node: str, **amounts: int) -> None:
    FIGURES[request_node].update(amounts)


def count_api_faults(node: str, sandbox: Sandbox) -> int:
    """Faults the sandbox injected on the API host since the log was cleared."""
    log = sandbox.requests_log(host="api")
    server_errors = sum(1 for r in log if r["status"] in (500, 502, 503, 504))
    limited = sum(1 for r in log if r["status"] == 429)
    dropped = sum(1 for r in log if r["status"] is None)
    count(node, faults_5xx=server_errors, faults_429=limited, faults_no_answer=dropped)
    return server_errors + limited + dropped


# ------------------------------------------------------------------------ running
@dataclass
class Sequence:
    """Syncs run one after another, each from the last state the previous one emitted."""

    runs: list[ConnectorRun] = field(default_factory=list)
    state: list[dict[str, Any]] | None = None

    def ids(self, stream: str) -> list[int]:
        return [i for run in self.runs for i in run.ids(stream)]

    def record_messages(self, stream: str) -> list[dict[str, Any]]:
        return [m for run in self.runs for m in run.record_messages(stream)]

    def take(self, run: ConnectorRun) -> ConnectorRun:
        """Keep a run and carry its state on; a stream that emitted no state in this run
        keeps the state it had (that is what Airbyte does)."""
        self.runs.append(run)
        merged = {s["stream"]["stream_descriptor"]["name"]: s for s in self.state or []}
        for state in run.states():
            merged[state["stream"]["stream_descriptor"]["name"]] = state
        self.state = list(merged.values()) or None
        return run


def clear_failure(run: ConnectorRun) -> str | None:
    """Why a run that exited non-zero did so, if it said it clearly: an error TRACE with a
    message (a retryable failure is `transient_error` or `system_error`). None if it died
    silently, which is never acceptable."""
    errors = [e for e in run.errors() if e.get("message")]
    if not errors:
        return None
    return "; ".join(f"{e.get('failure_type')}: {e['message']}" for e in errors)


def sync_to_completion(
    connector: Connector,
    config: Mapping[str, Any],
    catalog: Mapping[str, Any],
    sequence: Sequence | None = None,
    attempts: int = 3,
) -> Sequence:
    """Run `read` until it exits 0, each attempt from the last state; every failed attempt
    must have ended with a clear error trace (never a silent failure)."""
    sequence = sequence if sequence is not None else Sequence()
    for _ in range(attempts):
        run = sequence.take(connector.run("read", config, catalog, state=sequence.state))
        if run.returncode == 0:
            assert not run.errors(), f"exit 0 but an error trace: {run.errors()}"
            return sequence
        reason = clear_failure(run)
        assert reason is not None, (
            f"read exited {run.returncode} without an error trace; stderr: {run.stderr[-2000:]}"
        )
    raise AssertionError(f"read did not complete in {attempts} attempts: {clear_failure(run)}")


def committed_ids(run: ConnectorRun, stream: str) -> list[int]:
    """Ids of the records a destination keeps from a run: those followed by a STATE of
    their stream (a killed run's records after its last state are replayed next time)."""
    key = "call_id" if stream == "recordings" else "id"
    ids: list[int] = []
    pending: list[int] = []
    for message in run.messages:
        if message.get("type") == "RECORD" and message["record"]["stream"] == stream:
            pending.append(message["record"]["data"][key])
        elif message.get("type") == "STATE":
            name = message["state"]["stream"]["stream_descriptor"]["name"]
            if name == stream:
                ids += pending
                pending = []
    return ids


# -------------------------------------------------------------------------- files
def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(MIB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def incomplete_final_files(staging: Path, sandbox: Sandbox) -> list[str]:
    """Files under a final name whose size or sha256 differs from what the sandbox serves;
    also any file whose name is not `<integer>.<ext>`."""
    folder = staging / "recordings"
    problems: list[str] = []
    if not folder.exists():
        return problems
    model = {int(c["id"]): c for c in sandbox.calls()}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue  # a partial file, not under a final name
        if not FINAL_NAME.match(path.name):
            problems.append(f"{path.name}: not named after an integer call id")
            continue
        call = model.get(int(path.name.split(".")[0]))
        if call is None or call["served_size"] is None:
            problems.append(f"{path.name}: no such recording in the sandbox")
            continue
        size = int(call["served_size"])
        if path.stat().st_size != size:
            problems.append(f"{path.name}: {path.stat().st_size} bytes, expected {size}")
        elif sha256_of(path) != recording_sha256(int(call["id"]), size, sandbox.seed):
            problems.append(f"{path.name}: sha256 differs from the served recording")
    return problems


def partial_files(staging: Path) -> list[str]:
    folder = staging / "recordings"
    return sorted(p.name for p in folder.glob(".*")) if folder.exists() else []


def full_downloads(sandbox: Sandbox) -> Counter[str]:
    """Full (not ranged) recording GETs the storage hosts answered with 200, by path."""
    log = sandbox.requests_log(host="storage") + sandbox.requests_log(host="redirect")
    return Counter(r["path"] for r in log if r["range"] is None and r["status"] == 200)
