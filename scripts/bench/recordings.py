"""The recordings part: downloads from the sandbox's storage host.

One 150 MiB recording against plain requests streaming the same URL to disk (and plain
requests + sha256, for information), peak RSS with a 1 MiB against a 150 MiB recording,
and 20 small recordings at 100 ms of latency: the download pool against one worker.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time
from typing import Any

import requests

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
from .table import Row, Section

LARGE_MIB = 150
SMALL_RECORDINGS = 20
LATENCY_MS = 100
RSS_GROWTH_MAX_MIB = 32
POOL_GAIN_MIN = 2.0

# The connector with its download pool forced to one worker, for the pool's gain.
ONE_WORKER = """\
import source_aircall_salescaling.streams.recordings as recordings
recordings.DOWNLOAD_WORKERS = 1
recordings.RecordingsStream.batch_size = 1
from source_aircall_salescaling.run import run
run()
"""


def measure(bench: Bench) -> None:
    rows: list[Row] = []
    with Sandbox(seed=7, calls=0, rate_limit=0, large_recordings=0) as sandbox:
        agent = salescaling_user(sandbox)
        recordings_only = catalog({"recordings": "incremental"}, include_files=True)
        config = sandbox.config(requests_per_minute=1000, first_sync_max_calls=1)
        sandbox.add_calls(
            1, user_id=agent, recording=True, recording_size=MIB, started_ago_seconds=7200
        )
        small = download_run(bench, sandbox, config, recordings_only)[1]
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
        for _ in range(bench.repeats):
            seconds, rss = download_run(bench, sandbox, config, recordings_only)
            connector_seconds.append(seconds)
            big_rss.append(rss)
            baseline_seconds.append(plain_download(sandbox, big_call["id"], False))
            hashed_seconds.append(plain_download(sandbox, big_call["id"], True))
    size = LARGE_MIB
    connector_rate = size / statistics.median(connector_seconds)
    baseline_rate = size / statistics.median(baseline_seconds)
    hashed_rate = size / statistics.median(hashed_seconds)
    rows.append(
        download_row(
            f"download {size} MiB: connector / plain requests", connector_rate, baseline_rate
        )
    )
    rows.append(
        Row(
            "  the same, plain requests + sha256",
            f"{connector_rate:.0f} / {hashed_rate:.0f} MiB/s = {connector_rate / hashed_rate:.2f}x",
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
    rows.extend(measure_pool(bench))
    bench.sections.append(Section(f"recordings (include_files; medians of {bench.repeats})", rows))


def download_run(
    bench: Bench, sandbox: Sandbox, config: dict[str, Any], configured: dict[str, Any]
) -> tuple[float, int]:
    """(seconds from the file's GET to its record, peak RSS KiB) of a one-file sync."""
    connector = bench.connector(sandbox, "download")
    peak_file = connector.workdir / "peak_rss_kib"
    connector.extra_env["BENCH_PEAK_RSS"] = str(peak_file)
    sandbox.clear_log()
    command = [sys.executable, "-c", bench.wrapped(PEAK_RSS)]
    result = bench.run(connector, "read", config, configured, command=command)
    records = result.record_messages("recordings")
    gets = [e for e in sandbox.requests_log("storage") if not e["range"]]
    if len(records) != 1 or len(gets) != 1:
        raise RuntimeError(f"expected one recording, got {len(records)} ({len(gets)} GETs)")
    seconds = records[0]["record"]["emitted_at"] / 1000 - float(gets[0]["t"])
    shutil.rmtree(connector.extra_env["AIRBYTE_STAGING_DIRECTORY"], ignore_errors=True)
    return seconds, int(peak_file.read_text())


def measure_pool(bench: Bench) -> list[Row]:
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
        one_worker = [sys.executable, "-c", bench.wrapped(ONE_WORKER)]
        switch = has_worker_switch()
        pooled: list[float] = []
        single: list[float] = []
        for _ in range(max(1, bench.repeats // 2)):
            pooled.append(pool_run(bench, sandbox, config, configured, None))
            if switch:
                single.append(pool_run(bench, sandbox, config, configured, one_worker))
        urls = [
            sandbox.api_get(f"/v1/calls/{call['id']}").json()["call"]["recording"] for call in calls
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
    bench.notes.append(
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
    bench: Bench,
    sandbox: Sandbox,
    config: dict[str, Any],
    configured: dict[str, Any],
    command: list[str] | None,
) -> float:
    """Seconds from the first file GET to the last recording record."""
    connector = bench.connector(sandbox, "pool")
    sandbox.clear_log()
    result = bench.run(connector, "read", config, configured, command=command)
    records = result.record_messages("recordings")
    gets = [e for e in sandbox.requests_log("storage") if not e["range"]]
    if len(records) != SMALL_RECORDINGS:
        raise RuntimeError(f"expected {SMALL_RECORDINGS} recordings, got {len(records)}")
    last = max(float(r["record"]["emitted_at"]) for r in records) / 1000
    return last - min(float(e["t"]) for e in gets)


def plain_download(sandbox: Sandbox, call_id: int, sha256: bool) -> float:
    """Seconds for plain requests to stream the recording to disk (a fresh URL first);
    with `sha256`, hashing it on the way as the connector must (its `sha256` field)."""
    url = recording_url(sandbox, call_id)
    target = SCRATCH / "baseline.mp3"
    started = time.monotonic()
    stream_to_disk(requests.get, url, target, sha256)
    seconds = time.monotonic() - started
    target.unlink()
    return seconds


def has_worker_switch() -> bool:
    import source_aircall_salescaling.streams.recordings as recordings

    return hasattr(recordings, "DOWNLOAD_WORKERS")
