"""Aircall's error texts: read from `error`, `message`, `errors` or `troubleshoot`,
whichever is there, and quoted wherever an Aircall error is reported."""

from __future__ import annotations

from typing import Any

import pytest
import requests_mock as requests_mock_module

from source_aircall_salescaling.aircall.client import AircallClient
from source_aircall_salescaling.aircall.errors import (
    AircallHttpError,
    AircallKeysRejected,
    CallUnavailable,
    InsightsForbidden,
    body_text,
    http_error_message,
)
from source_aircall_salescaling.aircall.windows import TimeWindow
from unit_tests.client_kit import API, mocked_client

NOT_VERIFIED = {"error": "Forbidden", "troubleshoot": "company is not verified"}


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda seconds: None)


@pytest.fixture
def client() -> AircallClient:
    return mocked_client("test_error_texts", max_retries=1)


# body_text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["error", "message", "errors", "troubleshoot"])
def test_the_text_of_each_error_key_is_read(key: str) -> None:
    assert body_text({key: " Your query is limited to 10k results "}) == (
        "Your query is limited to 10k results"
    )


def test_the_reason_after_the_error_is_read_with_it() -> None:
    assert body_text(NOT_VERIFIED) == "Forbidden: company is not verified"


def test_codes_that_repeat_a_text_are_read_once() -> None:
    body = {
        "error": "Bad Request",
        "message": "BAD_REQUEST",
        "errors": "from is invalid",
        "troubleshoot": "BAD_REQUEST",
        "success": False,
        "data": None,
    }

    assert body_text(body) == "Bad Request: from is invalid"


@pytest.mark.parametrize(
    ("errors", "text"),
    [
        (["from is invalid", "to is invalid"], "from is invalid; to is invalid"),
        ({"from": ["is invalid"]}, "from is invalid"),
    ],
)
def test_errors_given_as_a_list_or_an_object_are_read(errors: Any, text: str) -> None:
    assert body_text({"errors": errors}) == text


def test_a_text_that_only_repeats_the_status_phrase_is_left_out() -> None:
    assert body_text(NOT_VERIFIED, besides="Forbidden") == "company is not verified"


@pytest.mark.parametrize("body", [None, "Forbidden", [], {}, {"message": " "}, {"data": "x"}])
def test_a_body_without_words_has_no_text(body: Any) -> None:
    assert body_text(body) is None


def test_a_long_text_is_cut_to_300_characters() -> None:
    assert body_text({"errors": "x" * 1000}) == "x" * 300


def test_a_5xx_quotes_aircalls_words_when_it_gives_some() -> None:
    message = http_error_message(500, {"error": "Internal error", "troubleshoot": "retry"})

    assert message.startswith(
        'Aircall answered 500 Internal Server Error ("Internal error: retry")'
    )


# Where errors are reported -----------------------------------------------------------------


def test_a_403_with_a_troubleshoot_reason_is_reported_with_the_reason(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(f"{API}/v1/ping", status_code=403, json=NOT_VERIFIED)

    with pytest.raises(AircallKeysRejected) as raised:
        client.ping()

    assert (raised.value.message or "").startswith(
        'Aircall rejected the API ID and API token (HTTP 403: "company is not verified").'
    )


def test_the_calls_listing_quotes_aircalls_words(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(f"{API}/v1/calls", status_code=400, json={"troubleshoot": "from is invalid"})

    with pytest.raises(AircallHttpError) as raised:
        list(client.calls_newest_first(TimeWindow(1_700_000_000, 1_700_003_600)))

    assert (
        raised.value.message == 'Aircall answered 400 Bad Request for /v1/calls: "from is invalid"'
    )


def test_a_lookup_by_id_quotes_aircalls_words(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(f"{API}/v1/calls/77", status_code=422, json={"error": "call is locked"})

    with pytest.raises(CallUnavailable, match='"call is locked"'):
        client.call(77)


def test_a_403_from_an_aircall_ai_endpoint_quotes_the_reason(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(f"{API}/v1/calls/77/summary", status_code=403, json=NOT_VERIFIED)

    with pytest.raises(InsightsForbidden) as raised:
        client.insight(77, "summary")

    assert raised.value.message == "Forbidden: company is not verified"
