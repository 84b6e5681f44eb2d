"""`spec` and `check`, run against the sandbox."""

from __future__ import annotations

import socket
from pathlib import Path

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector

CONTRACT_FIELDS = [
    "api_id",
    "api_token",
    "salescaling_user_emails",
    "import_window_days",
    "first_sync_max_calls",
    "max_recording_size_mb",
    "requests_per_minute",
    "lookback_minutes",
    "insights_lookback_minutes",
    "delivery_method",
]


def test_spec_has_every_contract_field_with_title_order_and_description(
    connector: Connector,
) -> None:
    run = connector.run("spec")
    spec = run.of_type("SPEC")[0]["spec"]["connectionSpecification"]
    assert list(spec["properties"]) == CONTRACT_FIELDS
    orders = [spec["properties"][name]["order"] for name in CONTRACT_FIELDS]
    assert orders == sorted(orders)
    for name in CONTRACT_FIELDS:
        field = spec["properties"][name]
        assert field["title"] and field["description"].endswith(".")
    assert spec["properties"]["api_token"]["airbyte_secret"] is True
    assert spec["required"] == ["api_id", "api_token", "salescaling_user_emails"]


def test_spec_offers_records_or_raw_files_and_defaults_to_records(connector: Connector) -> None:
    """The shape of Airbyte's own file sources: the platform reads this field of the
    config to run a job in file mode."""
    spec = connector.run("spec").of_type("SPEC")[0]["spec"]["connectionSpecification"]
    delivery = spec["properties"]["delivery_method"]
    options = {
        option["title"]: option["properties"]["delivery_type"]["const"]
        for option in delivery["oneOf"]
    }
    assert options == {
        "Replicate Records": "use_records_transfer",
        "Copy Raw Files": "use_file_transfer",
    }
    assert delivery["default"] == {"delivery_type": "use_records_transfer"}
    copy_files = next(o for o in delivery["oneOf"] if o["title"] == "Copy Raw Files")
    assert "Amazon S3 or Azure Blob Storage" in copy_files["description"]


def test_spec_tells_where_the_keys_are_made(connector: Connector) -> None:
    spec = connector.run("spec").of_type("SPEC")[0]["spec"]["connectionSpecification"]
    assert "Integrations & API -> API Keys" in spec["properties"]["api_id"]["description"]
    assert "only once" in spec["properties"]["api_token"]["description"]


def test_check_succeeds_with_the_sandbox_credentials(
    sandbox: Sandbox, connector: Connector
) -> None:
    status = connector.run("check", sandbox.config()).connection_status()
    assert status["status"] == "SUCCEEDED"


def test_check_fails_on_a_revoked_token_and_says_where_keys_are_made(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("check", sandbox.config(api_token="revoked-token"))
    status = run.connection_status()
    assert status["status"] == "FAILED"
    assert "API ID and API token" in status["message"]
    assert "Integrations & API -> API Keys" in status["message"]
    assert any(r["status"] == 403 for r in sandbox.requests_log(host="api"))


def test_check_fails_on_a_403_quoting_aircalls_reason(
    sandbox: Sandbox, connector: Connector
) -> None:
    # The sandbox's 403 has Aircall's {"error": "Forbidden", "troubleshoot": ...} shape.
    sandbox.set_faults(error_next=1, error_statuses=[403], path_prefix="/v1/ping")

    status = connector.run("check", sandbox.config()).connection_status()

    assert status["status"] == "FAILED"
    assert '(HTTP 403: "company is not verified")' in status["message"]


def test_check_fails_when_the_api_is_unreachable(sandbox: Sandbox, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    connector = Connector(api_url=f"http://127.0.0.1:{closed_port}", workdir=tmp_path)
    status = connector.run("check", sandbox.config(), timeout=120).connection_status()
    assert status["status"] == "FAILED"
    assert "could not be reached: connection refused" in status["message"]


def test_check_fails_when_no_email_belongs_to_an_aircall_user(
    sandbox: Sandbox, connector: Connector
) -> None:
    emails = ["nobody@example.org", "ghost@example.org"]
    status = connector.run(
        "check", sandbox.config(salescaling_user_emails=emails)
    ).connection_status()
    assert status["status"] == "FAILED"
    for email in emails:
        assert email in status["message"]


def test_check_succeeds_with_a_warning_when_some_emails_match(
    sandbox: Sandbox, connector: Connector
) -> None:
    known = sandbox.config()["salescaling_user_emails"][0]
    run = connector.run(
        "check", sandbox.config(salescaling_user_emails=[known, "ghost@example.org"])
    )
    assert run.connection_status()["status"] == "SUCCEEDED"
    warnings = run.logs("WARN")
    assert any("ghost@example.org" in line for line in warnings)
    assert not any(known in line for line in warnings)


def test_check_refuses_plain_http_to_a_host_that_is_not_loopback(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    connector = Connector(api_url="http://api.example.com", workdir=tmp_path)
    run = connector.run("check", sandbox.config())
    status = run.connection_status()
    assert status["status"] == "FAILED"
    assert "AIRCALL_API_URL" in status["message"]


def test_check_names_the_field_of_an_invalid_config(sandbox: Sandbox, connector: Connector) -> None:
    status = connector.run("check", sandbox.config(import_window_days=500)).connection_status()
    assert status["status"] == "FAILED"
    assert "import_window_days" in status["message"]


def test_the_token_never_appears_in_the_output_of_check(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("check", sandbox.config(api_token="revoked-token-7f3a9"))
    everything = "".join(str(m) for m in run.messages) + run.stderr + "".join(run.stdout_noise)
    assert "revoked-token-7f3a9" not in everything
