"""The Aircall client: rate-limit waits, error mapping, retries, paging and windows."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import requests_mock as requests_mock_module
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_aircall_salescaling.aircall.client import AircallClient, AircallErrorHandler
from source_aircall_salescaling.aircall.errors import AIRCALL_ERROR_MAPPING
from source_aircall_salescaling.aircall.pacing import AircallBackoff, seconds_until_reset
from source_aircall_salescaling.aircall.windows import TimeWindow
from tests.builders import a_call
from unit_tests.client_kit import API, mocked_client

CALLS_URL = f"{API}/v1/calls"
NOW = 1_800_000_000.0
LOGGER = logging.getLogger("test_client_errors")


# seconds_until_reset -------------------------------------------------------------------


def test_reset_in_unix_seconds_is_waited_for() -> None:
    assert seconds_until_reset(str(int(NOW) + 42), now=NOW) == pytest.approx(42)


def test_reset_in_unix_milliseconds_is_waited_for() -> None:
    assert seconds_until_reset(str(int(NOW) * 1000 + 42_000), now=NOW) == pytest.approx(42)


def test_reset_with_a_fraction_of_a_second_is_read() -> None:
    assert seconds_until_reset(f"{NOW + 12.5}", now=NOW) == pytest.approx(12.5)


def test_missing_reset_header_waits_sixty_seconds() -> None:
    assert seconds_until_reset(None, now=NOW) == 60


@pytest.mark.parametrize("garbage", ["", "soon", "12:00", "0x10", "1e"])
def test_unreadable_reset_header_waits_sixty_seconds(garbage: str) -> None:
    assert seconds_until_reset(garbage, now=NOW) == 60


def test_reset_already_past_still_waits_a_moment_but_not_long() -> None:
    wait = seconds_until_reset(str(int(NOW) - 30), now=NOW)

    assert 0 < wait <= 1


def test_reset_far_in_the_future_waits_at_most_an_hour() -> None:
    assert seconds_until_reset(str(int(NOW) + 10 * 86_400), now=NOW) == 3600


def test_reset_is_measured_from_the_current_time_by_default() -> None:
    wait = seconds_until_reset(str(int(time.time()) + 100))

    assert 98 <= wait <= 100


def test_reset_header_that_is_not_a_number_never_gives_a_nan_wait() -> None:
    wait = seconds_until_reset("nan", now=NOW)

    assert 0 < wait <= 3600


# AircallBackoff ------------------------------------------------------------------------


def response(status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> Any:
    answer = requests.Response()
    answer.status_code = status
    answer._content = body
    answer.headers.update(headers or {})
    return answer


def test_backoff_on_429_waits_for_the_reset_header() -> None:
    answer = response(429, headers={"X-AircallApi-Reset": str(int(time.time()) + 20)})

    wait = AircallBackoff().backoff_time(answer, attempt_count=1)

    assert wait is not None and 18 <= wait <= 20


def test_backoff_on_429_without_reset_header_waits_sixty_seconds() -> None:
    assert AircallBackoff().backoff_time(response(429), attempt_count=1) == 60


@pytest.mark.parametrize("status", [500, 502, 503])
def test_backoff_leaves_other_errors_to_the_default_exponential_wait(status: int) -> None:
    assert AircallBackoff().backoff_time(response(status), attempt_count=1) is None


def test_backoff_leaves_connection_errors_to_the_default_wait() -> None:
    error = requests.ConnectionError("refused")

    assert AircallBackoff().backoff_time(error, attempt_count=1) is None


# Error mapping -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_fail_as_a_config_error(status: int) -> None:
    resolution = AIRCALL_ERROR_MAPPING[status]

    assert resolution.response_action is ResponseAction.FAIL
    assert resolution.failure_type is FailureType.config_error


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_message_says_where_keys_are_made(status: int) -> None:
    message = AIRCALL_ERROR_MAPPING[status].error_message or ""

    assert "API ID" in message
    assert "API token" in message
    assert "Integrations & API" in message


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_and_timeouts_are_retried(status: int) -> None:
    assert AIRCALL_ERROR_MAPPING[status].response_action is ResponseAction.RETRY


def test_429_is_handled_as_a_rate_limit() -> None:
    assert AIRCALL_ERROR_MAPPING[429].response_action is ResponseAction.RATE_LIMITED


@pytest.mark.parametrize("status", [400, 404])
def test_bad_request_and_not_found_fail_as_system_errors(status: int) -> None:
    resolution = AIRCALL_ERROR_MAPPING[status]

    assert resolution.response_action is ResponseAction.FAIL
    assert resolution.failure_type is FailureType.system_error


def error_handler() -> AircallErrorHandler:
    return AircallErrorHandler(logger=LOGGER, error_mapping=AIRCALL_ERROR_MAPPING)


@pytest.mark.parametrize("body", [b"<html>proxy error</html>", b"", b'{"calls": ['])
def test_200_whose_body_is_not_json_is_retried(body: bytes) -> None:
    resolution = error_handler().interpret_response(response(200, body))

    assert resolution.response_action is ResponseAction.RETRY


def test_200_with_a_json_body_succeeds() -> None:
    resolution = error_handler().interpret_response(response(200, b'{"ping": "pong"}'))

    assert resolution.response_action is ResponseAction.SUCCESS


def test_403_with_a_json_body_still_fails_as_a_config_error() -> None:
    resolution = error_handler().interpret_response(response(403, b'{"message": "Forbidden"}'))

    assert resolution.response_action is ResponseAction.FAIL
    assert resolution.failure_type is FailureType.config_error


# The client against a mocked API -------------------------------------------------------


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """No test waits: every sleep (retry backoff, rate-limit wait) is recorded instead."""
    asked: list[float] = []
    monkeypatch.setattr(time, "sleep", asked.append)
    return asked


@pytest.fixture
def client(sleeps: list[float]) -> AircallClient:
    return mocked_client("test_client_errors.client", "my-api-id", "my-api-token", max_retries=3)


def query(request: Any) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(request.url).query).items()}


class FakeCalls:
    """`GET /v1/calls` over a fixed set of calls, honouring from/to, order=desc and paging.

    `total_of` may override the `meta.total` reported for a window (to make one look big).
    """

    def __init__(self, calls: list[tuple[int, int]], total_of: Any = None) -> None:
        self.calls = calls  # (id, started_at)
        self.total_of = total_of

    def __call__(self, request: Any, context: Any) -> dict[str, Any]:
        q = query(request)
        start, end = int(q["from"]), int(q["to"])
        page, per_page = int(q["page"]), int(q["per_page"])
        inside = sorted(
            ((s, i) for i, s in self.calls if start < s <= end),
            reverse=q.get("order") == "desc",
        )
        chunk = inside[(page - 1) * per_page : page * per_page]
        more = page * per_page < len(inside)
        total = len(inside) if self.total_of is None else self.total_of(start, end, len(inside))
        return {
            "calls": [a_call(i).started(s).payload() for s, i in chunk],
            "meta": {
                "count": len(chunk),
                "total": total,
                "current_page": page,
                "per_page": per_page,
                "next_page_link": f"{CALLS_URL}?page={page + 1}" if more else None,
                "previous_page_link": None,
            },
        }


def calls_requests(mock: requests_mock_module.Mocker) -> list[dict[str, str]]:
    return [query(r) for r in mock.request_history if urlsplit(r.url).path == "/v1/calls"]


def take(calls: Iterator[Any]) -> list[int]:
    return [c.id for c in calls]


def test_calls_are_listed_newest_first_with_aircall_paging_parameters(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(CALLS_URL, json=FakeCalls([(1, 1_010), (2, 1_020), (3, 1_015)]))

    listed = take(client.calls_newest_first(TimeWindow(1_000, 2_000)))

    assert listed == [2, 3, 1]
    first = calls_requests(requests_mock)[0]
    assert (first["from"], first["to"], first["order"], first["per_page"], first["page"]) == (
        "1000",
        "2000",
        "desc",
        "50",
        "1",
    )


def test_calls_listing_follows_pages_until_next_page_link_is_null(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    calls = [(n, 1_000 + n) for n in range(1, 121)]  # 120 calls: pages of 50, 50 and 20
    requests_mock.get(CALLS_URL, json=FakeCalls(calls))

    listed = take(client.calls_newest_first(TimeWindow(1_000, 2_000)))

    assert listed == list(range(120, 0, -1))
    assert [r["page"] for r in calls_requests(requests_mock)] == ["1", "2", "3"]


def test_calls_listing_stops_on_a_page_without_a_next_link(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(CALLS_URL, json=FakeCalls([(n, 1_000 + n) for n in range(1, 51)]))

    take(client.calls_newest_first(TimeWindow(1_000, 2_000)))

    assert len(calls_requests(requests_mock)) == 1


def test_calls_listing_is_lazy(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(CALLS_URL, json=FakeCalls([(n, 1_000 + n) for n in range(1, 121)]))

    listing = client.calls_newest_first(TimeWindow(1_000, 2_000))
    newest = next(listing)

    assert newest.id == 120
    assert len(calls_requests(requests_mock)) == 1


def test_window_whose_first_page_reports_ten_thousand_calls_is_split_newest_half_first(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    calls = [(1, 1_100), (2, 1_700), (3, 1_900)]
    requests_mock.get(
        CALLS_URL,
        json=FakeCalls(calls, total_of=lambda s, e, n: 10_000 if (s, e) == (1_000, 2_000) else n),
    )

    listed = take(client.calls_newest_first(TimeWindow(1_000, 2_000)))

    windows = [(r["from"], r["to"], r["page"]) for r in calls_requests(requests_mock)]
    assert windows == [("1000", "2000", "1"), ("1500", "2000", "1"), ("1000", "1500", "1")]
    assert listed == [3, 2, 1]


def test_window_reporting_just_under_ten_thousand_calls_is_not_split(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(CALLS_URL, json=FakeCalls([(1, 1_100)], total_of=lambda s, e, n: 9_999))

    take(client.calls_newest_first(TimeWindow(1_000, 2_000)))

    assert len(calls_requests(requests_mock)) == 1


def test_window_split_repeatedly_until_each_part_is_under_the_cap(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    def total(start: int, end: int, actual: int) -> int:
        return 10_000 if end - start > 250 else actual

    requests_mock.get(CALLS_URL, json=FakeCalls([(1, 1_010), (2, 1_990)], total_of=total))

    listed = take(client.calls_newest_first(TimeWindow(1_000, 2_000)))

    read = [
        (int(r["from"]), int(r["to"]))
        for r in calls_requests(requests_mock)
        if int(r["to"]) - int(r["from"]) <= 250
    ]
    assert read == [(1_750, 2_000), (1_500, 1_750), (1_250, 1_500), (1_000, 1_250)]
    assert listed == [2, 1]


def test_one_second_holding_over_ten_thousand_calls_never_asks_past_the_positional_cap(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    def endless(request: Any, context: Any) -> dict[str, Any]:
        page = int(query(request)["page"])
        return {
            "calls": [a_call(page * 100 + n).started(1_500).payload() for n in range(50)],
            "meta": {"total": 12_000, "next_page_link": f"{CALLS_URL}?page={page + 1}"},
        }

    requests_mock.get(CALLS_URL, json=endless)

    listed = take(client.calls_newest_first(TimeWindow(1_499, 1_500)))

    pages = [int(r["page"]) * int(r["per_page"]) for r in calls_requests(requests_mock)]
    assert max(pages) <= 10_000
    assert len(listed) == 10_000


def test_call_listed_twice_while_paging_is_yielded_once(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    pages = {
        "1": [a_call(n).started(1_100 + n).payload() for n in range(50, 0, -1)],
        "2": [a_call(1).started(1_101).payload(), a_call(99).started(1_050).payload()],
    }

    def shifted(request: Any, context: Any) -> dict[str, Any]:
        page = query(request)["page"]
        link = f"{CALLS_URL}?page=2" if page == "1" else None
        return {"calls": pages[page], "meta": {"total": 51, "next_page_link": link}}

    requests_mock.get(CALLS_URL, json=shifted)

    listed = take(client.calls_newest_first(TimeWindow(1_000, 2_000)))

    assert listed.count(1) == 1
    assert listed[-1] == 99


def test_call_that_cannot_be_read_is_skipped_and_the_rest_listed(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    broken = a_call(2).with_fields(started_at="yesterday").payload()
    requests_mock.get(
        CALLS_URL,
        json={
            "calls": [
                a_call(3).started(1_300).payload(),
                broken,
                a_call(1).started(1_100).payload(),
            ],
            "meta": {"total": 3, "next_page_link": None},
        },
    )

    assert take(client.calls_newest_first(TimeWindow(1_000, 2_000))) == [3, 1]


def test_basic_auth_with_the_api_id_and_token_is_sent_to_the_api(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(f"{API}/v1/ping", json={"ping": "pong"})

    client.ping()

    expected = "Basic " + base64.b64encode(b"my-api-id:my-api-token").decode()
    assert requests_mock.last_request.headers["Authorization"] == expected


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_raise_a_config_error_naming_the_api_id_and_token(
    client: AircallClient, requests_mock: requests_mock_module.Mocker, status: int
) -> None:
    requests_mock.get(f"{API}/v1/ping", status_code=status, json={"message": "Forbidden"})

    with pytest.raises(AirbyteTracedException) as raised:
        client.ping()

    assert raised.value.failure_type is FailureType.config_error
    assert "API ID" in (raised.value.message or "")
    assert "API token" in (raised.value.message or "")
    assert requests_mock.call_count == 1  # not retried


def test_server_error_is_retried_then_succeeds(
    client: AircallClient, requests_mock: requests_mock_module.Mocker, sleeps: list[float]
) -> None:
    requests_mock.get(
        f"{API}/v1/ping",
        [{"status_code": 503, "text": "unavailable"}, {"json": {"ping": "pong"}}],
    )

    assert client.get("/v1/ping") == {"ping": "pong"}
    assert requests_mock.call_count == 2


def test_server_error_that_persists_fails_after_the_retries(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(f"{API}/v1/ping", status_code=500, text="boom")

    with pytest.raises(AirbyteTracedException):
        client.ping()

    assert requests_mock.call_count == 4  # the first try and max_retries=3 more


def test_200_with_a_non_json_body_is_retried_then_succeeds(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(
        f"{API}/v1/ping",
        [{"status_code": 200, "text": "<html>gateway</html>"}, {"json": {"ping": "pong"}}],
    )

    assert client.get("/v1/ping") == {"ping": "pong"}
    assert requests_mock.call_count == 2


def test_429_waits_until_the_reset_then_retries(
    client: AircallClient, requests_mock: requests_mock_module.Mocker, sleeps: list[float]
) -> None:
    reset = str(int(time.time()) + 30)
    requests_mock.get(
        f"{API}/v1/ping",
        [
            {"status_code": 429, "json": {}, "headers": {"X-AircallApi-Reset": reset}},
            {"json": {"ping": "pong"}},
        ],
    )

    assert client.get("/v1/ping") == {"ping": "pong"}
    assert any(28 <= wait <= 32 for wait in sleeps)


def test_429_without_reset_header_waits_about_sixty_seconds(
    client: AircallClient, requests_mock: requests_mock_module.Mocker, sleeps: list[float]
) -> None:
    requests_mock.get(
        f"{API}/v1/ping", [{"status_code": 429, "json": {}}, {"json": {"ping": "pong"}}]
    )

    client.ping()

    assert any(60 <= wait <= 62 for wait in sleeps)


def test_requests_are_counted_by_path(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(f"{API}/v1/ping", json={"ping": "pong"})
    requests_mock.get(f"{API}/v1/calls/77", json={"call": a_call(77).started(1_500).payload()})

    client.ping()
    client.ping()
    client.call(77)

    assert client.requests == {"/v1/ping": 2, "/v1/calls/{id}": 1}


def test_users_are_read_from_v2_until_next_page_link_is_null(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    def users(request: Any, context: Any) -> dict[str, Any]:
        page = int(query(request)["page"])
        link = f"{API}/v2/users?page=2" if page == 1 else None
        return {
            "users": [{"id": page * 10, "email": f"u{page}@example.com"}],
            "meta": {"next_page_link": link},
        }

    requests_mock.get(f"{API}/v2/users", json=users)

    assert [u.id for u in client.users()] == [10, 20]
    assert [query(r)["page"] for r in requests_mock.request_history] == ["1", "2"]
