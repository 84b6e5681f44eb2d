"""What a Salescaling admin reads when something fails: one test per message, with the
text expected written out."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import pytest
import requests
import requests_mock as requests_mock_module
from airbyte_cdk.models import FailureType
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from source_aircall_salescaling.aircall.client import AircallClient
from source_aircall_salescaling.aircall.errors import (
    AircallHttpError,
    AircallKeysRejected,
    AircallUnreachable,
)
from source_aircall_salescaling.config import ConfigError, parse_config, request_timeout
from source_aircall_salescaling.source import (
    SourceAircallSalescaling,
    _check_failure,
    _email_match,
)

API = "http://127.0.0.1:9"
LOGGER = logging.getLogger("test_messages")
STILL_DOWN = (
    "The Aircall API at http://127.0.0.1:9 could not be reached: {cause}. Check the network, "
    "proxy or firewall, and https://status.aircall.io for outages."
)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry backoffs are not waited for (the pacing itself is tested in test_pacing)."""
    monkeypatch.setattr(time, "sleep", lambda seconds: None)


def raw_config(emails: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "api_id": "my-api-id",
        "api_token": "my-api-token",
        "salescaling_user_emails": emails,
        "requests_per_minute": 1000,
        **extra,
    }


def client(api: str = API) -> AircallClient:
    config = parse_config(raw_config(["ana@example.com"]), environ={"AIRCALL_API_URL": api})
    return AircallClient(config, LOGGER, max_retries=1)


# Emails -----------------------------------------------------------------------------------


def test_no_matching_email_lists_the_emails_as_typed_and_points_to_the_users_page() -> None:
    settings = parse_config(
        raw_config(["  Ana.Lopez@Example.com ", "BOB@example.org"]),
        environ={"AIRCALL_API_URL": API},
    )

    with pytest.raises(ConfigError) as raised:
        _email_match(settings, set(), LOGGER)

    assert raised.value.message == (
        "None of the Salescaling user emails belongs to an Aircall user: "
        "Ana.Lopez@Example.com, BOB@example.org. Each must be the email of a user listed on "
        "Aircall's Users page (Aircall Dashboard -> Users); correct the emails in the "
        "connector settings, or add these users in Aircall."
    )


def test_a_partial_match_warns_with_the_unmatched_emails_as_typed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = parse_config(
        raw_config(["ana@example.com", "Bob.Martin@Example.org"]),
        environ={"AIRCALL_API_URL": API},
    )

    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        _email_match(settings, {"ana@example.com"}, LOGGER)

    assert caplog.messages == [
        "These Salescaling user emails match no Aircall user, so their calls cannot be "
        "imported: Bob.Martin@Example.org. Compare them with Aircall's Users page "
        "(Aircall Dashboard -> Users)."
    ]


# HTTP errors ------------------------------------------------------------------------------


def test_a_503_that_persists_says_the_status_and_what_to_do(
    requests_mock: requests_mock_module.Mocker,
) -> None:
    requests_mock.get(f"{API}/v1/ping", status_code=503, text="<html>503</html>")

    with pytest.raises(AircallHttpError) as raised:
        client().ping()

    assert raised.value.message == (
        "Aircall answered 503 Service Unavailable; try again later, or check "
        "https://status.aircall.io."
    )
    assert raised.value.status == 503
    assert raised.value.failure_type is FailureType.transient_error


def test_a_429_that_outlasts_the_retries_names_the_shared_rate_limit(
    requests_mock: requests_mock_module.Mocker,
) -> None:
    reset = str(int(time.time()))
    requests_mock.get(
        f"{API}/v1/ping", status_code=429, json={}, headers={"X-AircallApi-Reset": reset}
    )

    with pytest.raises(AircallHttpError) as raised:
        client().ping()

    assert raised.value.message == (
        "Aircall answered 429 Too Many Requests until the retries ran out: the company's rate "
        "limit, shared by every integration of the company, stayed used up. Lower "
        "requests_per_minute, or try again later, or check https://status.aircall.io."
    )
    assert raised.value.failure_type is FailureType.transient_error


def test_a_400_gives_aircall_s_own_explanation(
    requests_mock: requests_mock_module.Mocker,
) -> None:
    requests_mock.get(
        f"{API}/v1/ping",
        status_code=400,
        json={"error": "Bad Request", "message": "BAD_REQUEST", "errors": "from is invalid"},
    )

    with pytest.raises(AircallHttpError) as raised:
        client().ping()

    assert (
        raised.value.message == 'Aircall answered 400 Bad Request for /v1/ping: "from is invalid"'
    )


def test_a_404_names_the_path_that_was_not_found(
    requests_mock: requests_mock_module.Mocker,
) -> None:
    # (not /v1/calls/{id}: there a 404 means the call was deleted, and `call()` says so)
    requests_mock.get(f"{API}/v2/users", status_code=404, json={"message": "Not Found"})

    with pytest.raises(AircallHttpError) as raised:
        client().get("/v2/users")

    assert raised.value.message == "Aircall answered 404 Not Found for /v2/users."


@pytest.mark.parametrize(("status", "words"), [(401, "Unauthorized"), (403, "Forbidden")])
def test_rejected_keys_name_the_keys_and_where_they_are_made(
    requests_mock: requests_mock_module.Mocker, status: int, words: str
) -> None:
    # Aircall's bodies for bad keys: words that only repeat the status are not quoted.
    requests_mock.get(f"{API}/v1/ping", status_code=status, json={"message": words})

    with pytest.raises(AircallKeysRejected) as raised:
        client().ping()

    assert raised.value.message == (
        f"Aircall rejected the API ID and API token (HTTP {status}). Check the API ID and API "
        "token in the connector settings. Keys are made by an Aircall Administrator in the "
        "Aircall Dashboard under Integrations & API -> API Keys; the token is shown only once, "
        "so generate a new key if it was lost or revoked."
    )
    assert raised.value.failure_type is FailureType.config_error


# Network errors ---------------------------------------------------------------------------


def test_a_refused_connection_says_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there

    with pytest.raises(AircallUnreachable) as raised:
        client(f"http://127.0.0.1:{port}").ping()

    assert raised.value.message == (
        f"The Aircall API at http://127.0.0.1:{port} could not be reached: connection refused. "
        "Check the network, proxy or firewall, and https://status.aircall.io for outages."
    )


def test_an_unknown_host_says_host_not_found(
    requests_mock: requests_mock_module.Mocker,
) -> None:
    # What requests raises when the name does not resolve (urllib3 2.x wraps the gaierror).
    resolution = NameResolutionError(
        "api.aircall.invalid",
        None,
        socket.gaierror(-2, "Name or service not known"),  # type: ignore[arg-type]
    )
    requests_mock.get(
        f"{API}/v1/ping",
        exc=requests.ConnectionError(MaxRetryError(None, "/v1/ping", resolution)),  # type: ignore[arg-type]
    )

    with pytest.raises(AircallUnreachable) as raised:
        client().ping()

    assert raised.value.message == STILL_DOWN.format(cause="host not found")


def test_a_timeout_says_timed_out(requests_mock: requests_mock_module.Mocker) -> None:
    requests_mock.get(f"{API}/v1/ping", exc=requests.exceptions.ReadTimeout("read timed out"))

    with pytest.raises(AircallUnreachable) as raised:
        client().ping()

    assert raised.value.message == STILL_DOWN.format(cause="timed out")


def test_a_network_error_never_shows_a_python_class_name(
    requests_mock: requests_mock_module.Mocker,
) -> None:
    refused = NewConnectionError(None, "Failed to establish a new connection")  # type: ignore[arg-type]
    requests_mock.get(f"{API}/v1/ping", exc=requests.ConnectionError(refused))

    with pytest.raises(AircallUnreachable) as raised:
        client().ping()

    assert raised.value.message == STILL_DOWN.format(cause="the connection failed")


# Failure types are told apart by type -----------------------------------------------------


def test_an_http_error_whose_text_mentions_exhausted_is_not_reported_as_unreachable() -> None:
    error = AircallHttpError(
        502, "Exhausted available request attempts (502)", FailureType.transient_error
    )

    assert _check_failure(error) == "Exhausted available request attempts (502)"


def test_an_unreachable_api_is_reported_as_such_whatever_its_text() -> None:
    error = AircallUnreachable("https://api.aircall.io", "timed out")

    assert _check_failure(error) == (
        "The Aircall API at https://api.aircall.io could not be reached: timed out. Check the "
        "network, proxy or firewall, and https://status.aircall.io for outages."
    )


# AIRCALL_TIMEOUT_SECONDS ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "nan", "-1", "0", "inf", "7200"])
def test_a_timeout_that_is_not_a_number_of_seconds_is_a_config_error_naming_it(
    value: str,
) -> None:
    with pytest.raises(ConfigError) as raised:
        request_timeout({"AIRCALL_TIMEOUT_SECONDS": value})

    assert raised.value.message == (
        f"AIRCALL_TIMEOUT_SECONDS must be a number of seconds above 0 and at most 3600, "
        f"got '{value}'."
    )


def test_a_valid_timeout_sets_the_read_timeout_and_caps_the_connect_timeout() -> None:
    assert request_timeout({"AIRCALL_TIMEOUT_SECONDS": "2.5"}) == (2.5, 2.5)
    assert request_timeout({"AIRCALL_TIMEOUT_SECONDS": "90"}) == (10.0, 90.0)
    assert request_timeout({}) == (10.0, 60.0)


# check pages users only as far as it must -------------------------------------------------


def users_page(page: int, emails: list[str], last: int) -> dict[str, Any]:
    return {
        "users": [
            {
                "id": page * 100 + n,
                "name": f"User {n}",
                "email": email,
                "created_at": "2026-01-01T00:00:00.000Z",
            }
            for n, email in enumerate(emails)
        ],
        "meta": {"next_page_link": None if page == last else f"{API}/v2/users?page={page + 1}"},
    }


def users_api(requests_mock: requests_mock_module.Mocker) -> None:
    pages = {
        1: ["ana@example.com", "bob@example.com"],
        2: ["carl@example.com"],
        3: ["dana@example.com"],
    }

    def answer(request: Any, context: Any) -> dict[str, Any]:
        page = int(request.qs["page"][0])
        return users_page(page, pages[page], last=3)

    requests_mock.get(f"{API}/v1/ping", json={"ping": "pong"})
    requests_mock.get(f"{API}/v2/users", json=answer)


def users_requests(requests_mock: requests_mock_module.Mocker) -> list[str]:
    return [r.qs["page"][0] for r in requests_mock.request_history if r.path == "/v2/users"]


def test_check_stops_paging_users_once_every_email_matched(
    requests_mock: requests_mock_module.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRCALL_API_URL", API)
    users_api(requests_mock)

    ok, _ = SourceAircallSalescaling().check_connection(
        LOGGER, raw_config(["Bob@Example.com", "ana@example.com"])
    )

    assert ok
    assert users_requests(requests_mock) == ["1"]


def test_check_with_a_partial_match_pages_to_the_end(
    requests_mock: requests_mock_module.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRCALL_API_URL", API)
    users_api(requests_mock)

    ok, _ = SourceAircallSalescaling().check_connection(
        LOGGER, raw_config(["ana@example.com", "zoe@example.com"])
    )

    assert ok
    assert users_requests(requests_mock) == ["1", "2", "3"]
