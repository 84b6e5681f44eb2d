"""No verb prints the API token: spec, check (good and rejected key), discover, read.

The standard suite checks `check` only, and only for secrets that contain a digit (shorter
or word-like values are skipped as too likely to appear by chance): the sandbox's default
token `demo-token` is such a word. Here the sandbox runs with a token that the check
cannot miss, and every message of every verb is searched for it, in the forms a leak
takes: as is, JSON-escaped, URL-encoded, and inside a Basic auth header.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from airbyte_cdk.models import AirbyteMessageSerializer, ConfiguredAirbyteCatalogSerializer
from airbyte_cdk.test.entrypoint_wrapper import (
    EntrypointOutput,
    _run_command,
    discover,
    make_file,
    read,
)

from aircall_sandbox.testing import Sandbox
from source_aircall_salescaling import SourceAircallSalescaling
from tests.ecosystem.support import SEEDED, as_dicts, load_json
from tests.harness import ALL_STREAMS

API_ID = "salescaling-id-2f9c"
TOKEN = "sc-token-7d41c9e2a8f0"
WRONG_TOKEN = "sc-token-0b5e3d6a9c14"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    staging = tmp_path_factory.mktemp("staging")
    with (
        Sandbox(**SEEDED, api_id=API_ID, api_token=TOKEN) as running,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("AIRCALL_API_URL", running.api_url)
        patch.setenv("AIRBYTE_STAGING_DIRECTORY", str(staging))
        yield running


def check(config: dict[str, object], workdir: Path) -> EntrypointOutput:
    """`check --debug`, in process (the CDK's test wrapper has no helper for it)."""
    config_file = make_file(workdir / "config.json", config)
    return _run_command(SourceAircallSalescaling(), ["check", "--config", config_file, "--debug"])


def leak_forms(secret: str, api_id: str) -> set[str]:
    basic = base64.b64encode(f"{api_id}:{secret}".encode()).decode()
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), basic}


def assert_no_leak(output: EntrypointOutput, secret: str, api_id: str) -> None:
    forms = leak_forms(secret, api_id)
    for number, message in enumerate(output.get_message_iterator(), start=1):
        text = json.dumps(AirbyteMessageSerializer.dump(message))
        found = [form for form in forms if form in text]
        assert not found, f"message #{number} ({message.type.value}) shows the API token"
    assert not any(form in (output.stderr or "") for form in forms), "stderr shows the token"


def test_check_with_the_right_key_does_not_print_it(sandbox: Sandbox, tmp_path: Path) -> None:
    output = check(sandbox.config(), tmp_path)
    (status,) = [m["connectionStatus"] for m in as_dicts(output.connection_status_messages)]
    assert status["status"] == "SUCCEEDED"
    assert_no_leak(output, TOKEN, API_ID)


def test_check_with_a_rejected_key_does_not_print_it(sandbox: Sandbox, tmp_path: Path) -> None:
    output = check(sandbox.config(api_token=WRONG_TOKEN), tmp_path)
    (status,) = [m["connectionStatus"] for m in as_dicts(output.connection_status_messages)]
    assert status["status"] == "FAILED"
    assert "API ID" in status["message"] and "token" in status["message"]
    assert_no_leak(output, WRONG_TOKEN, API_ID)


def test_discover_and_read_with_files_do_not_print_the_key(sandbox: Sandbox) -> None:
    config = sandbox.config()
    assert_no_leak(discover(SourceAircallSalescaling(), config), TOKEN, API_ID)
    catalog = ConfiguredAirbyteCatalogSerializer.load(load_json("configured_catalog.json"))
    output = read(SourceAircallSalescaling(), config, catalog)
    assert not output.errors
    assert {m["record"]["stream"] for m in as_dicts(output.records)} == set(ALL_STREAMS)
    assert_no_leak(output, TOKEN, API_ID)


def test_the_leak_search_finds_each_form_of_the_token() -> None:
    for form in leak_forms(TOKEN, API_ID):
        line = json.dumps(
            {"type": "LOG", "log": {"level": "ERROR", "message": f"GET /v1/ping with {form}"}}
        )
        with pytest.raises(AssertionError, match="shows the API token"):
            assert_no_leak(EntrypointOutput([line]), TOKEN, API_ID)
