"""PyAirbyte end to end: PyAirbyte runs the connector as a local executable against the
sandbox, reads every stream into its default DuckDB cache, and SQL on the cache must
return what the sandbox holds.

Run by scripts/e2e_pyairbyte.sh (`make e2e`) with the PyAirbyte virtualenv's Python:

    .venv-pyairbyte/bin/python -m scripts.e2e_pyairbyte --connector PATH

PATH is the `source-aircall-salescaling` script of a virtualenv where the connector is
installed (not editable) with its pinned dependencies. Expected counts are computed from
the sandbox's own state (its control API), never copied from the connector's output.

Two reads, as the two connections a Salescaling admin sets up:
- records ("Replicate Records", the default): every stream. PyAirbyte (0.71.x) builds its
  catalog without `include_files`, so `recordings` comes with each recording's size (from
  a one-byte ranged GET) and a null `sha256`, and no file is downloaded.
- files ("Copy Raw Files" in the config): only `recordings` is offered; the files land
  in AIRBYTE_STAGING_DIRECTORY/recordings, and each DuckDB row carries `file_name`,
  `size_bytes` and `sha256`, which must match the file on disk and the sandbox's own.
  PyAirbyte drops the records' `file` objects: `file_name` is how a file is found.

Then a removal (docs/removals.md): the customer deletes one imported recording and one
imported call in Aircall, and the records connection reads again 20 hours later (the
sandbox's clock moved): the rows of those calls after the read are printed and checked
(`import_decisions` `removed_in_aircall`; in `recordings` and `calls` the newest row of
each carries `_ab_cdc_deleted_at`, the DuckDB cache keeping it as a row, as a
destination with soft deletes would; Airbyte's deduplicating destinations drop it).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aircall_sandbox.testing import Sandbox
from tests.harness import AI_STREAMS, ALL_STREAMS

ROOT = Path(__file__).resolve().parent.parent

MIB = 1_048_576
WINDOW_DAYS = 14
SIZE_LIMIT_MB = 200
FIRST_SYNC_CAP = 100_000  # far above the sandbox's calls: the counts below are exact


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        if ok:
            self.passed += 1
            print(f"  ok    {name}" + (f" ({detail})" if detail else ""))
        else:
            self.failed += 1
            print(f"  FAIL  {name}" + (f": {detail}" if detail else ""))


def expected_counts(sandbox: Sandbox, window_start: int) -> dict[str, int]:
    """What a first sync at a moment whose window starts at `window_start` must emit."""
    users = sandbox.users()
    emails = {u["id"]: u["email_normalized"] for u in users}
    wanted = {e.strip().lower() for e in sandbox.salescaling_emails()}
    done = [c for c in sandbox.calls() if c["status"] == "done" and c["started_at"] > window_start]
    imported = [
        c
        for c in done
        # whose call it is: the agent's, else the agent it was transferred to
        if (emails.get(c["user_id"]) in wanted or emails.get(c["transferred_to_id"]) in wanted)
        and c["has_recording"]
        and c["recording_size"] is not None
        and c["recording_size"] <= SIZE_LIMIT_MB * MIB
    ]
    return {
        "users": len(users),
        "salescaling_users": sum(1 for u in users if u["salescaling"]),
        "calls": min(len(done), FIRST_SYNC_CAP),
        "recordings": min(len(imported), FIRST_SYNC_CAP),
    }


def scalar(cache: Any, sql: str) -> Any:
    rows = cache.run_sql_query(sql)
    return next(iter(rows[0].values())) if rows else None


def installed_package(connector: Path, workdir: Path) -> Path:
    """Where the executable's Python imports the connector from (run outside the checkout)."""
    interpreter = connector.read_text().splitlines()[0].removeprefix("#!").strip()
    found = subprocess.run(
        [interpreter, "-c", "import source_aircall_salescaling as m; print(m.__file__)"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(found.stdout.strip())


def run(connector: Path, workdir: Path, checks: Checks) -> None:
    package = installed_package(connector, workdir)
    checks.check(
        "the connector is installed, not run from the checkout",
        "site-packages" in package.parts
        and ROOT / "source_aircall_salescaling" not in package.parents,
        str(package.parent),
    )
    os.environ["AIRBYTE_CACHE_ROOT"] = str(workdir / "cache")
    os.environ["AIRBYTE_PROJECT_DIR"] = str(workdir)
    os.environ["AIRBYTE_OFFLINE_MODE"] = "1"  # no registry look-up, no telemetry
    os.environ["DO_NOT_TRACK"] = "1"
    staging = workdir / "staging"
    staging.mkdir()
    os.environ["AIRBYTE_STAGING_DIRECTORY"] = str(staging)

    import airbyte as ab  # after the environment: PyAirbyte reads it on import

    # The Aircall AI streams ask once per imported call and stream: a pace of 1,000 a
    # minute (and a sandbox that allows it) keeps the read under a minute.
    with Sandbox(seed=7, users=8, calls=300, days=WINDOW_DAYS, rate_limit=1000) as sandbox:
        os.environ["AIRCALL_API_URL"] = sandbox.api_url
        config = sandbox.config(
            import_window_days=WINDOW_DAYS,
            first_sync_max_calls=FIRST_SYNC_CAP,
            max_recording_size_mb=SIZE_LIMIT_MB,
            requests_per_minute=1000,
        )
        source = ab.get_source(
            "source-aircall-salescaling",
            config=config,
            local_executable=str(connector),
        )
        source.check()
        checks.check("check succeeds through PyAirbyte", True)
        streams = source.get_available_streams()
        checks.check(
            "discover lists every stream",
            sorted(streams) == sorted(ALL_STREAMS),
            str(streams),
        )
        source.select_all_streams()
        cache = ab.get_default_cache()
        before = sandbox.now()
        started = time.monotonic()
        result = source.read(cache=cache)
        after = sandbox.now()
        print(f"  read took {time.monotonic() - started:.1f} s")

        # The window of the sync starts between these two; with no call in between, the
        # expected counts are exact (they almost always are: 300 calls over 14 days).
        earliest = expected_counts(sandbox, before - WINDOW_DAYS * 86_400)
        latest = expected_counts(sandbox, after - WINDOW_DAYS * 86_400)

        def within(stream: str, value: int) -> bool:
            return latest[stream] <= value <= earliest[stream]

        table: Callable[[str], str] = cache.processor.get_sql_table_name
        users = scalar(cache, f"SELECT COUNT(*) FROM {table('users')}")
        checks.check("users: one row per sandbox user", users == earliest["users"], f"{users}")
        flagged = scalar(cache, f"SELECT COUNT(*) FROM {table('users')} WHERE salescaling_user")
        checks.check(
            "users: the Salescaling users are flagged",
            flagged == earliest["salescaling_users"],
            f"{flagged}",
        )
        calls = scalar(cache, f"SELECT COUNT(*) FROM {table('calls')}")
        distinct = scalar(cache, f"SELECT COUNT(DISTINCT id) FROM {table('calls')}")
        checks.check(
            "calls: every done call in the window, once",
            within("calls", calls) and distinct == calls,
            f"{calls} rows, sandbox {latest['calls']}..{earliest['calls']}",
        )
        not_done = scalar(
            cache,
            f"SELECT COUNT(*) FROM {table('calls')} "
            "WHERE status NOT IN ('answered', 'missed', 'failed', 'voicemail')",
        )
        checks.check("calls: statuses follow the contract", not_done == 0, f"{not_done} others")
        recordings = scalar(cache, f"SELECT COUNT(*) FROM {table('recordings')}")
        checks.check(
            "recordings: every importable call",
            within("recordings", recordings),
            f"{recordings} rows, sandbox {latest['recordings']}..{earliest['recordings']}",
        )
        rows = cache.run_sql_query(
            f"SELECT call_id, size_bytes, sha256, file_name FROM {table('recordings')} "
            "WHERE size_bytes IS NOT NULL ORDER BY call_id LIMIT 1"
        )
        sample = rows[0] if rows else None
        served = sandbox.call(int(sample["call_id"]))["served_size"] if sample else None
        checks.check(
            "recordings: a row with the recording's size, as the storage host serves it",
            sample is not None and sample["size_bytes"] == served,
            f"{sample}",
        )
        hashed = scalar(
            cache, f"SELECT COUNT(*) FROM {table('recordings')} WHERE sha256 IS NOT NULL"
        )
        files = [p for p in staging.rglob("*") if p.is_file()]
        checks.check(
            "recordings: read without files (PyAirbyte sets no include_files)",
            hashed == 0 and files == [],
            f"{hashed} hashed, {len(files)} files",
        )
        processed = {name: result[name].to_sql_table().name for name in streams}
        checks.check("the read result names the cache's tables", len(processed) == len(ALL_STREAMS))
        imported = scalar(
            cache,
            f"SELECT COUNT(*) FROM {table('import_decisions')} WHERE decision = 'imported'",
        )
        recordings = scalar(cache, f"SELECT COUNT(*) FROM {table('recordings')}")
        checks.check(
            "import_decisions: 'imported' for exactly the recordings rows",
            imported == recordings > 0,
            f"{imported} imported, {recordings} recordings",
        )
        spoken = scalar(
            cache,
            f"SELECT COUNT(*) FROM {table('transcriptions')} WHERE utterances IS NOT NULL",
        )
        checks.check(
            "transcriptions: rows with their utterances, no more than the imported calls",
            0 < spoken <= recordings,
            f"{spoken} transcriptions with utterances",
        )
        per_stream = {
            stream: scalar(cache, f"SELECT COUNT(*) FROM {table(stream)}") for stream in AI_STREAMS
        }
        checks.check(
            "the nine Aircall AI streams: rows in each, no more than the imported calls",
            all(0 < rows <= recordings for rows in per_stream.values()),
            f"{per_stream}",
        )
        adherence = cache.run_sql_query(
            "SELECT json_extract_string(r.\"user\", '$.email') AS email, "
            "AVG(p.adherence_score) AS adherence "
            f"FROM {table('playbook_results')} p JOIN {table('recordings')} r "
            "ON r.call_id = p.call_id GROUP BY 1 ORDER BY 1"
        )
        checks.check(
            "playbook_results: adherence per Salescaling user, joined to recordings",
            len(adherence) > 0 and all(0 <= row["adherence"] <= 1 for row in adherence),
            f"{[dict(row) for row in adherence]}",
        )

        removal(sandbox, source, cache, table, checks)
        file_mode(ab, sandbox, connector, config, workdir, staging, checks)


def removal(
    sandbox: Sandbox, source: Any, cache: Any, table: Callable[[str], str], checks: Checks
) -> None:
    """A recording and a call deleted in Aircall after the read; the next read, 20 hours
    later (every imported call is looked at again within a day), reports them."""
    now = sandbox.now()
    ids = [
        int(row["call_id"])
        for row in cache.run_sql_query(
            f"SELECT call_id FROM {table('recordings')} ORDER BY call_id"
        )
    ]
    starts = {c["id"]: int(c["started_at"]) for c in sandbox.calls()}
    # Still in the window 20 hours on, and older than what every read re-lists.
    old = [i for i in ids if now - 5 * 86_400 < starts[i] < now - 3 * 3600]
    recording_gone, call_gone = old[0], old[1]
    sandbox.remove_recording(recording_gone)
    sandbox.delete_call(call_gone)
    sandbox.set_clock_offset(20 * 3600)
    try:
        source.read(cache=cache)
    finally:
        sandbox.set_clock_offset(0)
    gone = f"({recording_gone}, {call_gone})"
    decisions = cache.run_sql_query(
        f"SELECT call_id, decision, reason FROM {table('import_decisions')} "
        f"WHERE call_id IN {gone} AND decision = 'removed_in_aircall' ORDER BY call_id"
    )
    for row in decisions:
        print(f"    import_decisions: {row}")
    checks.check(
        "removal: import_decisions says removed_in_aircall for the deleted recording and call",
        sorted(int(r["call_id"]) for r in decisions) == sorted([recording_gone, call_gone]),
        f"{len(decisions)} rows",
    )
    for stream, key in (("recordings", "call_id"), ("calls", "id")):
        rows = cache.run_sql_query(f"SELECT * FROM {table(stream)} WHERE {key} IN {gone}")
        for row in rows:
            shown = {k: v for k, v in row.items() if v is not None and not k.startswith("_airbyte")}
            print(f"    {stream}: {shown}")
        deleted = sorted(int(r[key]) for r in rows if r.get("_ab_cdc_deleted_at") is not None)
        wanted = sorted([recording_gone, call_gone]) if stream == "recordings" else [call_gone]
        checks.check(
            f"removal: {stream} rows of the removed calls carry _ab_cdc_deleted_at",
            deleted == wanted,
            f"{deleted}",
        )


def file_mode(
    ab: Any,
    sandbox: Sandbox,
    connector: Path,
    config: dict[str, Any],
    workdir: Path,
    staging: Path,
    checks: Checks,
) -> None:
    """The files connection: Copy Raw Files, into a cache of its own (a first sync)."""
    from airbyte.caches import DuckDBCache

    source = ab.get_source(
        "source-aircall-salescaling",
        config={**config, "delivery_method": {"delivery_type": "use_file_transfer"}},
        local_executable=str(connector),
    )
    streams = source.get_available_streams()
    checks.check("file mode: discover offers recordings only", streams == ["recordings"])
    source.select_all_streams()
    cache = DuckDBCache(db_path=workdir / "file_mode.duckdb", schema_name="main")
    before = sandbox.now()
    started = time.monotonic()
    source.read(cache=cache)
    after = sandbox.now()
    print(f"  file-mode read took {time.monotonic() - started:.1f} s")
    earliest = expected_counts(sandbox, before - WINDOW_DAYS * 86_400)["recordings"]
    latest = expected_counts(sandbox, after - WINDOW_DAYS * 86_400)["recordings"]
    table = cache.processor.get_sql_table_name("recordings")
    rows = cache.run_sql_query(f"SELECT call_id, file_name, size_bytes, sha256 FROM {table}")
    files = {p.name: p for p in (staging / "recordings").glob("*") if p.is_file()}
    checks.check(
        "file mode: one row and one staged file per importable call",
        latest <= len(rows) <= earliest and len(files) == len(rows),
        f"{len(rows)} rows, {len(files)} files, sandbox {latest}..{earliest}",
    )
    wrong = []
    for row in rows:
        path = files.get(str(row["file_name"]))
        served = sandbox.call(int(row["call_id"]))["served_size"]
        content = path.read_bytes() if path is not None else b""
        if (
            path is None
            or row["file_name"] != f"{row['call_id']}.mp3"
            or not len(content) == row["size_bytes"] == served
            or hashlib.sha256(content).hexdigest() != row["sha256"]
            or row["sha256"] != sandbox.recording_sha256(int(row["call_id"]))
        ):
            wrong.append(row["call_id"])
    checks.check(
        "file mode: each row's file_name names its file, with its size_bytes and sha256",
        rows != [] and wrong == [],
        f"{len(wrong)} wrong: {wrong[:5]}" if wrong else f"{len(rows)} files checked",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connector", required=True, type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    connector = args.connector.resolve()
    if not os.access(connector, os.X_OK):
        print(f"e2e: {connector} is not an executable")
        print("e2e: 0 passed, 1 failed")
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="e2e-pyairbyte-"))
    print(f"e2e: PyAirbyte reads {connector} into DuckDB under {workdir}")
    checks = Checks()
    try:
        run(connector, workdir, checks)
    except Exception as error:  # a step that raised is one failure, reported as such
        checks.check("the run completes", False, f"{type(error).__name__}: {error}")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"e2e: {checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
