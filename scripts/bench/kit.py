"""What every part of the bench shares: where files go, the connector runs, the counting.

:class:`Bench` runs the connector as a process the way Airbyte does (``tests/harness.py``),
optionally inside a small ``python -c`` program (``wrapped``) that changes something in
the connector's own process, and collects the table's sections and notes.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from aircall_sandbox.testing import Sandbox
from source_aircall_salescaling.aircall.windows import (
    RESULT_CAP,
    TimeWindow,
    windows_newest_first,
)
from tests import harness
from tests.harness import Connector, ConnectorRun

from .table import Row, Section

ROOT = Path(__file__).resolve().parent.parent.parent

# One folder per run (`make clean` removes them all), so that two runs never collide.
WORKDIR = ROOT / ".bench" / f"run-{os.getpid()}"
# Where recordings are written, by the connector and the baseline alike: a tmpfs when
# there is one, so that the disk's write-back (other work on the machine, the files of
# earlier runs) does not decide the download figures; else under WORKDIR.
SHM = Path("/dev/shm")
SCRATCH = (
    SHM / f"aircall-bench-{os.getpid()}"
    if SHM.is_dir() and os.access(SHM, os.W_OK)
    else WORKDIR / "files"
)
MIB = 1_048_576
PAGE = 50
CALLS = 12_000
REQUESTS_SLACK = 2
DOWNLOAD_RATIO_MIN = 0.9

# Peak RSS of the connector's own memory: VmHWM, written when it exits. (`ru_maxrss` from
# wait4, which the harness reports, also counts the RSS the child had right after fork,
# i.e. this benchmark's own, which hides anything smaller.) The download pool is forced
# to BENCH_WORKERS when that is set.
PEAK_RSS = """\
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as status, open(os.environ["BENCH_PEAK_RSS"], "w") as out:
        out.write(next(l.split()[1] for l in status if l.startswith("VmHWM:")))
atexit.register(_peak)
sys.argv = [{main!r}, *sys.argv[1:]]
if os.environ.get("BENCH_WORKERS"):
    import source_aircall_salescaling.streams.recordings as recordings
    recordings.DOWNLOAD_WORKERS = int(os.environ["BENCH_WORKERS"])
    recordings.RecordingsStream.batch_size = int(os.environ["BENCH_WORKERS"])
runpy.run_path({main!r}, run_name="__main__")
"""


@dataclass
class Timing:
    wall: float
    cpu: float


def median_timing(timings: list[Timing]) -> Timing:
    return Timing(
        statistics.median(t.wall for t in timings), statistics.median(t.cpu for t in timings)
    )


class Bench:
    def __init__(self, repeats: int, package_root: Path, profile: bool) -> None:
        self.repeats = repeats
        self.package_root = package_root
        self.profile = profile
        self.sections: list[Section] = []
        self.notes: list[str] = []
        self.startup = Timing(0.0, 0.0)
        self.startups: list[Timing] = []
        self.profile_text = ""
        self.relisted_seconds: int | None = None
        self._runs = 0

    # ------------------------------------------------------------------ helpers
    def connector(self, sandbox: Sandbox, name: str) -> Connector:
        """A connector with its own workdir; its files go to the scratch folder."""
        self._runs += 1
        workdir = WORKDIR / f"{self._runs:03d}-{name}"
        workdir.mkdir(parents=True, exist_ok=True)  # the harness writes stderr there
        staging = SCRATCH / f"{self._runs:03d}-{name}"
        staging.mkdir(parents=True, exist_ok=True)
        # PYTHONPATH: the `wrapped` programs then import the package measured
        # (`--package-root`), ahead of the one installed in the venv.
        path = os.pathsep.join(
            p for p in (str(self.package_root), os.environ.get("PYTHONPATH")) if p
        )
        return Connector(
            api_url=sandbox.api_url,
            workdir=workdir,
            extra_env={"AIRBYTE_STAGING_DIRECTORY": str(staging), "PYTHONPATH": path},
            process=True,  # measured: its CPU time and peak memory
        )

    def heading(self) -> str:
        """The table's first line: the start-up every other time is counted past."""
        return (
            f"connector start-up (`spec`: Python, airbyte-cdk import and exit): "
            f"{self.startup.wall:.2f} s wall, {self.startup.cpu:.2f} s CPU "
            f"(median of {len(self.startups)}); the times below are counted past it."
        )

    def command(self) -> list[str]:
        return [sys.executable, str(self.package_root / "main.py")]

    def wrapped(self, template: str) -> str:
        """A `python -c` program that runs the connector's main.py inside `template`."""
        return template.format(main=str(self.package_root / "main.py"))

    def run(
        self,
        connector: Connector,
        verb: str,
        config: dict[str, Any] | None = None,
        configured: dict[str, Any] | None = None,
        state: list[dict[str, Any]] | None = None,
        command: list[str] | None = None,
    ) -> ConnectorRun:
        original = harness.connector_command
        wanted = command or self.command()
        harness.connector_command = lambda: list(wanted)
        try:
            result = connector.run(verb, config, configured, state)
        finally:
            harness.connector_command = original
        if result.returncode != 0 or result.errors():
            errors = [e.get("message") for e in result.errors()]
            raise RuntimeError(
                f"connector {verb} failed ({result.returncode}): {errors} {result.stderr[-1500:]}"
            )
        return result

    # ------------------------------------------------------------------ start-up
    def measure_startup(self) -> None:
        with Sandbox(seed=7, calls=0, rate_limit=0) as sandbox:
            connector = self.connector(sandbox, "spec")
            self.run(connector, "spec")  # warm: .pyc files, page cache
            for _ in range(self.repeats):
                self.spec(connector)

    def spec(self, connector: Connector) -> Timing:
        result = self.run(connector, "spec")
        timing = Timing(result.seconds, result.cpu_seconds)
        self.startups.append(timing)
        self.startup = median_timing(self.startups)
        return timing


def count_requests(started: list[int], window: TimeWindow) -> int:
    """Requests that only count: the windows that must be split under the 10,000 cap
    (`windows_newest_first`); the count of a window that is read is its first page."""
    counted: set[TimeWindow] = set()

    def count(part: TimeWindow) -> int:
        counted.add(part)
        return calls_in(started, part)

    leaves = sum(1 for _ in windows_newest_first(window, count, RESULT_CAP))
    return max(0, len(counted) - leaves)


def config_window(config: dict[str, Any]) -> int:
    return int(config.get("import_window_days", 14)) * 86_400


def calls_in(started: list[int], window: TimeWindow) -> int:
    """Calls with window.start < started_at <= window.end (`started` sorted)."""
    return bisect_right(started, window.end) - bisect_right(started, window.start)


def salescaling_user(sandbox: Sandbox) -> int:
    return int(next(u["id"] for u in sandbox.users() if u["salescaling"]))


def recording_url(sandbox: Sandbox, call_id: int) -> str:
    """A fresh pre-signed URL of the call's recording, as the connector would get one."""
    return str(sandbox.api_get(f"/v1/calls/{call_id}").json()["call"]["recording"])


def stream_to_disk(
    get: Callable[..., requests.Response], url: str, target: Path, sha256: bool
) -> None:
    """What plain requests does to save a recording: 1 MiB chunks to disk, hashed on the
    way with `sha256` (as the connector must, for its `sha256` field)."""
    digest = hashlib.sha256()
    with get(url, stream=True, timeout=60) as response, open(target, "wb") as out:
        response.raise_for_status()
        for chunk in response.iter_content(MIB):
            if sha256:
                digest.update(chunk)
            out.write(chunk)


def download_row(measure: str, connector_rate: float, baseline_rate: float, more: str = "") -> Row:
    """The connector's download rate against plain requests', held to DOWNLOAD_RATIO_MIN."""
    ratio = connector_rate / baseline_rate
    return Row(
        measure,
        f"{connector_rate:.0f} / {baseline_rate:.0f} MiB/s = {ratio:.2f}x{more}",
        f">= {DOWNLOAD_RATIO_MIN}x",
        ratio >= DOWNLOAD_RATIO_MIN,
    )
