"""The connector image, run the way the Airbyte platform runs a custom connector image.

`make image-test` (scripts/image_test.sh) builds the image and sets IMAGE_TEST_IMAGE;
without it these tests skip (they are not part of `make test`: building takes minutes).

What is reproduced, from airbyte-platform's source:
- The command: the image's ENTRYPOINT is ignored; the connector container runs a shell
  that calls `eval "$AIRBYTE_ENTRYPOINT <verb> --config ... --catalog ..."` (workload
  launcher, `ContainerCommandFactory`; before it, airbyte-workers'
  `entrypoints/main.sh`). Hence `--entrypoint bash ... -c 'eval "$AIRBYTE_ENTRYPOINT ..."'`.
- The user: connector containers run as uid/gid 1000 (workload launcher's container
  security context), not as whatever USER the image sets.
- The inputs: config, catalog and state are files the launcher writes before the
  connector starts; here they are mounted read-only.
- File mode: with `delivery_method.delivery_type = use_file_transfer`, or a top-level
  `use_file_transfer: true`, in the source config
  (airbyte-server/src/main/kotlin/io/airbyte/server/services/JobInputService.kt,
  `isDeprecatedFileTransfer`; `platform_file_mode` below), a staging volume is mounted at
  `/staging/files` and `AIRBYTE_STAGING_DIRECTORY` is set for the source (workload
  launcher `RuntimeEnvVarFactory`); the destination (bulk CDK `DestinationMessageFactory`)
  then takes every record as a file, played here by tests/file_destination.py from the
  printed JSON lines alone.
- The network: the sandbox listens on loopback; `--network host` lets the container
  reach it (`AIRCALL_API_URL=http://127.0.0.1:<port>`), as a pod reaches api.aircall.io.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aircall_sandbox.testing import Sandbox
from tests.file_destination import FileModeDestination
from tests.harness import ALL_STREAMS, ROOT, catalog

IMAGE = os.environ.get("IMAGE_TEST_IMAGE")
pytestmark = pytest.mark.skipif(
    not IMAGE, reason="`make image-test` builds the connector image and runs these"
)

STAGING_IN_CONTAINER = "/staging/files"
FILE_MODE = {"delivery_method": {"delivery_type": "use_file_transfer"}}
RECORDS_MODE = {"delivery_method": {"delivery_type": "use_records_transfer"}}
LEGACY_FILE_MODE = {"use_file_transfer": True}  # the platform's other flag, no delivery_method
EVERY_STREAM = catalog(["users", "calls", "recordings"], include_files=False)
FIRST_SYNC = 15


def platform_file_mode(config: dict[str, Any]) -> bool:
    """`JobInputService.isDeprecatedFileTransfer`: whether the platform mounts the staging
    volume for this source config (for the boolean values these tests pass)."""
    delivery = config.get("delivery_method") or {}
    return config.get("use_file_transfer") is True or (
        delivery.get("delivery_type") == "use_file_transfer"
    )


@dataclass
class ImageRun:
    returncode: int
    messages: list[dict[str, Any]]
    stderr: str

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [m["record"] for m in self.of_type("RECORD") if m["record"]["stream"] == stream]


@dataclass
class Platform:
    """One connector job: its inputs folder, its staging volume, the sandbox's address."""

    image: str
    api_url: str
    workdir: Path

    @property
    def staging(self) -> Path:
        return self.workdir / "staging"

    def run(
        self,
        verb: str,
        config: dict[str, Any] | None = None,
        configured: dict[str, Any] | None = None,
    ) -> ImageRun:
        inputs = self.workdir / f"inputs-{verb}-{len(list(self.workdir.glob('inputs-*')))}"
        inputs.mkdir(parents=True)
        arguments = [verb]
        if config is not None:
            (inputs / "source_config.json").write_text(json.dumps(config))
            arguments += ["--config", "/config/source_config.json"]
        if configured is not None:
            (inputs / "source_catalog.json").write_text(json.dumps(configured))
            arguments += ["--catalog", "/config/source_catalog.json"]
        inputs.chmod(0o755)
        for path in inputs.iterdir():
            path.chmod(0o644)
        command = [
            "docker", "run", "--rm", "--network", "host", "--user", "1000:1000",
            "--entrypoint", "bash",
            "-v", f"{inputs}:/config:ro",
            "-e", f"AIRCALL_API_URL={self.api_url}",
        ]  # fmt: skip
        if config is not None and platform_file_mode(config):
            self.staging.mkdir(exist_ok=True)
            self.staging.chmod(0o777)  # an emptyDir: writable by the connector's uid
            command += [
                "-v", f"{self.staging}:{STAGING_IN_CONTAINER}",
                "-e", f"AIRBYTE_STAGING_DIRECTORY={STAGING_IN_CONTAINER}",
            ]  # fmt: skip
        script = f'eval "$AIRBYTE_ENTRYPOINT {" ".join(arguments)}"'
        done = subprocess.run(
            [*command, self.image, "-c", script], capture_output=True, text=True, timeout=600
        )
        messages = []
        for line in done.stdout.splitlines():
            try:
                messages.append(json.loads(line))
            except json.JSONDecodeError:
                pytest.fail(f"{verb}: a line on stdout that is not JSON: {line[:200]!r}")
        return ImageRun(done.returncode, messages, done.stderr)

    def host_path(self, printed: str) -> Path:
        """Where the test sees a path the connector printed inside the container."""
        relative = Path(printed).relative_to(STAGING_IN_CONTAINER)
        return self.staging / relative


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=11, users=8, calls=300, days=14, rate_limit=0) as running:
        yield running


@pytest.fixture
def platform(sandbox: Sandbox, tmp_path: Path) -> Platform:
    assert IMAGE is not None
    tmp_path.chmod(0o755)
    return Platform(IMAGE, sandbox.api_url, tmp_path)


def schema_fields(stream: str) -> set[str]:
    path = ROOT / "source_aircall_salescaling" / "schemas" / f"{stream}.json"
    return set(json.loads(path.read_text())["properties"])


def test_spec_in_the_image_offers_both_delivery_methods(platform: Platform) -> None:
    run = platform.run("spec")
    assert run.returncode == 0, run.stderr[-2000:]
    (spec,) = run.of_type("SPEC")
    delivery = spec["spec"]["connectionSpecification"]["properties"]["delivery_method"]
    assert {o["properties"]["delivery_type"]["const"] for o in delivery["oneOf"]} == {
        "use_records_transfer",
        "use_file_transfer",
    }


def test_check_in_the_image_succeeds_against_the_sandbox(
    platform: Platform, sandbox: Sandbox
) -> None:
    run = platform.run("check", sandbox.config())
    statuses = [m["connectionStatus"]["status"] for m in run.of_type("CONNECTION_STATUS")]
    assert statuses == ["SUCCEEDED"], run.stderr[-2000:]


@pytest.mark.parametrize(
    ("mode", "streams"),
    [(RECORDS_MODE, list(ALL_STREAMS)), (FILE_MODE, ["recordings"])],
    ids=["records", "files"],
)
def test_discover_in_the_image_offers_the_streams_of_the_mode(
    platform: Platform, sandbox: Sandbox, mode: dict[str, Any], streams: list[str]
) -> None:
    run = platform.run("discover", sandbox.config(**mode))
    assert run.returncode == 0, run.stderr[-2000:]
    (message,) = run.of_type("CATALOG")
    discovered = message["catalog"]["streams"]
    assert [s["name"] for s in discovered] == streams
    assert not any(s.get("is_file_based", False) for s in discovered)


def test_records_mode_read_in_the_image_has_every_schema_field_and_no_file(
    platform: Platform, sandbox: Sandbox
) -> None:
    config = sandbox.config(first_sync_max_calls=FIRST_SYNC, **RECORDS_MODE)
    run = platform.run("read", config, EVERY_STREAM)
    assert run.returncode == 0, run.stderr[-2000:]
    for stream in ("users", "calls", "recordings"):
        records = run.records(stream)
        assert records, stream
        fields = schema_fields(stream)
        for record in records:
            assert fields <= set(record["data"]), (stream, sorted(fields - set(record["data"])))
            assert "file" not in record and "file_reference" not in record
    assert all(r["data"]["sha256"] is None for r in run.records("recordings"))


@pytest.mark.parametrize(
    "mode", [FILE_MODE, LEGACY_FILE_MODE], ids=["delivery_method", "use_file_transfer"]
)
def test_file_mode_read_in_the_image_delivers_exactly_the_expected_recordings(
    platform: Platform, sandbox: Sandbox, tmp_path: Path, mode: dict[str, Any]
) -> None:
    """Done when: the platform's environment and mounts, then the destination's part
    from the printed JSON lines alone (a record without `file` fails it); by either of
    the platform's file-mode flags, every stream of the catalog selected."""
    config = sandbox.config(first_sync_max_calls=FIRST_SYNC, **mode)
    run = platform.run("read", config, EVERY_STREAM)
    assert run.returncode == 0, run.stderr[-2000:]
    assert {m["record"]["stream"] for m in run.of_type("RECORD")} == {"recordings"}
    destination = FileModeDestination(tmp_path / "bucket", platform.host_path)
    for message in run.messages:
        destination.take(message)
    delivered = destination.delivered_first_sync(sandbox, config)
    for item in delivered.values():
        assert item.record["file"]["file_url"].startswith(f"{STAGING_IN_CONTAINER}/")
    assert not [p for p in platform.staging.rglob("*") if p.is_file()]  # all taken
