"""A simulated day: 96 syncs, one every 15 minutes of sandbox time, against a scenario.

Each sync is the connector as a process (tests/harness.py), its clock moved to the
sandbox's with libfaketime, started from the last STATE per stream of the previous sync
(as Airbyte passes it). Before sync k the sandbox clock is set to ``T[k]`` and the
account held at ``T[k]`` (``/_sandbox/horizon``): the clock keeps running during the
sync (URLs expire, the rate limit counts real seconds), but no event of the scenario
after ``T[k]`` shows up mid-sync, so what sync k can see is exactly what the oracle
says was ready at ``T[k]``.

libfaketime 0.9.10 (Debian 12) with ``FAKETIME_DONT_FAKE_MONOTONIC=1`` makes Python's
``time.sleep`` fail with EINVAL (it sleeps with an absolute CLOCK_MONOTONIC deadline that
the library shifts); without it, the monotonic clock gets the same offset and still runs
at real speed, so sleeps and the client's pacing keep real time. The offset mode
(``FAKETIME="+<n>s"``) is used, with the monotonic clock faked. One known limit of that
mode: ``threading.Event.wait(timeout)`` never returns under it (pthread_cond_timedwait is
shifted too); the day's syncs have never hit it.
"""

from __future__ import annotations

import glob
import json
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aircall_sandbox.scenario import DayScenario, generate_day, scenario_to_json
from aircall_sandbox.testing import Sandbox
from tests.day.oracle import DayExpectation, Emitted, SyncConfig, expect_day
from tests.day.oracle_decisions import DecisionsExpectation, expect_decisions
from tests.day.oracle_insights import (
    AI_STREAMS,
    DEFAULT_INSIGHTS_LOOKBACK_MINUTES,
    INSIGHT_PATH,
    InsightsExpectation,
    expect_insights,
)
from tests.day.oracle_removals import RemovalsExpectation, expect_removals, removal_of
from tests.harness import Connector, ConnectorRun, catalog, sandbox_account
from tests.reliability.support import Sequence, incomplete_final_files, sha256_of

SEED = 11
DAY_START = 1_794_787_200  # 2026-11-16T00:00:00Z, a Monday
SYNCS = 96
EVERY = 900
REQUESTS_PER_MINUTE = 1000
SANDBOX_RATE_LIMIT = 1100  # just above the connector's pace: a burst over it gets 429
URL_TTL = 600
CHANGE_AT_SYNC = 48  # 12:15: the admin raises lookback_minutes
LOOKBACK_BEFORE, LOOKBACK_AFTER = 30, 60
FIRST_SYNC_MAX_CALLS = 20
MAX_RECORDING_SIZE_MB = 1
INSIGHTS_LOOKBACK_MINUTES = DEFAULT_INSIGHTS_LOOKBACK_MINUTES  # the config leaves it out
STREAMS = ("users", "calls", "recordings", *AI_STREAMS, "import_decisions")
_RESOURCE_STREAM = {resource: stream for stream, resource in AI_STREAMS.items()}


USER_DELETED_BEFORE_SYNC = 40  # ten hours into the day


def libfaketime() -> str | None:
    """Where Debian's `faketime` package put the library, whatever the architecture."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    return found[0] if found else None


@dataclass
class DayOutcome:
    scenario: DayScenario
    expected: DayExpectation
    emitted: Emitted
    runs: list[ConnectorRun]
    requests_per_sync: list[int]
    rate_limited: int
    state_sizes: list[int]
    seconds: float
    file_problems: list[str]
    record_file_problems: list[str]
    users_emitted: list[int] = field(default_factory=list)
    users_expected: int = 0
    user_deleted: tuple[int, int] | None = None
    """(user id, the first sync after Aircall deleted it) of the user the day deletes."""
    users_removed: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """(sync, record) of each `users` record with `_ab_cdc_deleted_at`."""
    users_first: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Each user's first record."""
    insights_expected: InsightsExpectation = field(default_factory=InsightsExpectation)
    insights_emitted: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """Per AI stream, (sync, call id) of each record, in order."""
    insight_requests: list[list[tuple[str, int]]] = field(default_factory=list)
    """Per sync, (stream, call id) of each insight request the sandbox received."""
    decisions_expected: DecisionsExpectation = field(default_factory=DecisionsExpectation)
    decisions_emitted: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    removals_expected: RemovalsExpectation = field(default_factory=RemovalsExpectation)
    removals_emitted: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """Per stream, (sync, call id) of each removal reported (tests/day/oracle_removals.py)."""

    def failed_syncs(self) -> list[tuple[int, int]]:
        return [(k, run.returncode) for k, run in enumerate(self.runs) if run.returncode != 0]

    def figures(self) -> dict[str, Any]:
        per_sync = self.requests_per_sync
        return {
            "requests_per_sync_median": statistics.median(per_sync),
            "requests_per_sync_max": max(per_sync),
            "rate_limited_answers": self.rate_limited,
            "state_max_bytes": max(self.state_sizes),
            "seconds": round(self.seconds, 1),
        }


def config_for(sandbox: Sandbox, sync: int) -> dict[str, Any]:
    lookback = LOOKBACK_BEFORE if sync < CHANGE_AT_SYNC else LOOKBACK_AFTER
    return sandbox.config(
        requests_per_minute=REQUESTS_PER_MINUTE,
        lookback_minutes=lookback,
        first_sync_max_calls=FIRST_SYNC_MAX_CALLS,
        max_recording_size_mb=MAX_RECORDING_SIZE_MB,
    )


def oracle_config(config: dict[str, Any]) -> SyncConfig:
    return SyncConfig(
        lookback_minutes=int(config["lookback_minutes"]),
        first_sync_max_calls=int(config["first_sync_max_calls"]),
        max_recording_size_mb=int(config["max_recording_size_mb"]),
        emails=frozenset(e.strip().lower() for e in config["salescaling_user_emails"]),
    )


def build_scenario(sandbox: Sandbox) -> DayScenario:
    account, next_call_id = sandbox_account(sandbox)
    return generate_day(SEED, DAY_START, account, next_call_id, deletions=True)


def run_day(workdir: Path, syncs: int = SYNCS, streams: tuple[str, ...] = STREAMS) -> DayOutcome:
    """The day's syncs with `streams` selected (an AI stream left out emits nothing, and
    its insights are still expected: judge only the selected ones)."""
    library = libfaketime()
    if library is None:
        raise RuntimeError("libfaketime is missing: `make day` installs Debian's faketime")
    started = time.monotonic()
    with Sandbox(
        seed=SEED, users=4, calls=0, rate_limit=SANDBOX_RATE_LIMIT, url_ttl=URL_TTL
    ) as sandbox:
        scenario = build_scenario(sandbox)
        sandbox.load_scenario(scenario_to_json(scenario))
        sync_times = [DAY_START + EVERY * (k + 1) for k in range(syncs)]
        configs = [config_for(sandbox, k) for k in range(syncs)]
        emails = {int(u["id"]): str(u["email_normalized"]) for u in sandbox.users()}
        oracle_configs = [oracle_config(c) for c in configs]
        expected = expect_day(scenario, sync_times, oracle_configs, emails)
        insights_expected = expect_insights(scenario, expected, INSIGHTS_LOOKBACK_MINUTES)
        silent = frozenset(int(i) for i in sandbox.account_shape()["silent_number_ids"])
        decisions_expected = expect_decisions(scenario, expected, oracle_configs, emails, silent)
        # A user who leaves the company: in Aircall at the first sync, deleted before
        # `USER_DELETED_BEFORE_SYNC` (no call of theirs: the scenario is left as it is).
        leaver = int(sandbox.add_user("Dana Leaver", "dana.leaver@example.com")["id"])
        users_expected = len(sandbox.users())
        removals_expected = expect_removals(scenario, expected)
        recording_gone = {c.id for c in scenario.all_calls() if c.recording_deleted_at}
        removals: dict[str, list[tuple[int, int]]] = {
            s: [] for s in ("calls", "import_decisions", *AI_STREAMS)
        }
        insights: dict[str, list[tuple[int, int]]] = {stream: [] for stream in AI_STREAMS}
        insight_requests: list[list[tuple[str, int]]] = []
        decisions: list[tuple[int, dict[str, Any]]] = []
        sequence = Sequence()
        emitted = Emitted()
        requests: list[int] = []
        limited = 0
        sizes: list[int] = []
        record_problems: list[str] = []
        users: list[int] = []
        users_removed: list[tuple[int, dict[str, Any]]] = []
        users_first: dict[int, dict[str, Any]] = {}
        configured = catalog(streams, include_files=True)
        for k, sync_time in enumerate(sync_times):
            offset = sync_time - int(time.time())
            sandbox.set_clock_offset(offset)
            sandbox.set_horizon(sync_time)
            if k == USER_DELETED_BEFORE_SYNC:
                sandbox.delete_user(leaver)
            sandbox.clear_log()
            connector = Connector(
                sandbox.api_url,
                workdir,
                extra_env={"LD_PRELOAD": library, "FAKETIME": f"{offset:+d}s"},
                process=True,  # libfaketime moves the clock of a process it is loaded into
            )
            run = sequence.take(connector.run("read", configs[k], configured, sequence.state))
            log = sandbox.requests_log(host="api")
            requests.append(len(log))
            limited += sum(1 for r in log if r["status"] == 429)
            insight_requests.append(_insight_requests(sandbox))
            sizes.append(len(json.dumps(sequence.state or [])))
            emitted.calls += [
                (k, record)
                for record in run.records("calls")
                if record.get("_ab_cdc_deleted_at") is None  # a removal: judged apart
            ]
            for record in run.records("users"):
                if record.get("_ab_cdc_deleted_at") is None:
                    users.append(int(record["id"]))
                    users_first.setdefault(int(record["id"]), record)
                else:
                    users_removed.append((k, record))
            for stream in ("calls", "import_decisions", *AI_STREAMS):
                for record in run.records(stream):
                    removed = removal_of(stream, record, recording_gone)
                    if removed is not None:
                        removals[stream].append((k, removed))
                    elif stream in AI_STREAMS:
                        insights[stream].append((k, int(record["call_id"])))
                    elif stream == "import_decisions":
                        decisions.append((k, record))
            for message in run.record_messages("recordings"):
                emitted.recordings.append((k, message["record"]["data"]))
                record_problems += _file_problems(message["record"])
        # A file downloaded before the customer deleted it is no longer served: not a fault.
        gone_files = tuple(f"{call_id}." for call_id in removals_expected.moments)
        file_problems = [
            problem
            for problem in incomplete_final_files(workdir / "staging", sandbox)
            if not (
                problem.startswith(gone_files)
                and problem.endswith("no such recording in the sandbox")
            )
        ]
    return DayOutcome(
        scenario=scenario,
        expected=expected,
        emitted=emitted,
        runs=sequence.runs,
        requests_per_sync=requests,
        rate_limited=limited,
        state_sizes=sizes,
        seconds=time.monotonic() - started,
        file_problems=file_problems,
        record_file_problems=record_problems,
        users_emitted=users,
        users_expected=users_expected,
        user_deleted=(leaver, USER_DELETED_BEFORE_SYNC)
        if syncs > USER_DELETED_BEFORE_SYNC
        else None,
        users_removed=users_removed,
        users_first=users_first,
        insights_expected=insights_expected,
        insights_emitted=insights,
        insight_requests=insight_requests,
        decisions_expected=decisions_expected,
        decisions_emitted=decisions,
        removals_expected=removals_expected,
        removals_emitted=removals,
    )


def _insight_requests(sandbox: Sandbox) -> list[tuple[str, int]]:
    """(stream, call id) of each Aircall AI request of the sync, from the sandbox's log."""
    asked = []
    for entry in sandbox.requests_log(host="api", path_pattern=INSIGHT_PATH):
        match = re.fullmatch(r"/v1/calls/(\d+)/(\w+)", str(entry["path"]))
        assert match is not None, entry["path"]
        asked.append((_RESOURCE_STREAM[match.group(2)], int(match.group(1))))
    return asked


def _file_problems(record: dict[str, Any]) -> list[str]:
    """A file-mode record must point at a file of the size and sha256 it states."""
    data = record["data"]
    reference = record.get("file_reference") or {}
    path = reference.get("staging_file_url")
    if not path:
        return [f"{data['call_id']}: no file_reference"]
    file = Path(path)
    if not file.exists():
        return [f"{data['call_id']}: {path} does not exist"]
    problems = []
    if file.stat().st_size != int(data["size_bytes"]):
        problems.append(
            f"{data['call_id']}: {file.stat().st_size} bytes, record says {data['size_bytes']}"
        )
    if sha256_of(file) != data["sha256"]:
        problems.append(f"{data['call_id']}: sha256 differs from the record's")
    return problems


def delays_text(delays: Counter[int]) -> str:
    return ", ".join(f"{d} sync(s): {n}" for d, n in sorted(delays.items())) or "none"
