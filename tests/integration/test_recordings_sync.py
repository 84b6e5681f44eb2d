"""`recordings`: the calls Salescaling imports, with their files."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from aircall_sandbox.recordings import recording_sha256
from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, catalog
from tests.oracle import (
    MIB,
    belongs_to_salescaling,
    done_calls,
    eligible_calls,
    newest,
    ranked_newest,
)

WITH_FILES = catalog(["recordings"], include_files=True)
SIZES_ONLY = catalog(["recordings"], include_files=False)


def salescaling_call(
    sandbox: Sandbox, size: int, started_ago_seconds: int = 900, **flags: object
) -> int:
    """A done call of a Salescaling agent, with a recording of exactly `size` bytes."""
    user_id = next(u["id"] for u in sandbox.users() if u["salescaling"])
    call = sandbox.add_calls(
        1, status="done", recording=False, user_id=user_id,
        started_ago_seconds=started_ago_seconds,
    )[0]  # fmt: skip
    sandbox.attach_recording(call["id"], size=size, **flags)
    return int(call["id"])


def test_first_sync_imports_exactly_the_newest_200_eligible_calls(
    sandbox: Sandbox, connector: Connector
) -> None:
    config = sandbox.config()
    run = connector.run("read", config, SIZES_ONLY)
    expected = newest(
        eligible_calls(
            sandbox.calls(), sandbox.users(), config["salescaling_user_emails"], time.time()
        ),
        200,
    )
    assert run.returncode == 0
    assert sorted(run.ids("recordings")) == sorted(expected)


def test_a_recording_of_exactly_the_limit_is_kept_and_one_byte_more_is_not(
    sandbox: Sandbox, connector: Connector
) -> None:
    exact = salescaling_call(sandbox, MIB)
    over = salescaling_call(sandbox, MIB + 1)
    run = connector.run("read", sandbox.config(max_recording_size_mb=1), WITH_FILES)
    ids = run.ids("recordings")
    assert exact in ids and over not in ids
    assert (connector.staging / "recordings" / f"{exact}.mp3").stat().st_size == MIB
    assert not list((connector.staging / "recordings").glob(f"*{over}*"))


def test_the_size_limit_holds_without_content_length_and_leaves_no_file(
    sandbox: Sandbox, connector: Connector
) -> None:
    exact = salescaling_call(sandbox, MIB, no_content_length=True)
    over = salescaling_call(sandbox, MIB + 1, no_content_length=True)
    run = connector.run("read", sandbox.config(max_recording_size_mb=1), WITH_FILES)
    ids = run.ids("recordings")
    assert exact in ids and over not in ids
    assert not list((connector.staging / "recordings").glob(f"*{over}*"))
    assert not list((connector.staging / "recordings").glob(".*part"))


def test_files_on_disk_match_the_record_size_and_sha256(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("read", sandbox.config(first_sync_max_calls=15), WITH_FILES)
    messages = run.record_messages("recordings")
    assert len(messages) == 15
    for message in messages:
        record, reference = message["record"]["data"], message["record"]["file_reference"]
        path = Path(reference["staging_file_url"])
        assert path == connector.staging / "recordings" / record["file_name"]
        assert reference["source_file_relative_path"] == f"recordings/{record['file_name']}"
        content = path.read_bytes()
        assert len(content) == record["size_bytes"] == reference["file_size_bytes"]
        assert hashlib.sha256(content).hexdigest() == record["sha256"]
        assert record["sha256"] == recording_sha256(
            record["call_id"], record["size_bytes"], sandbox.seed
        )


def test_an_expired_recording_url_is_refreshed_and_still_imported(
    sandbox: Sandbox, connector: Connector
) -> None:
    call_id = salescaling_call(sandbox, 200_000)
    sandbox.set_faults(stale_list_urls=True)
    run = connector.run("read", sandbox.config(first_sync_max_calls=1), WITH_FILES)
    assert run.ids("recordings") == [call_id]
    assert any(r["path"] == f"/v1/calls/{call_id}" for r in sandbox.requests_log(host="api"))


def test_the_storage_host_never_receives_the_authorization_header(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("read", sandbox.config(first_sync_max_calls=10), WITH_FILES)
    storage = sandbox.requests_log(host="storage")
    assert len(run.ids("recordings")) == 10 and storage
    assert not any(r["authorization"] for r in storage)
    assert all(r["authorization"] for r in sandbox.requests_log(host="api"))


def test_without_files_only_the_first_byte_is_requested(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("read", sandbox.config(first_sync_max_calls=10), SIZES_ONLY)
    storage = sandbox.requests_log(host="storage")
    assert len(run.ids("recordings")) == 10
    assert storage and all(r["range"] == "bytes=0-0" for r in storage)
    assert all(r["record"].get("file_reference") is None for r in run.record_messages("recordings"))
    assert all(r.get("sha256") is None and r["size_bytes"] > 0 for r in run.records("recordings"))


def test_three_syncs_in_a_row_never_repeat_a_call_id(
    sandbox: Sandbox, connector: Connector
) -> None:
    config = sandbox.config(first_sync_max_calls=30)
    first = connector.run("read", config, WITH_FILES)
    sandbox.add_calls(4, status="done", recording=True, started_ago_seconds=200)
    second = connector.run("read", config, WITH_FILES, state=first.states())
    sandbox.add_calls(4, status="done", recording=True, started_ago_seconds=100)
    third = connector.run("read", config, WITH_FILES, state=second.states())
    ids = first.ids("recordings") + second.ids("recordings") + third.ids("recordings")
    assert len(ids) == len(set(ids))
    assert second.ids("recordings") and third.ids("recordings")
    downloads = [r for r in sandbox.requests_log(host="storage") if r["range"] is None]
    downloaded = [r["path"] for r in downloads if r["status"] == 200]
    assert len(downloaded) == len(set(downloaded))


def test_a_recording_that_appears_after_the_call_ended_is_imported_on_the_next_sync(
    sandbox: Sandbox, connector: Connector
) -> None:
    user_id = next(u["id"] for u in sandbox.users() if u["salescaling"])
    late = sandbox.add_calls(
        1, status="done", recording=False, user_id=user_id, started_ago_seconds=400
    )[0]["id"]
    config = sandbox.config(first_sync_max_calls=5)
    first = connector.run("read", config, SIZES_ONLY)
    sandbox.attach_recording(late, size=300_000)
    second = connector.run("read", config, SIZES_ONLY, state=first.states())
    assert late not in first.ids("recordings")
    assert second.ids("recordings") == [late]


def test_the_import_report_counts_each_reason_a_call_was_not_imported(
    sandbox: Sandbox, connector: Connector
) -> None:
    config = sandbox.config(first_sync_max_calls=10_000)
    run = connector.run("read", config, SIZES_ONLY)
    report = run.import_report()
    assert report is not None
    wanted = {e.strip().lower() for e in config["salescaling_user_emails"]}
    done = done_calls(sandbox.calls(), time.time())
    users = sandbox.users()
    of_users = [c for c in done if belongs_to_salescaling(c, users, wanted)]
    oversize = [c for c in of_users if c["has_recording"] and c["recording_size"] > 200 * MIB]
    assert report["skipped"]["agent email not a Salescaling user"] == len(done) - len(of_users)
    assert report["skipped"].get("recording over the size limit", 0) == len(oversize)
    assert sorted(int(k) for k in report["oversize_recordings"]) == sorted(
        c["id"] for c in oversize
    )
    assert report["imported"] == len(run.ids("recordings"))
    assert any(line.startswith("Recordings import report:") for line in run.logs("INFO"))


def test_a_first_sync_slot_freed_by_an_over_limit_download_goes_to_the_next_eligible_call(
    sandbox: Sandbox, connector: Connector
) -> None:
    """The size probe of the newest call says 500 KB, its download streams 2 MiB: with a
    1 MiB limit it is not imported, and its slot of the cap goes to the newest ready call
    the cap left behind, which the next sync imports; never more than the cap in all.
    (The calls are minutes old: the first sync lists past the cap within the watch
    horizon only.)"""
    config = sandbox.config(first_sync_max_calls=3, max_recording_size_mb=1)
    user_id = next(u["id"] for u in sandbox.users() if u["salescaling"])
    for ago in (300, 400, 500):
        salescaling_call(sandbox, 200_000 + ago, started_ago_seconds=ago)
    liar = sandbox.add_calls(
        1, status="done", recording=False, user_id=user_id, started_ago_seconds=120
    )[0]["id"]
    sandbox.attach_recording(liar, size=500_000, lying_length=True, lying_actual_size=2 * MIB)
    emails = config["salescaling_user_emails"]
    ranked = ranked_newest(
        eligible_calls(sandbox.calls(), sandbox.users(), emails, time.time(), limit_mb=1), 4
    )
    assert ranked[0] == liar
    first = connector.run("read", config, WITH_FILES)
    second = connector.run("read", config, WITH_FILES, state=first.states())
    assert first.returncode == 0 and second.returncode == 0
    assert sorted(first.ids("recordings")) == sorted(ranked[1:3])
    assert second.ids("recordings") == [ranked[3]]
