"""The storage part: recordings served by nginx, the way S3 would serve them.

1 x 150 MiB and 8 x 16 MiB, the connector with its download pool at 1 and 4 workers
against plain requests + sha256 of the same URLs with as many threads.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from aircall_sandbox.recordings import recording_chunks
from aircall_sandbox.testing import Sandbox
from tests.harness import catalog

from .kit import (
    MIB,
    PEAK_RSS,
    SCRATCH,
    Bench,
    download_row,
    recording_url,
    salescaling_user,
    stream_to_disk,
)
from .nginx import Nginx
from .table import Row, Section

STORAGE_SETS = ((1, 150), (8, 16))  # (files, MiB each)
STORAGE_POOLS = (1, 4)


def measure(bench: Bench) -> None:
    """The connector's downloads from a real web server, against plain requests +
    sha256 of the same URLs with as many threads as the connector's pool."""
    rows: list[Row] = []
    with Nginx(SCRATCH / "nginx") as nginx:
        for files, mib in STORAGE_SETS:
            rows.extend(storage_set(bench, nginx, files, mib))
    bench.sections.append(
        Section(
            f"storage: recordings served by nginx {nginx.version} on loopback "
            f"(medians of {bench.repeats})",
            rows,
        )
    )


def storage_set(bench: Bench, nginx: Nginx, files: int, mib: int) -> list[Row]:
    rows: list[Row] = []
    with Sandbox(seed=7, calls=0, rate_limit=0, large_recordings=0, media_url=nginx.url) as sandbox:
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
            for _ in range(bench.repeats):
                seconds, peak = storage_run(bench, sandbox, nginx, config, configured, files, pool)
                connector_seconds.append(seconds)
                peaks.append(peak)
                baseline_seconds.append(plain_downloads(sandbox, [c["id"] for c in calls], pool))
            connector_rate = total / statistics.median(connector_seconds)
            baseline_rate = total / statistics.median(baseline_seconds)
            rows.append(
                download_row(
                    f"{files} x {mib} MiB, pool {pool}: connector / requests + sha256",
                    connector_rate,
                    baseline_rate,
                    f", peak RSS {max(peaks) / 1024:.0f} MiB",
                )
            )
    return rows


def storage_run(
    bench: Bench,
    sandbox: Sandbox,
    nginx: Nginx,
    config: dict[str, Any],
    configured: dict[str, Any],
    files: int,
    pool: int,
) -> tuple[float, int]:
    """(seconds from the first file GET's start to the last record, peak RSS KiB)."""
    connector = bench.connector(sandbox, f"storage-{pool}")
    peak_file = connector.workdir / "peak_rss_kib"
    connector.extra_env["BENCH_PEAK_RSS"] = str(peak_file)
    connector.extra_env["BENCH_WORKERS"] = str(pool)
    nginx.clear_log()
    command = [sys.executable, "-c", bench.wrapped(PEAK_RSS)]
    result = bench.run(connector, "read", config, configured, command=command)
    records = result.record_messages("recordings")
    gets = [start for start, ranged in nginx.requests() if not ranged]
    if len(records) != files or len(gets) != files:
        raise RuntimeError(f"expected {files} recordings, got {len(records)} ({len(gets)} GETs)")
    last = max(float(r["record"]["emitted_at"]) for r in records) / 1000
    shutil.rmtree(connector.extra_env["AIRBYTE_STAGING_DIRECTORY"], ignore_errors=True)
    return last - min(gets), int(peak_file.read_text())


def plain_downloads(sandbox: Sandbox, call_ids: list[int], threads: int) -> float:
    """Seconds for plain requests + sha256 to stream these recordings to disk (fresh URLs
    first, not timed), `threads` at a time, one session per thread."""
    urls = [recording_url(sandbox, i) for i in call_ids]
    local = threading.local()

    def fetch(numbered: tuple[int, str]) -> None:
        index, url = numbered
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        target = SCRATCH / f"baseline-{index}.mp3"
        stream_to_disk(session.get, url, target, True)
        target.unlink()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        started = time.monotonic()
        list(pool.map(fetch, enumerate(urls)))
        return time.monotonic() - started
