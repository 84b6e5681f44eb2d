"""Each sync's time is Aircall's: the `Date` header of its first answer (a ping when the
bounds are needed before any request), else this machine's clock (issue 18).

    this machine ........ skew ........ Aircall's Date = T (window, lookback, first cap)

See `source_aircall_salescaling/aircall/clock.py`.
"""

from __future__ import annotations

import logging
import time
from email.utils import formatdate
from pathlib import Path

import pytest
import requests_mock as requests_mock_module

from source_aircall_salescaling.config import parse_config
from source_aircall_salescaling.sync.context import SyncContext, SyncRequest
from unit_tests.client_kit import API

HOUR = 3_600
LOGGER = "test_aircall_clock"


def context(tmp_path: Path) -> SyncContext:
    config = parse_config(
        {"api_id": "id", "api_token": "token", "salescaling_user_emails": ["ana@example.com"]},
        environ={"AIRCALL_API_URL": API},
    )
    return SyncContext(config, logging.getLogger(LOGGER), SyncRequest(), tmp_path)


def aircall_answers_ping(mock: requests_mock_module.Mocker, date: str | None) -> None:
    headers = {"Date": date} if date is not None else {}
    mock.get(f"{API}/v1/ping", json={"ping": "pong"}, headers=headers)


def http_date(moment: float) -> str:
    return formatdate(moment, usegmt=True)


def test_the_sync_time_is_the_date_of_aircalls_first_answer(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    aircalls = int(time.time()) - HOUR
    aircall_answers_ping(requests_mock, http_date(aircalls))

    assert context(tmp_path).sync_time == aircalls


def test_a_sync_that_already_asked_aircall_takes_the_date_of_that_answer_without_a_ping(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    aircalls = int(time.time()) + 2 * HOUR
    requests_mock.get(
        f"{API}/v2/users",
        json={"users": [], "meta": {"next_page_link": None}},
        headers={"Date": http_date(aircalls)},
    )
    sync = context(tmp_path)
    list(sync.client.users())

    assert sync.sync_time == aircalls
    assert [r.path for r in requests_mock.request_history] == ["/v2/users"]


@pytest.mark.parametrize(
    "date",
    [None, "yesterday at noon", http_date(time.time() + 2 * 86_400)],
    ids=["absent", "unparseable", "two-days-away"],
)
def test_without_a_usable_date_the_sync_uses_the_local_clock_and_says_so(
    tmp_path: Path,
    requests_mock: requests_mock_module.Mocker,
    caplog: pytest.LogCaptureFixture,
    date: str | None,
) -> None:
    aircall_answers_ping(requests_mock, date)
    before = int(time.time())

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        sync_time = context(tmp_path).sync_time

    assert before <= sync_time <= int(time.time())
    assert "this machine's clock" in caplog.text


def test_a_skew_over_a_minute_is_logged(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    aircall_answers_ping(requests_mock, http_date(time.time() - HOUR))

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        context(tmp_path).bounds  # noqa: B018 - reading the bounds reads the clock

    assert "Aircall's clock is 3600 s behind this machine's" in caplog.text


def test_a_skew_under_a_minute_is_not_logged(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    aircall_answers_ping(requests_mock, http_date(time.time() + 20))

    with caplog.at_level(logging.INFO, logger=LOGGER):
        sync = context(tmp_path)
        sync.bounds  # noqa: B018 - reading the bounds reads the clock

    assert sync.bounds.aircall_clock
    assert "clock" not in caplog.text
