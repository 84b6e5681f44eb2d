"""File mode by the platform's other flag: a top-level `use_file_transfer: true`.

The Airbyte platform runs a job in file mode when the source config holds a top-level
`use_file_transfer: true` as well as when `delivery_method.delivery_type` is
`use_file_transfer` (airbyte-platform,
airbyte-server/src/main/kotlin/io/airbyte/server/services/JobInputService.kt,
`isDeprecatedFileTransfer`): it mounts the staging folder and its destination then takes
every record of the connection as a file. So the connector, given that config and no
`delivery_method`, must be in file mode too: discover and read offer `recordings` only,
every record brings its file.
"""

from __future__ import annotations

from pathlib import Path

from aircall_sandbox.testing import Sandbox
from tests.file_destination import FileModeDestination
from tests.harness import Connector, catalog

LEGACY_FILE_MODE = {"use_file_transfer": True}  # and no delivery_method
EVERY_STREAM = catalog(["users", "calls", "recordings"], include_files=False)
FIRST_SYNC = 8


def test_discover_with_the_top_level_flag_offers_recordings_only(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("discover", sandbox.config(**LEGACY_FILE_MODE))

    assert run.returncode == 0, run.stderr[-2000:]
    streams = run.of_type("CATALOG")[0]["catalog"]["streams"]
    assert [stream["name"] for stream in streams] == ["recordings"]


def test_a_read_with_the_top_level_flag_delivers_only_recordings_each_with_its_file(
    sandbox: Sandbox, connector: Connector, tmp_path: Path
) -> None:
    """Done when: a file-mode destination, played from the printed lines (it fails a
    record without `file`), receives exactly the expected recordings, and nothing else."""
    config = sandbox.config(first_sync_max_calls=FIRST_SYNC, **LEGACY_FILE_MODE)
    destination = FileModeDestination(tmp_path / "bucket")

    run = connector.run("read", config, EVERY_STREAM, on_message=destination.take)

    assert run.returncode == 0, run.stderr[-2000:]
    assert {m["record"]["stream"] for m in run.of_type("RECORD")} == {"recordings"}
    destination.delivered_first_sync(sandbox, config)


def test_a_read_with_the_top_level_flag_names_the_streams_it_does_not_read(
    sandbox: Sandbox, connector: Connector
) -> None:
    config = sandbox.config(first_sync_max_calls=2, **LEGACY_FILE_MODE)

    run = connector.run("read", config, EVERY_STREAM)

    assert run.returncode == 0, run.stderr[-2000:]
    assert any(
        "use_file_transfer: true" in line
        and "only the recordings stream is read, not calls, users" in line
        for line in run.logs("WARN")
    )


def test_check_with_a_top_level_flag_that_is_not_a_boolean_fails_naming_the_field(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("check", sandbox.config(use_file_transfer="yes"))

    status = run.connection_status()
    assert status["status"] == "FAILED"
    assert "'use_file_transfer'" in status["message"]


def test_a_read_with_a_top_level_flag_that_is_not_a_boolean_fails_as_a_config_error(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("read", sandbox.config(use_file_transfer="yes"), EVERY_STREAM)

    assert run.returncode != 0
    assert not run.of_type("RECORD")
    (error,) = run.errors()
    assert error["failure_type"] == "config_error"
    assert "'use_file_transfer'" in error["message"]
