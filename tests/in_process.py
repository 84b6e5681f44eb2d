"""The connector run inside the test process, through the CDK's own entry point.

`run.launch` is what the console script runs past its garbage-collector settings: a
fresh `SourceAircallSalescaling`, the `SalescalingEntrypoint`, the CDK's argument parser
and `AirbyteEntrypoint.run`, each message printed through the CDK's `PRINT_BUFFER`. Here
that buffer and `sys.stdout` write into a collector of lines instead of the process's
stdout, so a run yields the same protocol lines a process would print, parsed into the
same `ConnectorRun`. The sandbox is still a separate process reached over a real socket.

What a process gets for free is rebuilt around each run and undone after it, so that
nothing leaks into the next test:

- the environment (`os.environ` is replaced for the run: the sandbox's address, the
  staging directory, the test's extra variables; the CDK's request-cache variable too),
  the working directory, `sys.argv`, and the staging directory the CDK reads from the
  environment when it is imported (`files_directory.AIRBYTE_STAGING_DIRECTORY`);
- `sys.stdout` and `sys.stderr`: while the CDK's print buffer is entered, both are the
  buffer (as in a process, where a warning printed mid-sync lands on stdout); before and
  after it, stderr is collected for `ConnectorRun.stderr`;
- what the CDK sets process-wide: `sys.excepthook` (an uncaught exception becomes a
  FATAL log and an error TRACE: the hook the entrypoint installed is called here, as the
  interpreter would, and the exit code is 1), the levels of the loggers (`--debug` sets
  `airbyte` to DEBUG), the secrets it masks in logs, and `requests.Session.send` (which
  it wraps in a cloud deployment).
- `SystemExit` (argparse's exit code 2 on a bad command line) becomes the exit code.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.sources.utils import files_directory
from airbyte_cdk.utils import airbyte_secrets_utils

from source_aircall_salescaling.run import launch
from source_aircall_salescaling.source import SourceAircallSalescaling

STAGING_DEFAULT = "/staging/files"  # airbyte_cdk/sources/utils/files_directory.py
MAIN = Path(__file__).resolve().parent.parent / "main.py"
_ONE_AT_A_TIME = threading.Lock()


class CallbackFailed(BaseException):
    """The test's own line callback raised: the run stops there and the test sees the
    error (a BaseException, so that no `except Exception` of the connector or the CDK
    takes it for a failure of the sync)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class _Stdout(io.TextIOBase):
    """What the process would have written to stdout, split into lines as they complete
    (any thread may write: the CDK's log handler runs in the thread that logs)."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        super().__init__()
        self._on_line = on_line
        self._partial = ""
        self._lock = threading.RLock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._partial += text
            if "\n" in self._partial:
                *complete, self._partial = self._partial.split("\n")
                for line in complete:
                    self._take(line)
        return len(text)

    def flush(self) -> None:
        """Lines go on as they complete: nothing is held back."""

    def finish(self) -> None:
        with self._lock:
            if self._partial:
                self._take(self._partial)
                self._partial = ""

    def _take(self, line: str) -> None:
        try:
            self._on_line(line)
        except Exception as error:
            raise CallbackFailed(error) from error


def _exit_code(code: object) -> int:
    """What the interpreter makes of `SystemExit(code)`."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


@contextmanager
def _environment(env: dict[str, str], workdir: Path, argv: list[str]) -> Iterator[None]:
    saved_env, saved_cwd, saved_argv = dict(os.environ), os.getcwd(), sys.argv
    saved_staging = files_directory.AIRBYTE_STAGING_DIRECTORY
    os.environ.clear()
    os.environ.update(env)
    os.chdir(workdir)
    sys.argv = argv  # argparse names the program after it in its usage lines
    # Read from the environment when the CDK module is imported: what a process's import
    # would have read.
    files_directory.AIRBYTE_STAGING_DIRECTORY = env.get(
        "AIRBYTE_STAGING_DIRECTORY", STAGING_DEFAULT
    )
    try:
        yield
    finally:
        files_directory.AIRBYTE_STAGING_DIRECTORY = saved_staging
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


@contextmanager
def _process_wide_settings() -> Iterator[None]:
    """Whatever the CDK changes for the whole process, put back as it was."""
    hook = sys.excepthook
    send = requests.Session.send
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    levels = {id(lg): (lg, lg.level) for lg in loggers if isinstance(lg, logging.Logger)}
    try:
        yield
    finally:
        sys.excepthook = hook
        requests.Session.send = send  # type: ignore[method-assign]
        for logger, level in levels.values():
            logger.setLevel(level)
        airbyte_secrets_utils.update_secrets([])


@contextmanager
def _printed_to(stdout: _Stdout, stderr: io.StringIO) -> Iterator[None]:
    """The CDK's print buffer writes into `stdout` (its log handler's stream, and
    `sys.stdout` once entered); stderr is collected outside it."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr
    PRINT_BUFFER.write = stdout.write  # type: ignore[method-assign]
    PRINT_BUFFER.flush = stdout.flush  # type: ignore[method-assign]
    try:
        yield
    finally:
        del PRINT_BUFFER.write, PRINT_BUFFER.flush  # the class's methods again
        sys.stdout, sys.stderr = saved


def launch_in_process(
    args: list[str],
    env: dict[str, str],
    workdir: Path,
    on_line: Callable[[str], None],
) -> tuple[int, str]:
    """Run `launch` with a fresh source as the console script would in a process with
    `env` and `workdir`: each printed line goes to `on_line` as it is printed. The exit
    code the process would have and what it would have written to stderr."""
    stdout, stderr = _Stdout(on_line), io.StringIO()
    with (
        _ONE_AT_A_TIME,
        _environment(env, workdir, [str(MAIN), *args]),
        _process_wide_settings(),
        _printed_to(stdout, stderr),
    ):
        previous_hook = sys.excepthook
        try:
            launch(SourceAircallSalescaling(), args)
            code = 0
        except SystemExit as leaving:
            code = _exit_code(leaving.code)
            if isinstance(leaving.code, str):
                stderr.write(f"{leaving.code}\n")
        except Exception as error:
            # The CDK's hook, installed by the entrypoint: a FATAL log, an error TRACE.
            hook = sys.excepthook
            if hook is previous_hook:  # failed before the entrypoint was made
                sys.__excepthook__(type(error), error, error.__traceback__)
            else:
                hook(type(error), error, error.__traceback__)
            code = 1
        stdout.finish()
    return code, stderr.getvalue()


def parse_line(line: str) -> dict[str, Any] | None:
    """A protocol message, or None for a line that is not one (noise)."""
    try:
        message = json.loads(line)
    except json.JSONDecodeError:
        return None
    return message if isinstance(message, dict) else None
