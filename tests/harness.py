"""Run the connector and read what it printed: the Airbyte protocol messages on stdout.

Used by the integration and reliability tests, `make demo`, `make bench` and the simulated
day: one place that knows the command line, the environment and the messages.

Two ways to run it, the same `Connector.run` and the same `ConnectorRun` either way:

- **In the test process** (the default, `Connector(api_url, workdir)`): the console
  script's own path (`source_aircall_salescaling.run.launch`: a fresh source, the CDK's
  entry point and print buffer) runs in this process with the environment a sync gets,
  against the sandbox over a real socket (tests/in_process.py says what is set up and
  undone around each run). No interpreter start and no airbyte-cdk import per run: use it
  for every test of what a sync emits, requests, stages or decides. `on_message` is
  called as each line is printed, the connector waiting meanwhile (an error it raises
  fails the test); `timeout` is a process's only (pytest-timeout stops a hung test).
- **As a process** (`Connector(..., process=True)`), the way Airbyte runs it: `python
  main.py <verb> ...` with its own environment. Use it where the process itself is
  what is tested: that stdout holds nothing but protocol lines, exit codes and signals
  (a `kill_after_records` run is always a process: only a process can be SIGKILLed),
  environment variables read at start-up (`LD_PRELOAD` for libfaketime: an `extra_env`
  that sets it makes a process run too), what reaches stderr, the CPU time and peak
  memory (`cpu_seconds`, `peak_rss_kib`: measured for a process only), and syncs that
  run side by side (in-process runs take turns: stdout and the environment are the
  process's). The console script and the image are tested by tests/ecosystem and
  tests/image.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aircall_sandbox.scenario import AccountShape

if TYPE_CHECKING:
    from aircall_sandbox.testing import Sandbox

ROOT = Path(__file__).resolve().parent.parent
REPORT_PREFIX = "IMPORT_REPORT "
INSIGHTS_PREFIX = "INSIGHTS_REPORT "
AI_STREAMS = (
    "transcriptions",
    "summaries",
    "topics",
    "sentiments",
    "action_items",
    "playbook_results",
    "evaluations",
    "custom_summaries",
    "predicted_csat",
)
ALL_STREAMS = ("users", "calls", "recordings", *AI_STREAMS, "import_decisions")
# The fields of every `users` record (the contract: README, schemas/users.json).
USER_FIELDS = (
    "id",
    "name",
    "email",
    "created_at",
    "available",
    "availability_status",
    "time_zone",
    "language",
    "extension",
    "state",
    "substatus",
    "default_number_id",
    "wrap_up_time",
    "salescaling_user",
    "_ab_cdc_deleted_at",
)


def sandbox_account(sandbox: Sandbox) -> tuple[AccountShape, int]:
    """The sandbox's account as a day scenario draws from it, and its next call id."""
    shape = sandbox.account_shape()
    account = AccountShape(
        user_ids=tuple(shape["user_ids"]),
        recording_number_ids=tuple(shape["recording_number_ids"]),
        silent_number_ids=tuple(shape["silent_number_ids"]),
        contact_ids=tuple(shape["contact_ids"]),
        salescaling_user_ids=tuple(shape["salescaling_user_ids"]),
    )
    return account, int(shape["next_call_id"])


def connector_command() -> list[str]:
    return [sys.executable, str(ROOT / "main.py")]


def catalog(
    streams: Mapping[str, str] | Sequence[str] = ("users", "calls", "recordings"),
    include_files: bool = True,
) -> dict[str, Any]:
    """A configured catalog; `streams` maps a name to "incremental" or "full_refresh"."""
    modes = streams if isinstance(streams, Mapping) else {name: "incremental" for name in streams}
    cursor = {"users": "created_at"}
    keys = {"users": "id", "calls": "id"}
    configured = []
    for name, mode in modes.items():
        entry: dict[str, Any] = {
            "stream": {
                "name": name,
                "json_schema": {},
                "supported_sync_modes": ["full_refresh", "incremental"],
                "source_defined_cursor": True,
                "default_cursor_field": [cursor.get(name, "started_at")],
                "source_defined_primary_key": [[keys.get(name, "call_id")]],
            },
            "sync_mode": mode,
            "destination_sync_mode": "append",
            "cursor_field": [cursor.get(name, "started_at")],
            "primary_key": [[keys.get(name, "call_id")]],
        }
        if name == "recordings":
            entry["stream"]["is_file_based"] = False  # as discover declares it
            entry["include_files"] = include_files
        configured.append(entry)
    return {"streams": configured}


@dataclass
class ConnectorRun:
    returncode: int
    messages: list[dict[str, Any]]
    stdout_noise: list[str]
    stderr: str
    seconds: float
    killed: bool = False
    cpu_seconds: float = 0.0
    peak_rss_kib: int = 0

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [m["record"]["data"] for m in self.record_messages(stream)]

    def record_messages(self, stream: str) -> list[dict[str, Any]]:
        return [m for m in self.of_type("RECORD") if m["record"]["stream"] == stream]

    def ids(self, stream: str) -> list[int]:
        key = "id" if stream in ("users", "calls") else "call_id"
        return [record[key] for record in self.records(stream)]

    def insights_report(self, stream: str) -> dict[str, Any] | None:
        """The `INSIGHTS_REPORT {json}` line an Aircall AI stream logs at its end."""
        for line in self.logs():
            if line.startswith(INSIGHTS_PREFIX):
                report: dict[str, Any] = json.loads(line[len(INSIGHTS_PREFIX) :])
                if report.get("stream") == stream:
                    return report
        return None

    def states(self) -> list[dict[str, Any]]:
        """The last STATE message of each stream: what Airbyte passes to the next sync."""
        last: dict[str, dict[str, Any]] = {}
        for message in self.of_type("STATE"):
            state = message["state"]
            last[state["stream"]["stream_descriptor"]["name"]] = state
        return list(last.values())

    def logs(self, level: str | None = None) -> list[str]:
        return [
            m["log"]["message"]
            for m in self.of_type("LOG")
            if level is None or m["log"]["level"] == level
        ]

    def errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"]["type"] == "ERROR"]

    def import_report(self) -> dict[str, Any] | None:
        for line in self.logs():
            if line.startswith(REPORT_PREFIX):
                report: dict[str, Any] = json.loads(line[len(REPORT_PREFIX) :])
                return report
        return None

    def connection_status(self) -> dict[str, Any]:
        return self.of_type("CONNECTION_STATUS")[-1]["connectionStatus"]


def _parse(line: str) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except json.JSONDecodeError:
        return {}
    return message if isinstance(message, dict) else {}


# Variables the dynamic loader reads at a process's start: a run that sets one is a process.
START_UP_VARIABLES = ("LD_PRELOAD", "FAKETIME")


@dataclass
class Connector:
    """The connector with the environment a sync gets from Airbyte: in this process, or
    as a process with `process=True` (the module's docstring says which to use when)."""

    api_url: str
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    process: bool = False

    @property
    def staging(self) -> Path:
        path = self.workdir / "staging"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRBYTE_")}
        env.update(
            AIRCALL_API_URL=self.api_url,
            AIRBYTE_STAGING_DIRECTORY=str(self.staging),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def _write(self, name: str, content: Any) -> str:
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir.resolve() / name
        path.write_text(json.dumps(content))
        return str(path)

    def run(
        self,
        verb: str,
        config: Mapping[str, Any] | None = None,
        catalog: Mapping[str, Any] | None = None,
        state: list[dict[str, Any]] | None = None,
        timeout: float = 600,
        kill_after_records: int | None = None,
        on_message: Callable[[dict[str, Any]], None] | None = None,
        kill_counts: Collection[str] = ("RECORD",),
    ) -> ConnectorRun:
        """Run one verb; with `kill_after_records`, SIGKILL it as soon as that many
        messages of the `kill_counts` types (RECORDs unless told) are read from stdout;
        `on_message` sees each message as it arrives, while the connector still runs.

        After a kill, the lines the connector had already written to the pipe are read
        too: the platform would have received them, so a killed run's last STATE is the
        one a re-run starts from, and the downloads it did after that state are exactly
        the ones in flight at the kill.
        """
        arguments = [verb]
        if config is not None:
            arguments += ["--config", self._write("config.json", config)]
        if catalog is not None:
            arguments += ["--catalog", self._write("catalog.json", catalog)]
        if state is not None:
            arguments += ["--state", self._write("state.json", state)]
        in_process = not (
            self.process
            or kill_after_records is not None
            or any(name in self.extra_env for name in START_UP_VARIABLES)
        )
        if in_process:
            return self._run_in_process(arguments, on_message)
        return self._run_process(arguments, timeout, kill_after_records, on_message, kill_counts)

    def _run_in_process(
        self, arguments: list[str], on_message: Callable[[dict[str, Any]], None] | None
    ) -> ConnectorRun:
        """`timeout` does not apply: pytest-timeout stops a run that hangs."""
        from tests.in_process import (  # imports airbyte-cdk
            CallbackFailed,
            launch_in_process,
            parse_line,
        )

        messages: list[dict[str, Any]] = []
        noise: list[str] = []

        def take(line: str) -> None:
            message = parse_line(line)
            if message is None:
                noise.append(f"{line}\n")
                return
            messages.append(message)
            if on_message is not None:
                on_message(message)

        started = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            returncode, stderr = launch_in_process(arguments, self.env(), self.workdir, take)
        except CallbackFailed as failed:
            raise failed.error from None  # `on_message` failed: as if it ran in this test
        (self.workdir / f"{arguments[0]}.stderr").write_text(stderr)
        return ConnectorRun(
            returncode=returncode,
            messages=messages,
            stdout_noise=noise,
            stderr=stderr,
            seconds=time.monotonic() - started,
        )

    def _run_process(
        self,
        arguments: list[str],
        timeout: float,
        kill_after_records: int | None,
        on_message: Callable[[dict[str, Any]], None] | None,
        kill_counts: Collection[str],
    ) -> ConnectorRun:
        verb = arguments[0]
        command = [*connector_command(), *arguments]
        started = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        stderr_file = self.workdir / f"{verb}.stderr"
        stderr_sink = open(stderr_file, "w")  # noqa: SIM115 - a file, not a pipe: a full pipe blocks
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr_sink,
            env=self.env(),
            cwd=self.workdir,
            text=True,
        )
        messages: list[dict[str, Any]] = []
        noise: list[str] = []
        counted = 0
        killed = False
        assert process.stdout is not None
        try:
            for line in process.stdout:
                try:
                    message = json.loads(line)
                except json.JSONDecodeError:
                    noise.append(line)
                    continue
                messages.append(message)
                if on_message is not None:
                    on_message(message)
                if message.get("type") in kill_counts:
                    counted += 1
                    if kill_after_records is not None and counted >= kill_after_records:
                        process.send_signal(signal.SIGKILL)
                        killed = True
                        # What the process wrote before it died still reaches Airbyte.
                        messages.extend(_parse(rest) for rest in process.stdout if _parse(rest))
                        break
                if time.monotonic() - started > timeout:
                    process.kill()
                    raise TimeoutError(f"connector {verb} ran past {timeout} s")
            # wait4 rather than wait: it also gives this child's own CPU time and peak RSS.
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if process.returncode is None:
                process.kill()
                process.wait()
            stderr_sink.close()
        stderr = stderr_file.read_text()
        return ConnectorRun(
            returncode=process.returncode,
            messages=messages,
            stdout_noise=noise,
            stderr=stderr,
            seconds=time.monotonic() - started,
            killed=killed,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            peak_rss_kib=usage.ru_maxrss,
        )


def requests_by_kind(sandbox: Sandbox) -> Counter[str]:
    """The sandbox's API requests since its log was cleared: listing pages by path,
    lookups of one call by id (`lookup`), and asks for an AI resource of a call
    (`insight`)."""

    def kind(path: str) -> str:
        if not path.startswith("/v1/calls/"):
            return path
        return "lookup" if path.count("/") == 3 else "insight"

    return Counter(kind(str(entry["path"])) for entry in sandbox.requests_log(host="api"))


def first_sync_requests(
    sandbox: Sandbox,
    config: Mapping[str, Any],
    selections: Sequence[Sequence[str]],
    workdir: Path,
    include_files: bool = False,
) -> list[dict[str, int]]:
    """Each selection of streams read as a first sync (its own connector, no state) from
    the same sandbox, one after the other: the requests each made, by path, every host
    counted (for "selecting these adds no request" comparisons)."""
    counts = []
    for index, streams in enumerate(selections):
        sandbox.clear_log()
        Connector(api_url=sandbox.api_url, workdir=workdir / f"selection-{index}").run(
            "read", config, catalog(list(streams), include_files=include_files)
        )
        counts.append(sandbox.request_counts(host=None))
    return counts


class SyncSequence:
    """Syncs of one connection as time passes: each from the last states of the one
    before, the sandbox's clock moved between them (the connector takes each sync's time
    from Aircall's `Date`, which the sandbox stamps with its own clock)."""

    def __init__(
        self, sandbox: Any, connector: Connector, catalog: dict[str, Any], **config: Any
    ) -> None:
        self.sandbox, self.connector, self.catalog, self.config = (
            sandbox,
            connector,
            catalog,
            config,
        )
        self.state: list[dict[str, Any]] | None = None
        self.offset = 0
        self.runs: list[ConnectorRun] = []

    def run(self, catalog: dict[str, Any] | None = None) -> ConnectorRun:
        run = self.connector.run(
            "read", self.sandbox.config(**self.config), catalog or self.catalog, state=self.state
        )
        assert run.returncode == 0, run.stderr[-2000:]
        self.state = run.states()
        self.runs.append(run)
        return run

    def advance(self, minutes: int) -> None:
        self.offset += minutes * 60
        self.sandbox.set_clock_offset(self.offset)

    def emitted(self, stream: str) -> list[int]:
        """The ids of every record of `stream` over the sequence, in order."""
        return [call_id for run in self.runs for call_id in run.ids(stream)]
