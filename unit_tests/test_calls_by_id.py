"""`GET /v1/calls/{id}`: a 404 means the call is gone; any other failure does not."""

from __future__ import annotations

import pytest
import requests_mock as requests_mock_module
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_aircall_salescaling.aircall.client import AircallClient
from source_aircall_salescaling.aircall.errors import CallUnavailable
from tests.builders import a_call
from unit_tests.client_kit import API, mocked_client

FRESH = "https://storage.example/fresh.mp3"


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda seconds: None)


@pytest.fixture
def client() -> AircallClient:
    return mocked_client("test_calls_by_id", max_retries=2)


def test_a_call_aircall_answers_404_for_is_gone(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(f"{API}/v1/calls/77", status_code=404, json={"error": "Not found"})

    assert client.call(77) is None
    assert requests_mock.call_count == 1  # a 404 is an answer, not retried


def test_a_call_that_cannot_be_fetched_now_is_not_taken_for_gone(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(f"{API}/v1/calls/77", status_code=503, json={})

    with pytest.raises(CallUnavailable) as raised:
        client.call(77)

    assert "77" in str(raised.value)


def test_an_answer_that_cannot_be_read_leaves_the_call_unavailable(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(f"{API}/v1/calls/77", text='{"call": {"id": 77, "started_at": ')

    with pytest.raises(CallUnavailable):
        client.call(77)


def test_a_fault_of_the_connector_is_not_taken_for_an_unavailable_call(
    client: AircallClient,
    requests_mock: requests_mock_module.Mocker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only Aircall's failures make a call unavailable (retried for a day, then given up):
    a bug must stop the sync where it can be seen."""
    requests_mock.get(f"{API}/v1/calls/77", json={"call": a_call(77).payload()})

    def broken(payload: object) -> None:
        raise TypeError("a bug")

    monkeypatch.setattr("source_aircall_salescaling.aircall.client.parse_call", broken)

    with pytest.raises(TypeError):
        client.call(77)


def test_a_call_that_exists_is_returned_with_its_fresh_recording_url(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(
        f"{API}/v1/calls/77",
        json={"call": a_call(77).started(1_500).with_recording(url=FRESH).payload()},
    )

    found = client.call(77)

    assert found is not None and found.recording_url == FRESH


def test_rejected_credentials_while_fetching_a_call_stop_the_sync(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(f"{API}/v1/calls/77", status_code=401, json={})

    with pytest.raises(AirbyteTracedException) as raised:
        client.call(77)

    assert raised.value.failure_type == FailureType.config_error


def test_a_404_on_the_calls_listing_is_not_read_as_an_empty_answer(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(f"{API}/v1/calls", status_code=404, json={})

    with pytest.raises(AirbyteTracedException):
        client.get("/v1/calls", {"page": 1})
