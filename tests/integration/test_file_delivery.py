"""Delivery: records mode, file mode ("Copy Raw Files"), and the JSON lines both print.

The platform runs a job in file mode when the source config says
`delivery_method.delivery_type = use_file_transfer`; the destination then takes every
record as a file (tests/file_destination.py plays it from the printed lines). The
catalog keeps `include_files` as configured, which for a custom image is false.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from aircall_sandbox.recordings import recording_sha256
from aircall_sandbox.testing import Sandbox
from source_aircall_salescaling.streams.recordings import DOWNLOAD_WORKERS
from tests.file_destination import FileModeDestination, FileModeViolation
from tests.harness import ALL_STREAMS, ROOT, Connector, catalog
from tests.oracle import eligible_calls, newest

FILE_MODE = {"delivery_method": {"delivery_type": "use_file_transfer"}}
RECORDS_MODE = {"delivery_method": {"delivery_type": "use_records_transfer"}}
# What the platform passes for a custom image: every stream the admin selected, and no
# include_files (the web app cannot switch it on for a definition without file transfer).
EVERY_STREAM = catalog(["users", "calls", "recordings"], include_files=False)
SCHEMAS = ROOT / "source_aircall_salescaling" / "schemas"


def schema_fields(stream: str) -> set[str]:
    return set(json.loads((SCHEMAS / f"{stream}.json").read_text())["properties"])


def discovered(connector: Connector, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    run = connector.run("discover", config)
    assert run.returncode == 0, run.stderr[-2000:]
    streams = run.of_type("CATALOG")[0]["catalog"]["streams"]
    return {stream["name"]: stream for stream in streams}


def test_file_mode_discover_offers_recordings_only_and_not_as_file_based(
    sandbox: Sandbox, connector: Connector
) -> None:
    streams = discovered(connector, sandbox.config(**FILE_MODE))
    assert list(streams) == ["recordings"]
    assert streams["recordings"].get("is_file_based", False) is False


def test_records_mode_discover_offers_every_stream_none_file_based(
    sandbox: Sandbox, connector: Connector
) -> None:
    streams = discovered(connector, sandbox.config(**RECORDS_MODE))
    assert sorted(streams) == sorted(ALL_STREAMS)
    assert not any(stream.get("is_file_based", False) for stream in streams.values())


def test_file_mode_read_delivers_exactly_the_expected_recordings_as_files(
    sandbox: Sandbox, connector: Connector, tmp_path: Path
) -> None:
    config = sandbox.config(first_sync_max_calls=12, **FILE_MODE)
    destination = FileModeDestination(tmp_path / "bucket")
    run = connector.run("read", config, EVERY_STREAM, on_message=destination.take)
    assert run.returncode == 0, run.stderr[-2000:]
    expected = newest(
        eligible_calls(
            sandbox.calls(), sandbox.users(), config["salescaling_user_emails"], time.time()
        ),
        12,
    )
    delivered = {int(Path(d.relative_path).stem): d for d in destination.delivered}
    assert sorted(delivered) == sorted(expected)
    for call_id, item in delivered.items():
        size = sandbox.call(call_id)["served_size"]
        assert item.stream == "recordings"
        assert item.relative_path == f"recordings/{call_id}.mp3"
        assert item.size == size
        assert item.sha256 == recording_sha256(call_id, size, sandbox.seed)
        assert item.record["data"]["sha256"] == item.sha256
    assert not list(connector.staging.rglob("*.mp3"))  # every staged file was taken


def test_file_records_carry_file_and_file_reference_for_the_same_staged_file(
    sandbox: Sandbox, connector: Connector
) -> None:
    config = sandbox.config(first_sync_max_calls=6, **FILE_MODE)
    run = connector.run("read", config, catalog(["recordings"], include_files=False))
    messages = run.record_messages("recordings")
    assert len(messages) == 6
    for message in messages:
        record = message["record"]
        data, file, reference = record["data"], record["file"], record["file_reference"]
        call = sandbox.call(data["call_id"])
        staged = connector.staging / "recordings" / data["file_name"]
        assert file["file_url"] == reference["staging_file_url"] == str(staged)
        assert file["file_relative_path"] == reference["source_file_relative_path"]
        assert file["file_relative_path"] == f"recordings/{data['file_name']}"
        assert file["bytes"] == reference["file_size_bytes"] == staged.stat().st_size
        assert file["modified"] == call["ended_at"] * 1000
        assert file["source_file_url"] == f"{sandbox.api_url}/v1/calls/{data['call_id']}"
    assert len({m["record"]["file"]["file_url"] for m in messages}) == 6


def test_file_mode_reads_no_other_stream_of_the_catalog_and_says_so(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("read", sandbox.config(first_sync_max_calls=3, **FILE_MODE), EVERY_STREAM)
    assert run.returncode == 0
    assert {m["record"]["stream"] for m in run.of_type("RECORD")} == {"recordings"}
    assert all("file" in m["record"] for m in run.of_type("RECORD"))
    assert any(
        "only the recordings stream is read, not calls, users" in line for line in run.logs()
    )


def test_a_record_without_file_fails_the_file_mode_destination(tmp_path: Path) -> None:
    """The stand-in destination must fail where the real one does, or the tests above
    would prove nothing."""
    destination = FileModeDestination(tmp_path)
    with pytest.raises(FileModeViolation, match="without `file`"):
        destination.take({"type": "RECORD", "record": {"stream": "calls", "data": {"id": 1}}})


def test_include_files_in_records_mode_also_downloads_and_brings_the_file_object(
    sandbox: Sandbox, connector: Connector
) -> None:
    config = sandbox.config(first_sync_max_calls=3, **RECORDS_MODE)
    run = connector.run("read", config, catalog(["recordings"], include_files=True))
    records = run.record_messages("recordings")
    assert len(records) == 3
    assert all(Path(m["record"]["file"]["file_url"]).is_file() for m in records)
    assert all(m["record"]["data"]["sha256"] for m in records)


def test_records_mode_read_writes_every_schema_field_in_every_record(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("read", sandbox.config(first_sync_max_calls=60), EVERY_STREAM)
    assert run.returncode == 0
    nulls = 0
    for stream in ("users", "calls", "recordings"):
        records = run.records(stream)
        assert records, stream
        fields = schema_fields(stream)
        for record in records:
            assert fields <= set(record), (stream, sorted(fields - set(record)))
            nulls += sum(1 for name in fields if record[name] is None)
    assert nulls > 0  # the sandbox has calls without a contact or an answer: nulls went out


def test_at_most_a_pool_full_of_files_waits_staged_for_its_record(
    sandbox: Sandbox, connector: Connector, tmp_path: Path
) -> None:
    """Ten calls in one second make one batch (a batch never splits a second); with slow
    storage, a connector that fetched the batch before writing its records would stage
    all ten files at once."""
    user_id = next(u["id"] for u in sandbox.users() if u["salescaling"])
    calls = sandbox.add_calls(
        10, status="done", recording=True, user_id=user_id, started_ago_seconds=30
    )
    calls = [sandbox.update_call(c["id"], started_at=calls[0]["started_at"]) for c in calls]
    assert len({c["started_at"] for c in calls}) == 1
    sandbox.set_faults(latency_ms=300)
    destination = FileModeDestination(tmp_path / "bucket")
    folder = connector.staging / "recordings"
    waiting: list[int] = []

    def take(message: dict[str, Any]) -> None:
        if message.get("type") == "RECORD":
            waiting.append(len([p for p in folder.glob("*.mp3")]))
        destination.take(message)

    config = sandbox.config(first_sync_max_calls=10, **FILE_MODE)
    run = connector.run(
        "read", config, catalog(["recordings"], include_files=False), on_message=take
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(int(Path(d.relative_path).stem) for d in destination.delivered) == sorted(
        c["id"] for c in calls
    )
    assert max(waiting) <= DOWNLOAD_WORKERS, waiting
