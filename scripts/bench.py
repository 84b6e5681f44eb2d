"""`make bench`: the connector against the simplest possible baseline, on the sandbox.

Everything runs on loopback against `aircall_sandbox` (a subprocess), the connector as
a process the way Airbyte runs it (`tests/harness.py`), and prints one table:

- start-up: `spec` (Python, airbyte-cdk import, exit), on its own line; the connector's
  times are counted past it: each read less the `spec` run just before it.
- `calls`: a full read of 12,000 calls (sandbox rate limit off, the connector's pacing
  switched off in its process) against `scripts/bench_baseline.py` (requests + json, same window, same JSON
  lines, less its own start-up); the records must be the same.
- requests per sync, from the sandbox's request log, users + calls + recordings: a first
  sync, then a steady-state sync with 0 and with 300 new calls, each from the state of
  the one before. Lower bound: count requests (windows that must be split under
  Aircall's 10,000 cap, `aircall/windows.py`; a window that is read is counted by its
  first page) + ceil(calls / 50) + users pages, where calls are the whole window on a
  first sync and afterwards the calls started since the last cursor plus those pending.
- recordings: download throughput of one 150 MiB recording against plain requests
  streaming the same URL to disk (and, for information, plain requests + sha256, which
  the connector must compute); peak RSS (VmHWM) with a 1 MiB against a 150 MiB
  recording; 20 small recordings with 100 ms of sandbox latency, the connector's
  download pool against the same connector with DOWNLOAD_WORKERS forced to 1.
- pacing: a 12,000-call read against the sandbox's token bucket (burst 2) at 60, 120
  and 600 requests a minute, `requests_per_minute` set to the same rate: requests per
  second as the sandbox received them (the most in any 10 s span, and the mean), answers
  429 (target 0), requests against the lower bound (target: at most 2 more), and the
  read's time against the lower bound divided by the rate.
- storage: the recordings served by nginx (Debian's package; installed with apt-get
  when missing) as the storage host on loopback, the way S3 would serve them (pre-signed
  query strings ignored, `Range` honoured): 1 x 150 MiB and 8 x 16 MiB, the connector
  with its download pool at 1 and 4 workers against plain requests + sha256 of the same
  URLs with as many threads (target: at least 0.9x), and the connector's peak RSS.
- scale model: requests and duration of a 100,000-call, 14-day window at 120
  requests/min, from the package's own window splitting over a uniform account.

Times are medians of interleaved runs (`--repeats`), so a busy machine hurts both sides
alike. `--profile` also prints where the connector's time goes in the `calls` read
(pyinstrument when installed in the venv, else cProfile). `--package-root DIR` runs
`DIR/main.py` instead, to measure a changed copy of the package.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aircall_sandbox.recordings import recording_chunks  # noqa: E402
from aircall_sandbox.testing import Sandbox  # noqa: E402
from source_aircall_salescaling.aircall.windows import (  # noqa: E402
    RESULT_CAP,
    TimeWindow,
    windows_newest_first,
)
from tests import harness  # noqa: E402
from tests.harness import Connector, ConnectorRun, catalog  # noqa: E402

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
NEW_CALLS = 300
LARGE_MIB = 150
SMALL_RECORDINGS = 20
LATENCY_MS = 100
SCALE_CALLS = 100_000
SCALE_DAYS = 14
SCALE_RPM = 120
PACING_RATES = (60, 120, 600)
PACING_BURST = 2
SPAN_SECONDS = 10.0

# Targets (issue 7).
CALLS_RATIO_MAX = 1.5
REQUESTS_SLACK = 2
DOWNLOAD_RATIO_MIN = 0.9
RSS_GROWTH_MAX_MIB = 32
POOL_GAIN_MIN = 2.0

ONE_WORKER = """\
import sys
sys.path.insert(0, {root!r})
import source_aircall_salescaling.streams.recordings as recordings
recordings.DOWNLOAD_WORKERS = 1
recordings.RecordingsStream.batch_size = 1
from source_aircall_salescaling.run import run
run()
"""

# The connector with its pacing off (an API budget with no policy), for the `calls` read:
# that part measures the connector's own cost per record, next to an unpaced baseline; the
# pacing is measured on its own (`measure_pacing`). At requests_per_minute=1000, even
# pacing alone makes 242 requests last at least 14.5 s.
UNPACED = """\
import sys
sys.path.insert(0, {root!r})
from airbyte_cdk.sources.streams.call_rate import APIBudget
import source_aircall_salescaling.aircall.client as client
client.api_budget = lambda requests_per_minute: APIBudget(policies=[])
from source_aircall_salescaling.run import run
run()
"""

# Peak RSS of the connector's own memory: VmHWM, written when it exits. (`ru_maxrss` from
# wait4, which the harness reports, also counts the RSS the child had right after fork,
# i.e. this benchmark's own, which hides anything smaller.)
PEAK_RSS = """\
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as status, open(os.environ["BENCH_PEAK_RSS"], "w") as out:
        out.write(next(l.split()[1] for l in status if l.startswith("VmHWM:")))
atexit.register(_peak)
sys.argv = [{main!r}, *sys.argv[1:]]
sys.path.insert(0, {root!r})
runpy.run_path({main!r}, run_name="__main__")
"""

# PEAK_RSS, and the download pool forced to BENCH_WORKERS when set.
PEAK_RSS_WORKERS = """\
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as status, open(os.environ["BENCH_PEAK_RSS"], "w") as out:
        out.write(next(l.split()[1] for l in status if l.startswith("VmHWM:")))
atexit.register(_peak)
sys.argv = [{main!r}, *sys.argv[1:]]
sys.path.insert(0, {root!r})
if os.environ.get("BENCH_WORKERS"):
    import source_aircall_salescaling.streams.recordings as recordings
    recordings.DOWNLOAD_WORKERS = int(os.environ["BENCH_WORKERS"])
    recordings.RecordingsStream.batch_size = int(os.environ["BENCH_WORKERS"])
runpy.run_path({main!r}, run_name="__main__")
"""

STORAGE_SETS = ((1, 150), (8, 16))  # (files, MiB each)
STORAGE_POOLS = (1, 4)
NGINX_HOST = "127.0.0.4"
NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
    types {{ audio/mpeg mp3; }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    log_format timing '$msec $request_time $status $http_range $uri';
    access_log {work}/access.log timing;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    server {{
        listen {host}:{port};
        root {root};
        location /recordings/ {{ }}
    }}
}}
"""

# A statistical profile of the connector process (pyinstrument when installed, else cProfile).
PROFILE = """\
import os, runpy, sys
sys.argv = [{main!r}, *sys.argv[1:]]
sys.path.insert(0, {root!r})
out = os.environ["BENCH_PROFILE"]
try:
    from pyinstrument import Profiler
except ImportError:
    import cProfile, pstats
    profile = cProfile.Profile()
    profile.enable()
    try:
        runpy.run_path({main!r}, run_name="__main__")
    finally:
        profile.disable()
        with open(out, "w") as text:
            stats = pstats.Stats(profile, stream=text)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(20)
else:
    profiler = Profiler(interval=0.001)
    profiler.start()
    try:
        runpy.run_path({main!r}, run_name="__main__")
    finally:
        profiler.stop()
        with open(out, "w") as text:
            text.write(profiler.output_text(unicode=False, color=False))
"""


@dataclass
class Row:
    measure: str
    value: str
    target: str
    ok: bool | None  # None: information, no target

    @property
    def result(self) -> str:
        return "info" if self.ok is None else ("pass" if self.ok else "FAIL")


@dataclass
class Section:
    title: str
    rows: list[Row]


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
        return Connector(
            api_url=sandbox.api_url,
            workdir=workdir,
            extra_env={"AIRBYTE_STAGING_DIRECTORY": str(staging)},
        )

    def command(self) -> list[str]:
        return [sys.executable, str(self.package_root / "main.py")]

    def wrapped(self, template: str) -> str:
        """A `python -c` program that runs the connector's main.py inside `template`."""
        return template.format(main=str(self.package_root / "main.py"), root=str(self.package_root))

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

    # ------------------------------------------------------------------ calls read
    def measure_calls(self) -> None:
        """Connector and baseline reads of the same 12,000 calls, interleaved with their
        start-up alone (`spec`; the baseline's imports), each read counted past the
        start-up measured next to it: the median of those differences is reported."""
        with Sandbox(seed=7, calls=0, rate_limit=0, large_recordings=0) as sandbox:
            sandbox.add_bulk_calls(CALLS, days=10)
            config = sandbox.config(requests_per_minute=1000, first_sync_max_calls=1_000_000)
            connector_past: list[Timing] = []
            baseline_past: list[Timing] = []
            reads: list[Timing] = []
            same = True
            connector_requests = baseline_requests = 0
            for index in range(self.repeats):
                connector = self.connector(sandbox, "calls")
                startup = self.spec(connector)
                sandbox.clear_log()
                result = self.run(
                    connector,
                    "read",
                    config,
                    catalog({"calls": "full_refresh"}),
                    command=[sys.executable, "-c", self.wrapped(UNPACED)],
                )
                reads.append(Timing(result.seconds, result.cpu_seconds))
                connector_past.append(
                    Timing(result.seconds - startup.wall, result.cpu_seconds - startup.cpu)
                )
                log = sandbox.requests_log("api")
                connector_requests = len(log)
                start, end = int(log[0]["query"]["from"]), int(log[0]["query"]["to"])
                out = connector.workdir / "baseline.jsonl"
                imports = self.baseline(sandbox, 0, 0, Path(os.devnull), True)
                sandbox.clear_log()
                read = self.baseline(sandbox, start, end, out, False)
                baseline_requests = len(sandbox.requests_log("api"))
                baseline_past.append(Timing(read.wall - imports.wall, read.cpu - imports.cpu))
                if index == 0:
                    same = same_records(result, out)
            if self.profile:
                self.profile_calls(sandbox, config)
            self.request_counts(sandbox, config)

        past = median_timing(connector_past)
        base = median_timing(baseline_past)
        whole = median_timing(reads)
        wall_ratio, cpu_ratio = past.wall / base.wall, past.cpu / base.cpu
        self.sections.insert(
            0,
            Section(
                f"calls: full read of {CALLS:,} calls (pacing off; median of {self.repeats})",
                [
                    Row(
                        "connector, past start-up",
                        f"{past.wall:.2f} s wall, {past.cpu:.2f} s CPU, "
                        f"{CALLS / past.wall:,.0f} rec/s",
                        "",
                        None,
                    ),
                    Row(
                        "baseline (requests + json), past start-up",
                        f"{base.wall:.2f} s wall, {base.cpu:.2f} s CPU, "
                        f"{CALLS / base.wall:,.0f} rec/s",
                        "",
                        None,
                    ),
                    Row(
                        "ratio connector / baseline, wall",
                        f"{wall_ratio:.2f}x",
                        f"<= {CALLS_RATIO_MAX}x",
                        wall_ratio <= CALLS_RATIO_MAX,
                    ),
                    Row(
                        "ratio connector / baseline, CPU",
                        f"{cpu_ratio:.2f}x",
                        "(official connector: 5.5x)",
                        None,
                    ),
                    Row(
                        "records identical to the baseline's",
                        f"{'yes' if same else 'NO'} ({connector_requests} vs "
                        f"{baseline_requests} requests)",
                        "same records",
                        same,
                    ),
                ],
            ),
        )
        self.notes.append(
            f"calls read, whole connector process: {whole.wall:.2f} s wall, "
            f"{whole.cpu:.2f} s CPU (median)."
        )

    def baseline(
        self, sandbox: Sandbox, start: int, end: int, out: Path, import_only: bool
    ) -> Timing:
        command = [
            sys.executable,
            str(ROOT / "scripts" / "bench_baseline.py"),
            "--api-url", sandbox.api_url, "--api-id", sandbox.api_id,
            "--api-token", sandbox.api_token,
            "--from", str(start), "--to", str(end), "--out", str(out),
        ]  # fmt: skip
        if import_only:
            command.append("--import-only")
        started = time.monotonic()
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("the baseline failed")
        return Timing(seconds, usage.ru_utime + usage.ru_stime)

    def profile_calls(self, sandbox: Sandbox, config: dict[str, Any]) -> None:
        connector = self.connector(sandbox, "profile")
        output = connector.workdir / "profile.txt"
        connector.extra_env["BENCH_PROFILE"] = str(output)
        self.run(
            connector,
            "read",
            config,
            catalog({"calls": "full_refresh"}),
            command=[sys.executable, "-c", self.wrapped(PROFILE)],
        )
        self.profile_text = output.read_text()

    # ------------------------------------------------------------------ requests per sync
    def request_counts(self, sandbox: Sandbox, config: dict[str, Any]) -> None:
        """Three syncs in a row, each from the state of the one before, all three streams
        selected: the requests the sandbox received against the lower bound."""
        connector = self.connector(sandbox, "requests")
        everything = catalog(("users", "calls", "recordings"), include_files=True)
        users_pages = max(1, math.ceil(len(sandbox.users()) / PAGE))
        rows: list[Row] = []
        state: list[dict[str, Any]] | None = None
        for label in ("first sync (whole window)", "steady state, 0 new calls", "300"):
            if label == "300":
                label = f"steady state, {NEW_CALLS} new calls"
                self.add_new_calls(sandbox, state or [])
            previous = last_cursor(state or [])
            pending = pending_ids(state or [])
            sandbox.clear_log()
            started = time.monotonic()
            result = self.run(connector, "read", config, everything, state)
            seconds = time.monotonic() - started
            state = result.states()
            log = sandbox.requests_log("api")
            by_path = Counter(
                "/v1/calls/{id}" if e["path"].startswith("/v1/calls/") else e["path"] for e in log
            )
            listing = [e for e in log if e["path"] == "/v1/calls"]
            pages = {(e["query"]["from"], e["query"]["to"], e["query"]["page"]) for e in listing}
            times = sorted(int(c["started_at"]) for c in sandbox.calls())
            end = int(listing[0]["query"]["to"]) if listing else sandbox.now()
            listed = 0
            if listing:
                window = TimeWindow(int(listing[0]["query"]["from"]), end)
                listed = calls_in(times, window)
                if previous is not None and label.endswith(" 0 new calls"):
                    self.relisted_seconds = previous - window.start
            # What any reader must list: the whole window on a first sync; afterwards the
            # calls started since the last cursor, and the calls still pending.
            if previous is None:
                needed = calls_in(times, TimeWindow(end - config_window(config), end))
                counts = count_requests(times, TimeWindow(end - config_window(config), end))
            else:
                needed = calls_in(times, TimeWindow(previous, end)) + len(pending)
                counts = 0
            bound = counts + max(1, math.ceil(needed / PAGE)) + users_pages
            total = len(log)
            twice = len(listing) - len(pages)
            rows.append(
                Row(
                    label,
                    f"{total} requests",
                    f"<= {bound} + {REQUESTS_SLACK}",
                    total <= bound + REQUESTS_SLACK and twice == 0,
                )
            )
            self.notes.append(
                f"{label}: {by_path['/v1/calls']} calls pages ({listed} calls listed) + "
                f"{by_path['/v2/users']} users pages + {by_path['/v1/calls/{id}']} call "
                f"refreshes, {twice} pages read twice; lower bound {counts} count + "
                f"ceil({needed}/{PAGE}) + {users_pages} users = {bound}; {seconds:.1f} s, "
                f"{len(result.records('calls'))} calls and "
                f"{len(result.records('recordings'))} recordings emitted."
            )
        self.sections.append(
            Section(
                "requests per sync, users + calls + recordings (files included), "
                "from the sandbox's request log",
                rows,
            )
        )

    @staticmethod
    def add_new_calls(sandbox: Sandbox, state: list[dict[str, Any]]) -> None:
        """NEW_CALLS done calls with recordings, all started after the last sync's cursor."""
        cursor = last_cursor(state)
        assert cursor is not None, "the previous sync saved no cursor"
        while sandbox.now() - cursor < 3:
            time.sleep(0.5)
        ago = sandbox.now() - cursor - 1
        sandbox.add_calls(
            NEW_CALLS,
            status="done",
            recording=True,
            started_ago_seconds=ago,
            spread_seconds=ago - 1,
            duration=1,
        )

    # ------------------------------------------------------------------ recordings
    def measure_recordings(self) -> None:
        rows: list[Row] = []
        with Sandbox(seed=7, calls=0, rate_limit=0, large_recordings=0) as sandbox:
            agent = salescaling_user(sandbox)
            recordings_only = catalog({"recordings": "incremental"}, include_files=True)
            config = sandbox.config(requests_per_minute=1000, first_sync_max_calls=1)
            sandbox.add_calls(
                1, user_id=agent, recording=True, recording_size=MIB, started_ago_seconds=7200
            )
            small = self.download_run(sandbox, config, recordings_only)[1]
            big_call = sandbox.add_calls(
                1,
                user_id=agent,
                recording=True,
                recording_size=LARGE_MIB * MIB,
                started_ago_seconds=3600,
            )[0]
            connector_seconds: list[float] = []
            baseline_seconds: list[float] = []
            hashed_seconds: list[float] = []
            big_rss: list[int] = []
            for _ in range(self.repeats):
                seconds, rss = self.download_run(sandbox, config, recordings_only)
                connector_seconds.append(seconds)
                big_rss.append(rss)
                baseline_seconds.append(plain_download(sandbox, big_call["id"], False))
                hashed_seconds.append(plain_download(sandbox, big_call["id"], True))
        size = LARGE_MIB
        connector_rate = size / statistics.median(connector_seconds)
        baseline_rate = size / statistics.median(baseline_seconds)
        hashed_rate = size / statistics.median(hashed_seconds)
        ratio = connector_rate / baseline_rate
        rows.append(
            Row(
                f"download {size} MiB: connector / plain requests",
                f"{connector_rate:.0f} / {baseline_rate:.0f} MiB/s = {ratio:.2f}x",
                f">= {DOWNLOAD_RATIO_MIN}x",
                ratio >= DOWNLOAD_RATIO_MIN,
            )
        )
        rows.append(
            Row(
                "  the same, plain requests + sha256",
                f"{connector_rate:.0f} / {hashed_rate:.0f} MiB/s = "
                f"{connector_rate / hashed_rate:.2f}x",
                "",
                None,
            )
        )
        growth = (max(big_rss) - small) / 1024
        rows.append(
            Row(
                f"peak RSS, 1 MiB vs {size} MiB recording",
                f"{small / 1024:.0f} vs {max(big_rss) / 1024:.0f} MiB: +{growth:.1f} MiB",
                f"< +{RSS_GROWTH_MAX_MIB} MiB",
                growth < RSS_GROWTH_MAX_MIB,
            )
        )
        rows.extend(self.measure_pool())
        self.sections.append(
            Section(f"recordings (include_files; medians of {self.repeats})", rows)
        )

    def download_run(
        self, sandbox: Sandbox, config: dict[str, Any], configured: dict[str, Any]
    ) -> tuple[float, int]:
        """(seconds from the file's GET to its record, peak RSS KiB) of a one-file sync."""
        connector = self.connector(sandbox, "download")
        peak_file = connector.workdir / "peak_rss_kib"
        connector.extra_env["BENCH_PEAK_RSS"] = str(peak_file)
        sandbox.clear_log()
        command = [sys.executable, "-c", self.wrapped(PEAK_RSS)]
        result = self.run(connector, "read", config, configured, command=command)
        records = result.record_messages("recordings")
        gets = [e for e in sandbox.requests_log("storage") if not e["range"]]
        if len(records) != 1 or len(gets) != 1:
            raise RuntimeError(f"expected one recording, got {len(records)} ({len(gets)} GETs)")
        seconds = records[0]["record"]["emitted_at"] / 1000 - float(gets[0]["t"])
        shutil.rmtree(connector.extra_env["AIRBYTE_STAGING_DIRECTORY"], ignore_errors=True)
        return seconds, int(peak_file.read_text())

    def measure_pool(self) -> list[Row]:
        with Sandbox(seed=7, calls=0, rate_limit=0, large_recordings=0) as sandbox:
            calls = sandbox.add_calls(
                SMALL_RECORDINGS,
                user_id=salescaling_user(sandbox),
                recording=True,
                recording_size=256 * 1024,
                started_ago_seconds=3600,
                spread_seconds=1800,
            )
            sandbox.set_faults(latency_ms=LATENCY_MS)
            config = sandbox.config(requests_per_minute=1000, first_sync_max_calls=SMALL_RECORDINGS)
            configured = catalog({"recordings": "incremental"}, include_files=True)
            one_worker = [sys.executable, "-c", self.wrapped(ONE_WORKER)]
            switch = has_worker_switch()
            pooled: list[float] = []
            single: list[float] = []
            for _ in range(max(1, self.repeats // 2)):
                pooled.append(self.pool_run(sandbox, config, configured, None))
                if switch:
                    single.append(self.pool_run(sandbox, config, configured, one_worker))
            urls = [
                sandbox.api_get(f"/v1/calls/{call['id']}").json()["call"]["recording"]
                for call in calls
            ]
            started = time.monotonic()
            for url in urls:
                with requests.get(url, stream=True, timeout=60) as response:
                    for _ in response.iter_content(MIB):
                        pass
            sequential_loop = time.monotonic() - started
        pool = statistics.median(pooled)
        reference = statistics.median(single) if switch else sequential_loop
        how = "1 worker" if switch else "plain loop"
        gain = reference / pool
        self.notes.append(
            f"{SMALL_RECORDINGS} recordings at {LATENCY_MS} ms latency: the download phase "
            "(first file GET to last record) of the connector's pool"
            + (
                " against the same with DOWNLOAD_WORKERS forced to 1"
                if switch
                else " against a plain sequential loop (the package has no worker switch)"
            )
            + f"; plain requests one after the other: {sequential_loop:.2f} s."
        )
        return [
            Row(
                f"{SMALL_RECORDINGS} recordings, {LATENCY_MS} ms latency",
                f"pool {pool:.2f} s, {how} {reference:.2f} s: {gain:.1f}x",
                f">= {POOL_GAIN_MIN:.0f}x",
                gain >= POOL_GAIN_MIN,
            )
        ]

    def pool_run(
        self,
        sandbox: Sandbox,
        config: dict[str, Any],
        configured: dict[str, Any],
        command: list[str] | None,
    ) -> float:
        """Seconds from the first file GET to the last recording record."""
        connector = self.connector(sandbox, "pool")
        sandbox.clear_log()
        result = self.run(connector, "read", config, configured, command=command)
        records = result.record_messages("recordings")
        gets = [e for e in sandbox.requests_log("storage") if not e["range"]]
        if len(records) != SMALL_RECORDINGS:
            raise RuntimeError(f"expected {SMALL_RECORDINGS} recordings, got {len(records)}")
        last = max(float(r["record"]["emitted_at"]) for r in records) / 1000
        return last - min(float(e["t"]) for e in gets)

    # ------------------------------------------------------------------ storage (nginx)
    def measure_storage(self) -> None:
        """The connector's downloads from a real web server, against plain requests +
        sha256 of the same URLs with as many threads as the connector's pool."""
        rows: list[Row] = []
        with Nginx(SCRATCH / "nginx") as nginx:
            for files, mib in STORAGE_SETS:
                rows.extend(self.storage_set(nginx, files, mib))
        self.sections.append(
            Section(
                f"storage: recordings served by nginx {nginx.version} on loopback "
                f"(medians of {self.repeats})",
                rows,
            )
        )

    def storage_set(self, nginx: Nginx, files: int, mib: int) -> list[Row]:
        rows: list[Row] = []
        with Sandbox(
            seed=7, calls=0, rate_limit=0, large_recordings=0, media_url=nginx.url
        ) as sandbox:
            calls = sandbox.add_calls(
                files,
                user_id=salescaling_user(sandbox),
                recording=True,
                recording_size=mib * MIB,
                started_ago_seconds=3600,
                spread_seconds=600,
            )
            for call in calls:
                nginx.publish(
                    f"recordings/{call['id']}.mp3",
                    recording_chunks(call["id"], mib * MIB, sandbox.seed),
                )
            config = sandbox.config(requests_per_minute=1000, first_sync_max_calls=files)
            configured = catalog({"recordings": "incremental"}, include_files=True)
            total = files * mib
            for pool in STORAGE_POOLS:
                connector_seconds: list[float] = []
                baseline_seconds: list[float] = []
                peaks: list[int] = []
                for _ in range(self.repeats):
                    seconds, peak = self.storage_run(
                        sandbox, nginx, config, configured, files, pool
                    )
                    connector_seconds.append(seconds)
                    peaks.append(peak)
                    baseline_seconds.append(
                        plain_downloads(sandbox, [c["id"] for c in calls], pool)
                    )
                connector_rate = total / statistics.median(connector_seconds)
                baseline_rate = total / statistics.median(baseline_seconds)
                ratio = connector_rate / baseline_rate
                rows.append(
                    Row(
                        f"{files} x {mib} MiB, pool {pool}: connector / requests + sha256",
                        f"{connector_rate:.0f} / {baseline_rate:.0f} MiB/s = {ratio:.2f}x, "
                        f"peak RSS {max(peaks) / 1024:.0f} MiB",
                        f">= {DOWNLOAD_RATIO_MIN}x",
                        ratio >= DOWNLOAD_RATIO_MIN,
                    )
                )
        return rows

    def storage_run(
        self,
        sandbox: Sandbox,
        nginx: Nginx,
        config: dict[str, Any],
        configured: dict[str, Any],
        files: int,
        pool: int,
    ) -> tuple[float, int]:
        """(seconds from the first file GET's start to the last record, peak RSS KiB)."""
        connector = self.connector(sandbox, f"storage-{pool}")
        peak_file = connector.workdir / "peak_rss_kib"
        connector.extra_env["BENCH_PEAK_RSS"] = str(peak_file)
        connector.extra_env["BENCH_WORKERS"] = str(pool)
        nginx.clear_log()
        command = [sys.executable, "-c", self.wrapped(PEAK_RSS_WORKERS)]
        result = self.run(connector, "read", config, configured, command=command)
        records = result.record_messages("recordings")
        gets = [start for start, ranged in nginx.requests() if not ranged]
        if len(records) != files or len(gets) != files:
            raise RuntimeError(
                f"expected {files} recordings, got {len(records)} ({len(gets)} GETs)"
            )
        last = max(float(r["record"]["emitted_at"]) for r in records) / 1000
        shutil.rmtree(connector.extra_env["AIRBYTE_STAGING_DIRECTORY"], ignore_errors=True)
        return last - min(gets), int(peak_file.read_text())

    # ------------------------------------------------------------------ pacing
    def measure_pacing(self, rates: tuple[int, ...] = PACING_RATES) -> None:
        """One 12,000-call read per rate against a token bucket at that rate (burst 2),
        the connector paced at the same rate: what the sandbox received, when."""
        rows: list[Row] = []
        for rate in rates:
            with Sandbox(
                seed=7,
                calls=0,
                rate_limit=rate,
                rate_bucket_burst=PACING_BURST,
                large_recordings=0,
            ) as sandbox:
                sandbox.add_bulk_calls(CALLS, days=10)
                config = sandbox.config(requests_per_minute=rate, first_sync_max_calls=1_000_000)
                connector = self.connector(sandbox, f"pacing-{rate}")
                startup = self.spec(connector)
                sandbox.clear_log()
                result = self.run(connector, "read", config, catalog({"calls": "full_refresh"}))
                log = sandbox.requests_log("api")
                times = sorted(int(c["started_at"]) for c in sandbox.calls())
            listing = [e for e in log if e["path"] == "/v1/calls"]
            end = int(listing[0]["query"]["to"])
            window = TimeWindow(end - config_window(config), end)
            bound = count_requests(times, window) + max(
                1, math.ceil(calls_in(times, window) / PAGE)
            )
            sent = sorted(float(e["t"]) for e in log)
            refused = sum(1 for e in log if e["status"] == 429)
            busiest = most_in_span(sent, SPAN_SECONDS) / SPAN_SECONDS
            mean = (len(sent) - 1) / (sent[-1] - sent[0]) if len(sent) > 1 else 0.0
            read_seconds = result.seconds - startup.wall
            ideal = bound * 60 / rate
            rows.append(
                Row(
                    f"{rate}/min: requests, answers 429",
                    f"{len(log)} requests (bound {bound}), {refused} x 429",
                    f"<= {bound} + {REQUESTS_SLACK}, 0 x 429",
                    refused == 0 and len(log) <= bound + REQUESTS_SLACK,
                )
            )
            rows.append(
                Row(
                    f"{rate}/min: requests/s as sent",
                    f"max {busiest:.2f}/s in any {SPAN_SECONDS:.0f} s, mean {mean:.2f}/s "
                    f"(the rate: {rate / 60:.2f}/s)",
                    "",
                    None,
                )
            )
            rows.append(
                Row(
                    f"{rate}/min: read time past start-up vs bound / rate",
                    f"{read_seconds:.1f} s vs {ideal:.1f} s: "
                    f"{(read_seconds / ideal - 1) * 100:+.1f}%",
                    "",
                    None,
                )
            )
        self.sections.append(
            Section(
                f"pacing: {CALLS:,} calls read against a token bucket (burst {PACING_BURST}) "
                "at the configured rate",
                rows,
            )
        )

    # ------------------------------------------------------------------ scale model
    def scale_model(self) -> None:
        """Requests from the package's own window splitting (`windows_newest_first`) over
        a synthetic uniform account; duration = requests / requests per minute."""
        span = SCALE_DAYS * 86_400
        start = 1_800_000_000 - span
        started = [start + 1 + (i * span) // SCALE_CALLS for i in range(SCALE_CALLS)]
        window = TimeWindow(start, start + span)
        leaves, pages = 0, 0
        for leaf in windows_newest_first(window, lambda part: calls_in(started, part)):
            leaves += 1
            pages += max(1, math.ceil(calls_in(started, leaf) / PAGE))
        counts = count_requests(started, window)
        total = counts + pages + 1
        bound = counts + math.ceil(SCALE_CALLS / PAGE) + 1
        relisted = self.relisted_seconds if self.relisted_seconds is not None else 3600
        per_15 = math.ceil(SCALE_CALLS / span * (900 + relisted) / PAGE) + 1
        self.sections.append(
            Section(
                f"scale model: {SCALE_CALLS:,} calls uniform over {SCALE_DAYS} days, "
                f"{SCALE_RPM} requests/min",
                [
                    Row(
                        "first sync, whole window",
                        f"{total:,} requests, {total / SCALE_RPM:.1f} min "
                        f"(at 60/min {total / 60:.1f} min)",
                        f"<= {bound:,} + {REQUESTS_SLACK}",
                        total <= bound + REQUESTS_SLACK,
                    ),
                    Row(
                        "every 15 minutes after that",
                        f"{per_15} requests, {per_15 / SCALE_RPM * 60:.1f} s",
                        "",
                        None,
                    ),
                ],
            )
        )
        self.notes.append(
            f"scale model: {counts} count requests (windows split under the 10,000 cap) + "
            f"{pages:,} pages in {leaves} windows + 1 users page; a 15-minute sync lists "
            f"15 min of new calls plus the {relisted / 60:.0f} min before the cursor that "
            f"the connector lists again ({'measured above' if self.relisted_seconds is not None else 'assumed'})."
        )

    # ------------------------------------------------------------------ output
    def print(self) -> None:
        rows = [r for s in self.sections for r in s.rows]
        width_measure = max(len(r.measure) for r in rows) + 2
        width_value = max(len(r.value) for r in rows)
        width_target = max(len(r.target) for r in rows)
        rule = "-" * (width_measure + width_value + width_target + 12)
        print(
            f"connector start-up (`spec`: Python, airbyte-cdk import and exit): "
            f"{self.startup.wall:.2f} s wall, {self.startup.cpu:.2f} s CPU "
            f"(median of {len(self.startups)}); the times below are counted past it."
        )
        print(rule)
        print(f"{'measure':<{width_measure}}  {'value':<{width_value}}  "
              f"{'target':<{width_target}}  result")  # fmt: skip
        for section in self.sections:
            print(rule)
            print(section.title)
            for row in section.rows:
                print(
                    f"  {row.measure:<{width_measure - 2}}  {row.value:<{width_value}}  "
                    f"{row.target:<{width_target}}  {row.result}"
                )
        print(rule)
        failed = [r.measure for r in rows if r.ok is False]
        print(f"targets: {sum(1 for r in rows if r.ok)} met, {len(failed)} not met"
              + (f": {'; '.join(failed)}" if failed else ""))  # fmt: skip
        for note in self.notes:
            print(f"- {note}")
        if self.profile_text:
            print("\nprofile of the connector's calls read:")
            print(self.profile_text)


def count_requests(started: list[int], window: TimeWindow) -> int:
    """Requests that only count: the windows that must be split under the 10,000 cap
    (`windows_newest_first`); the count of a window that is read is its first page."""
    counted: set[TimeWindow] = set()

    def count(part: TimeWindow) -> int:
        counted.add(part)
        return calls_in(started, part)

    leaves = sum(1 for _ in windows_newest_first(window, count, RESULT_CAP))
    return max(0, len(counted) - leaves)


def most_in_span(sent: list[float], span: float) -> int:
    """The most requests in any `span` seconds ([t, t + span) from each request, `sent`
    sorted): a window that starts anywhere else holds no more than one that starts at a
    request."""
    return max((bisect_left(sent, t + span) - i for i, t in enumerate(sent)), default=0)


def config_window(config: dict[str, Any]) -> int:
    return int(config.get("import_window_days", 14)) * 86_400


def pending_ids(state: list[dict[str, Any]]) -> set[str]:
    """Calls the `calls` and `recordings` states still wait for (they are listed again)."""
    return {
        call_id
        for s in state
        if s["stream"]["stream_descriptor"]["name"] in ("calls", "recordings")
        for call_id in (s["stream"].get("stream_state") or {}).get("pending", {})
    }


def last_cursor(state: list[dict[str, Any]]) -> int | None:
    """The newest `cursor` of the `calls` and `recordings` states (UNIX seconds)."""
    cursors = [
        int(datetime.strptime(c, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
        for s in state
        if s["stream"]["stream_descriptor"]["name"] in ("calls", "recordings")
        and (c := (s["stream"].get("stream_state") or {}).get("cursor"))
    ]
    return max(cursors, default=None)


def calls_in(started: list[int], window: TimeWindow) -> int:
    """Calls with window.start < started_at <= window.end (`started` sorted)."""
    return bisect_right(started, window.end) - bisect_right(started, window.start)


def same_records(run: ConnectorRun, baseline_out: Path) -> bool:
    """The connector's `calls` records equal the baseline's (null fields, which the CDK's
    serializer leaves out, are ignored on both sides)."""

    def normalized(records: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = ({k: v for k, v in r.items() if v is not None} for r in records)
        return sorted(kept, key=lambda r: int(r["id"]))

    with open(baseline_out) as lines:
        baseline = normalized(json.loads(line)["record"]["data"] for line in lines)
    return normalized(iter(run.records("calls"))) == baseline


def salescaling_user(sandbox: Sandbox) -> int:
    return int(next(u["id"] for u in sandbox.users() if u["salescaling"]))


def plain_download(sandbox: Sandbox, call_id: int, sha256: bool) -> float:
    """Seconds for plain requests to stream the recording to disk (a fresh URL first);
    with `sha256`, hashing it on the way as the connector must (its `sha256` field)."""
    url = sandbox.api_get(f"/v1/calls/{call_id}").json()["call"]["recording"]
    target = SCRATCH / "baseline.mp3"
    digest = hashlib.sha256()
    started = time.monotonic()
    with requests.get(url, stream=True, timeout=60) as response, open(target, "wb") as out:
        response.raise_for_status()
        for chunk in response.iter_content(MIB):
            if sha256:
                digest.update(chunk)
            out.write(chunk)
    seconds = time.monotonic() - started
    target.unlink()
    return seconds


def plain_downloads(sandbox: Sandbox, call_ids: list[int], threads: int) -> float:
    """Seconds for plain requests + sha256 to stream these recordings to disk (fresh URLs
    first, not timed), `threads` at a time, one session per thread."""
    urls = [sandbox.api_get(f"/v1/calls/{i}").json()["call"]["recording"] for i in call_ids]
    local = threading.local()

    def fetch(numbered: tuple[int, str]) -> None:
        index, url = numbered
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        target = SCRATCH / f"baseline-{index}.mp3"
        digest = hashlib.sha256()
        with session.get(url, stream=True, timeout=60) as response, open(target, "wb") as out:
            response.raise_for_status()
            for chunk in response.iter_content(MIB):
                digest.update(chunk)
                out.write(chunk)
        target.unlink()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        started = time.monotonic()
        list(pool.map(fetch, enumerate(urls)))
        return time.monotonic() - started


def nginx_binary() -> str:
    """nginx from Debian's packages, installed when missing (as `make bench` may run on a
    fresh machine)."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )
    if found:
        return found
    print("  installing nginx (apt-get)", file=sys.stderr, flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        [*sudo, "apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL
    )
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-q", "nginx"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx:
    """nginx serving `root` on a free loopback port, in the foreground, logging each
    request's start time and whether it asked for a range."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.work = Path(tempfile.mkdtemp(prefix="aircall-bench-nginx-"))
        self.binary = nginx_binary()
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.version = ""

    def __enter__(self) -> Nginx:
        (self.root / "recordings").mkdir(parents=True, exist_ok=True)
        for folder in (self.root, self.root / "recordings"):
            folder.chmod(0o755)  # nginx's workers run as an unprivileged user
        with socket.socket() as probe:
            probe.bind((NGINX_HOST, 0))
            port = probe.getsockname()[1]
        conf = self.work / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(work=self.work, host=NGINX_HOST, port=port, root=self.root)
        )
        shown = subprocess.run([self.binary, "-v"], capture_output=True, text=True)
        self.version = shown.stderr.strip().split("/")[-1]
        self.process = subprocess.Popen(
            [
                self.binary,
                "-c",
                str(conf),
                "-p",
                str(self.work),
                "-e",
                str(self.work / "error.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://{NGINX_HOST}:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection((NGINX_HOST, port), 0.2):
                return self
            time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError(f"nginx did not start: {(self.work / 'error.log').read_text()[-800:]}")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        shutil.rmtree(self.work, ignore_errors=True)

    def publish(self, relative: str, chunks: Iterator[bytes]) -> None:
        target = self.root / relative
        with open(target, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        target.chmod(0o644)

    def clear_log(self) -> None:
        (self.work / "access.log").write_text("")  # nginx appends: truncating is safe

    def requests(self) -> list[tuple[float, bool]]:
        """(start time, asked for a range) of each request in the access log."""
        entries = []
        for line in (self.work / "access.log").read_text().splitlines():
            msec, took, _status, ranged, _uri = line.split(" ", 4)
            entries.append((float(msec) - float(took), ranged != "-"))
        return entries


def has_worker_switch() -> bool:
    import source_aircall_salescaling.streams.recordings as recordings

    return hasattr(recordings, "DOWNLOAD_WORKERS")


def timed(label: str, step: Callable[[], None]) -> None:
    started = time.monotonic()
    step()
    print(f"  {label}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per timed measure")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the calls read (pyinstrument if installed, else cProfile)",
    )
    parser.add_argument("--package-root", type=Path, default=ROOT, help="where main.py is")
    parser.add_argument(
        "--only",
        choices=("calls", "recordings", "storage", "pacing", "scale"),
        action="append",
        help="run only these parts (calls includes requests per sync); default: all",
    )
    parser.add_argument(
        "--rates",
        type=lambda text: tuple(int(part) for part in text.split(",")),
        default=PACING_RATES,
        help="requests a minute tried by the pacing part, comma-separated (default 60,120,600)",
    )
    args = parser.parse_args(argv)
    WORKDIR.mkdir(parents=True, exist_ok=True)
    bench = Bench(max(1, args.repeats), args.package_root.resolve(), args.profile)
    load = os.getloadavg()[0]
    started = time.monotonic()
    print(
        f"make bench: {platform.python_implementation()} {platform.python_version()}, "
        f"airbyte-cdk {version('airbyte-cdk')}, {os.cpu_count()} CPUs, "
        f"load average {load:.1f} at start; progress on stderr.",
        flush=True,
    )
    parts = set(args.only or ("calls", "recordings", "storage", "pacing", "scale"))
    try:
        timed("start-up", bench.measure_startup)
        if "calls" in parts:
            timed("calls read and requests per sync", bench.measure_calls)
        if "recordings" in parts:
            timed("recordings", bench.measure_recordings)
        if "storage" in parts:
            timed("recordings from nginx", bench.measure_storage)
        if "pacing" in parts:
            timed("pacing against a token bucket", lambda: bench.measure_pacing(args.rates))
        if "scale" in parts:
            timed("scale model", bench.scale_model)
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)  # RAM when it is a tmpfs
    bench.print()
    print(
        f"bench took {time.monotonic() - started:.0f} s; recordings were written under "
        f"{SCRATCH.parent}, load average {os.getloadavg()[0]:.1f} at the end."
    )
    shutil.rmtree(WORKDIR, ignore_errors=True)
    with contextlib.suppress(OSError):
        WORKDIR.parent.rmdir()  # when no other run is using it
    return 0


if __name__ == "__main__":
    sys.exit(main())
