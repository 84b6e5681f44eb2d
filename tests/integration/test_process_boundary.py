"""The connector as Airbyte runs it, a process (`python main.py <verb> ...`): what crosses
the process boundary. Every other integration test runs the same entry point in the test
process (tests/harness.py); the last tests here hold the two ways to the same output, and
an in-process run to leaving nothing behind."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import requests

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, ConnectorRun, catalog


def process(sandbox: Sandbox, workdir: Path) -> Connector:
    return Connector(api_url=sandbox.api_url, workdir=workdir, process=True)


def test_a_read_as_a_process_prints_nothing_but_protocol_lines_and_exits_0(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    run = process(sandbox, tmp_path).run("read", sandbox.config(first_sync_max_calls=5), catalog())
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout_noise == []
    assert {m["type"] for m in run.messages} >= {"RECORD", "STATE", "LOG", "TRACE"}
    assert run.ids("recordings") and "Traceback" not in run.stderr


def test_a_failed_read_as_a_process_exits_1_after_an_error_trace_on_stdout(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    run = process(sandbox, tmp_path).run("read", sandbox.config(api_token="revoked"), catalog())
    assert run.returncode == 1
    assert run.stdout_noise == []
    assert [e["failure_type"] for e in run.errors()][-1] == "config_error"
    assert "Traceback" not in run.stderr


def test_a_check_that_fails_as_a_process_still_exits_0_with_a_failed_status(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    run = process(sandbox, tmp_path).run("check", sandbox.config(api_token="revoked"))
    assert run.returncode == 0 and run.stdout_noise == []
    assert run.connection_status()["status"] == "FAILED"


def test_an_unknown_verb_as_a_process_exits_2_with_the_usage_on_stderr(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    run = process(sandbox, tmp_path).run("sync")
    assert run.returncode == 2 and run.stdout_noise == [] and not run.of_type("TRACE")
    assert "invalid choice: 'sync'" in run.stderr


def comparable(run: ConnectorRun) -> dict[str, Any]:
    """What a destination keeps of a run, less what differs from one run to the next (the
    time records are emitted at, where files are staged)."""
    records = {
        stream: sorted(
            (
                {k: v for k, v in record.items() if k not in ("file_url", "file_relative_path")}
                for record in run.records(stream)
            ),
            key=lambda record: str(record.get("id", record.get("call_id"))),
        )
        for stream in ("users", "calls", "recordings")
    }
    return {
        "returncode": run.returncode,
        "records": records,
        "states": [s["stream"]["stream_descriptor"]["name"] for s in run.states()],
        "errors": run.errors(),
        "noise": run.stdout_noise,
    }


def test_a_read_in_the_test_process_prints_what_the_process_prints(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config, configured = sandbox.config(first_sync_max_calls=20), catalog()
    in_process = Connector(api_url=sandbox.api_url, workdir=tmp_path / "in-process")
    first = in_process.run("read", config, configured)
    second = process(sandbox, tmp_path / "process").run("read", config, configured)
    assert comparable(first) == comparable(second)
    assert len(first.records("recordings")) == 20
    kinds = [m["type"] for m in first.messages if m["type"] in ("RECORD", "STATE")]
    assert kinds == [m["type"] for m in second.messages if m["type"] in ("RECORD", "STATE")]


def test_a_failed_read_in_the_test_process_ends_as_the_process_does(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config, configured = sandbox.config(api_token="revoked"), catalog()
    first = Connector(api_url=sandbox.api_url, workdir=tmp_path / "in-process").run(
        "read", config, configured
    )
    second = process(sandbox, tmp_path / "process").run("read", config, configured)
    assert first.returncode == second.returncode == 1
    assert [e["failure_type"] for e in first.errors()] == [
        e["failure_type"] for e in second.errors()
    ]
    assert first.logs("FATAL") and first.stdout_noise == second.stdout_noise == []


def process_settings() -> dict[str, Any]:
    """What an in-process run changes for the whole test process, if it leaks."""
    from airbyte_cdk.logger import PRINT_BUFFER
    from airbyte_cdk.sources.utils import files_directory
    from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets

    return {
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
        "argv": list(sys.argv),
        "excepthook": sys.excepthook,
        "streams": (sys.stdout, sys.stderr),
        "print_buffer": sorted(vars(PRINT_BUFFER)),
        "levels": {
            name: logger.level
            for name, logger in logging.Logger.manager.loggerDict.items()
            if isinstance(logger, logging.Logger)
        },
        "staging": files_directory.AIRBYTE_STAGING_DIRECTORY,
        "masked": filter_secrets("demo-token revoked"),
        "send": requests.Session.send,
    }


def test_an_in_process_run_leaves_the_test_process_as_it_found_it(
    sandbox: Sandbox, connector: Connector
) -> None:
    connector.run("spec")  # the CDK's modules imported, its loggers made
    before = process_settings()
    cloud = Connector(sandbox.api_url, connector.workdir, {"DEPLOYMENT_MODE": "cloud"})
    # In a cloud deployment the CDK wraps `requests.Session.send` to refuse private hosts.
    assert cloud.run("read", sandbox.config(api_token="revoked"), catalog()).returncode == 1
    assert process_settings() == before
    assert connector.run("check", sandbox.config()).connection_status()["status"] == "SUCCEEDED"
    assert process_settings() == before
