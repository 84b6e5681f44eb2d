"""What the connector prints, as a destination reads it: every schema field in
every record (nulls written, not left out), and a STATE after each batch."""

from __future__ import annotations

import json
from pathlib import Path

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, catalog

SCHEMAS = Path(__file__).resolve().parents[2] / "source_aircall_salescaling" / "schemas"


def schema_keys(stream: str) -> set[str]:
    return set(json.loads((SCHEMAS / f"{stream}.json").read_text())["properties"])


def test_every_record_of_every_stream_carries_every_schema_field(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("read", sandbox.config(first_sync_max_calls=1_000), catalog())
    assert run.returncode == 0
    for stream in ("users", "calls", "recordings"):
        records = run.records(stream)
        assert records, stream
        assert all(set(record) >= schema_keys(stream) for record in records), stream
    # Nulls written as nulls (the CDK alone leaves them out): some calls have no contact.
    assert any(record["contact"] is None for record in run.records("calls"))


def test_a_state_follows_each_batch_of_calls(sandbox: Sandbox, connector: Connector) -> None:
    sandbox.add_bulk_calls(450, days=1)
    run = connector.run("read", sandbox.config(first_sync_max_calls=1_000), catalog(["calls"]))
    kinds = [m["type"] for m in run.messages if m["type"] in ("RECORD", "STATE")]
    assert kinds[-1] == "STATE"
    # Batches of about 200 records (never splitting a second): a STATE between them.
    assert kinds.count("STATE") >= len(run.records("calls")) // 250
    last_record = max(i for i, kind in enumerate(kinds) if kind == "RECORD")
    assert "STATE" in kinds[:last_record]
