"""`make demo`: a real sync, end to end, against the bundled Aircall sandbox.

Starts the sandbox, runs check, discover, a first read of every stream (recordings
with their files), makes new calls happen, runs a second read from the first one's
state, and prints what a person wants to know.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, ConnectorRun, catalog

ROOT = Path(__file__).resolve().parent.parent

WORKDIR = ROOT / ".demo"


def describe_read(title: str, run: ConnectorRun, staging: Path) -> list[str]:
    lines = [f"{title} ({run.seconds:.1f} s, exit code {run.returncode})"]
    for stream in ("users", "calls", "recordings"):
        lines.append(f"  {stream:<11} {len(run.records(stream)):>5} records")
    files = [m["record"].get("file_reference") for m in run.record_messages("recordings")]
    written = [f for f in files if f]
    size = sum(f["file_size_bytes"] for f in written)
    lines.append(
        f"  recordings written: {len(written)} files, {size / 1_048_576:.1f} MiB in {staging / 'recordings'}"
    )
    report: dict[str, Any] | None = run.import_report()
    if report:
        lines.append(f"  imported {report['imported']}; skipped, by reason:")
        for reason, count in report["skipped"].items():
            lines.append(
                f"    {reason:<40} {count:>4}  e.g. calls {report['skipped_call_ids'][reason][:5]}"
            )
        if report["agent_emails_not_salescaling_users"]:
            emails = ", ".join(report["agent_emails_not_salescaling_users"][:6])
            lines.append(f"    agent emails that are not Salescaling users: {emails}")
        if report["oversize_recordings"]:
            sizes = ", ".join(
                f"{call_id} ({size / 1_048_576:.0f} MiB)"
                for call_id, size in report["oversize_recordings"].items()
            )
            lines.append(f"    recordings over the limit: {sizes}")
        lines.append(
            f"  still waiting (in progress, or recording not ready): {report['waiting_for_recording_or_end']}"
        )
    for error in run.errors():
        lines.append(f"  ERROR: {error.get('message')}")
    return lines


def main() -> int:
    shutil.rmtree(WORKDIR, ignore_errors=True)
    with Sandbox(seed=7, users=8, calls=300, days=14) as sandbox:
        connector = Connector(api_url=sandbox.api_url, workdir=WORKDIR)
        config = sandbox.config()
        print(f"Aircall sandbox at {sandbox.api_url} (recordings on {sandbox.storage_url})")

        check = connector.run("check", config)
        status = check.connection_status()
        print(f"check: {status['status']} {status.get('message') or ''}".rstrip())
        discover = connector.run("discover", config)
        streams = [s["name"] for s in discover.of_type("CATALOG")[0]["catalog"]["streams"]]
        print(f"discover: {', '.join(streams)}")

        everything = catalog(streams, include_files=True)
        first = connector.run("read", config, everything)
        summary = describe_read("first read", first, connector.staging)

        finished = [
            sandbox.finish_call(call["id"], recording=True)
            for call in sandbox.calls()
            if call["status"] != "done"
        ]
        added = sandbox.add_calls(5, status="done", recording=True, started_ago_seconds=600)
        print(f"sandbox: {len(added)} new calls, {len(finished)} in-progress calls finished")

        second = connector.run("read", config, everything, state=first.states())
        summary += describe_read(
            "second read (from the first read's state)", second, connector.staging
        )

    print()
    print("\n".join(summary))
    repeated = set(first.ids("recordings")) & set(second.ids("recordings"))
    print(f"\nrecordings imported twice across the two reads: {len(repeated)}")
    ok = first.returncode == 0 and second.returncode == 0 and status["status"] == "SUCCEEDED"
    print("demo: OK" if ok else "demo: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
