"""The destination's side of the platform's file mode, played from the JSON lines alone.

What a destination does with `USE_FILE_TRANSFER=true` (bulk destination CDK,
`DestinationMessageFactory`): every record of the connection must carry a top-level
`file` object; the file at `file.file_url` is uploaded to
`<stream path>/<file.file_relative_path>` and the staged file is deleted. Here "upload"
is a move into an output folder, after checking the size the record announces and the
sha256 the record carries.

`staging_root` maps the path the connector printed to where the test can read it (the
image prints `/staging/files/...`, the host sees the mounted folder).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aircall_sandbox.recordings import recording_sha256
from aircall_sandbox.testing import Sandbox
from tests.oracle import eligible_calls, newest


class FileModeViolation(AssertionError):
    """A record that a file-mode destination would fail the sync on."""


@dataclass
class Delivered:
    stream: str
    relative_path: str
    size: int
    sha256: str
    record: dict[str, Any]


@dataclass
class FileModeDestination:
    output: Path
    to_host_path: Callable[[str], Path] = Path
    delivered: list[Delivered] = field(default_factory=list)

    def take(self, message: dict[str, Any]) -> None:
        """One message as the destination reads it; RECORDs only, the rest is ignored."""
        if message.get("type") != "RECORD":
            return
        record = message["record"]
        file = record.get("file")
        if not isinstance(file, dict):
            raise FileModeViolation(
                f"a {record['stream']} record without `file`: Failed to construct file message"
            )
        staged = self.to_host_path(file["file_url"])
        if not staged.is_file():
            raise FileModeViolation(f"staged file {file['file_url']} does not exist")
        content = staged.read_bytes()
        if len(content) != file["bytes"]:
            raise FileModeViolation(
                f"{file['file_url']}: {len(content)} bytes on disk, the record says {file['bytes']}"
            )
        digest = hashlib.sha256(content).hexdigest()
        target = self.output / record["stream"] / file["file_relative_path"]
        if target.exists():
            raise FileModeViolation(f"{target} delivered twice")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staged, target)  # the destination deletes the staged file once uploaded
        self.delivered.append(
            Delivered(record["stream"], file["file_relative_path"], len(content), digest, record)
        )

    def delivered_first_sync(
        self, sandbox: Sandbox, config: Mapping[str, Any]
    ) -> dict[int, Delivered]:
        """Checks a first sync's delivery against the oracle: exactly the newest
        `first_sync_max_calls` eligible calls, each at `recordings/<id>.mp3` with the size
        and sha256 the sandbox serves. Returns them by call id."""
        expected = newest(
            eligible_calls(
                sandbox.calls(), sandbox.users(), config["salescaling_user_emails"], time.time()
            ),
            int(config["first_sync_max_calls"]),
        )
        delivered = {int(Path(d.relative_path).stem): d for d in self.delivered}
        assert sorted(delivered) == sorted(expected)
        for call_id, item in delivered.items():
            size = sandbox.call(call_id)["served_size"]
            assert item.relative_path == f"recordings/{call_id}.mp3"
            assert (self.output / "recordings" / item.relative_path).stat().st_size == size
            assert item.size == size
            assert item.sha256 == recording_sha256(call_id, size, sandbox.seed)
        return delivered
