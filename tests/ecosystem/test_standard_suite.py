"""Airbyte's standard tests (airbyte_cdk.test.standard_tests) against the seeded sandbox.

The suite reads its scenarios from acceptance-test-config.yml (spec, connection, discovery,
basic_read) and runs the connector in this process: spec and its lint, config-matches-spec,
check (a good and a rejected key, with the no-secret-in-output check), discover with the
catalog checks, a full-refresh read of every stream with records validated against their
schemas, and a read with a broken catalog. The image tests of the suite need a Docker
engine and are skipped without one (conftest.py).

Below the suite, what the suite does not cover of integration_tests/: the configured
catalog, the abnormal (far-future) state, and the expected records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from airbyte_cdk.models import (
    AirbyteStateMessage,
    AirbyteStateMessageSerializer,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
)
from airbyte_cdk.test.entrypoint_wrapper import discover, read
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase

from aircall_sandbox.testing import Sandbox
from source_aircall_salescaling import SourceAircallSalescaling
from tests.ecosystem.support import INTEGRATION, as_dicts, load_json
from tests.harness import ALL_STREAMS, USER_FIELDS

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]

# Of a user record, what the seed fixes. `created_at` is generated relative to the moment
# the sandbox starts (a user joined so many days ago), so it differs from run to run.
STABLE_USER_FIELDS = tuple(name for name in USER_FIELDS if name != "created_at")


class TestAircallSalescalingStandardSuite(SourceTestSuiteBase):
    """Every test of SourceTestSuiteBase, run against the sandbox of conftest.SEEDED."""

    connector = SourceAircallSalescaling
    # The suite names the connector after the repository folder, which need not be
    # `source-aircall-salescaling` in a clone; this only affects its messages.
    connector_name = "source-aircall-salescaling"

    @pytest.fixture(autouse=True)
    def _sandbox(self, seeded_sandbox: Sandbox) -> Iterator[None]:
        yield

    @pytest.mark.skip(
        reason="compares the spec with the version published in Airbyte's public registry: "
        "the connector is not published, and no machine that runs these tests may reach it"
    )
    def test_docker_image_spec_backward_compatibility(self) -> None:
        """Skipped before it runs, so that no request to a public host is even tried."""


def configured_catalog(*streams: str) -> ConfiguredAirbyteCatalog:
    raw = load_json("configured_catalog.json")
    if streams:
        raw["streams"] = [s for s in raw["streams"] if s["stream"]["name"] in streams]
    return ConfiguredAirbyteCatalogSerializer.load(raw)


def test_sample_config_is_the_seeded_sandbox(seeded_sandbox: Sandbox) -> None:
    sample = load_json("sample_config.json")
    assert sample["api_id"] == seeded_sandbox.api_id
    assert sample["api_token"] == seeded_sandbox.api_token
    assert sorted(sample["salescaling_user_emails"]) == sorted(seeded_sandbox.salescaling_emails())


def test_configured_catalog_matches_discover(seeded_sandbox: Sandbox) -> None:
    """configured_catalog.json: every stream incremental, as discovered. No include_files:
    a custom image cannot have it (files go by the config's delivery_method)."""
    output = discover(SourceAircallSalescaling(), load_json("sample_config.json"))
    (catalog,) = [m["catalog"] for m in as_dicts([output.catalog])]
    discovered = {stream["name"]: stream for stream in catalog["streams"]}
    configured = load_json("configured_catalog.json")["streams"]
    assert [c["stream"]["name"] for c in configured] == list(ALL_STREAMS)
    assert set(discovered) == {c["stream"]["name"] for c in configured}
    for entry in configured:
        stream = discovered[entry["stream"]["name"]]
        assert entry["sync_mode"] == "incremental"
        assert entry["sync_mode"] in stream["supported_sync_modes"]
        assert entry["cursor_field"] == stream["default_cursor_field"]
        assert entry["primary_key"] == stream["source_defined_primary_key"]
        assert entry["stream"].get("is_file_based", False) == stream.get("is_file_based", False)
        assert entry.get("include_files", False) is False
    ConfiguredAirbyteCatalogSerializer.load(load_json("configured_catalog.json"))  # parses


def test_abnormal_state_emits_no_record(seeded_sandbox: Sandbox) -> None:
    """Cursors in the far future (integration_tests/abnormal_state.json): nothing is new."""
    state = [
        AirbyteStateMessageSerializer.load(message) for message in load_json("abnormal_state.json")
    ]
    assert all(isinstance(message, AirbyteStateMessage) for message in state)
    output = read(
        SourceAircallSalescaling(),
        load_json("sample_config.json"),
        configured_catalog(),
        state,
    )
    assert not output.errors, [m["trace"]["error"]["message"] for m in as_dicts(output.errors)]
    assert output.records == []
    states = as_dicts(output.state_messages)
    assert {m["state"]["stream"]["stream_descriptor"]["name"] for m in states} >= {
        "users",
        "calls",
        "recordings",
    }


def _stable(record: dict[str, Any]) -> dict[str, Any]:
    return {field: record.get(field) for field in STABLE_USER_FIELDS}


def test_users_match_expected_records(seeded_sandbox: Sandbox) -> None:
    """expected_records.jsonl holds the seeded sandbox's users; `created_at` moves with
    the clock, so every field but it is compared (and it must still be a date-time)."""
    lines = (INTEGRATION / "expected_records.jsonl").read_text()
    expected = [json.loads(line) for line in lines.splitlines() if line.strip()]
    assert {line["stream"] for line in expected} == {"users"}
    output = read(
        SourceAircallSalescaling(), load_json("sample_config.json"), configured_catalog("users")
    )
    records = [message["record"]["data"] for message in as_dicts(output.records)]
    assert sorted(map(_stable_key, records)) == sorted(
        _stable_key(line["data"]) for line in expected
    )
    assert all(isinstance(r["created_at"], str) and r["created_at"].endswith("Z") for r in records)


def _stable_key(record: dict[str, Any]) -> str:
    return json.dumps(_stable(record), sort_keys=True)
