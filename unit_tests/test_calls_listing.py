"""Paging `/v1/calls` newest first while calls leave or enter the window between pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests_mock as requests_mock_module

from source_aircall_salescaling.aircall.client import AircallClient
from source_aircall_salescaling.aircall.windows import TimeWindow
from tests.builders import a_call
from unit_tests.client_kit import API, mocked_client


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda seconds: None)


@pytest.fixture
def client() -> AircallClient:
    return mocked_client("test_calls_listing")


class ChangingAccount:
    """Aircall's `/v1/calls` (from < started_at <= to, order=desc, page numbers) over an
    account where `between_pages` runs once, after the page numbered `after_page`."""

    def __init__(
        self, calls: dict[int, int], after_page: int, between_pages: Callable[[], None]
    ) -> None:
        self.calls = calls  # id -> started_at
        self.after_page = after_page
        self.between_pages = between_pages
        self.done = False

    def __call__(self, request: Any, context: Any) -> dict[str, Any]:
        q = {key: values[0] for key, values in parse_qs(urlsplit(request.url).query).items()}
        page, per_page = int(q["page"]), int(q["per_page"])
        start, end = int(q["from"]), int(q["to"])
        inside = sorted(((s, i) for i, s in self.calls.items() if start < s <= end), reverse=True)
        chunk = inside[(page - 1) * per_page : page * per_page]
        body = {
            "calls": [
                a_call(i).started(s).answered(s + 1).ended(s + 30).lasting(29).payload()
                for s, i in chunk
            ],
            "meta": {
                "total": len(inside),
                "next_page_link": f"{API}/v1/calls?page={page + 1}"
                if page * per_page < len(inside)
                else None,
            },
        }
        if page == self.after_page and not self.done:
            self.done = True
            self.between_pages()
        return body


def test_a_call_deleted_between_two_pages_does_not_make_another_call_vanish(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    calls = {1_000 + n: 10_000 + n for n in range(120)}
    newest = max(calls, key=calls.__getitem__)
    account = ChangingAccount(dict(calls), after_page=1, between_pages=lambda: None)
    account.between_pages = lambda: account.calls.pop(newest)
    requests_mock.get(f"{API}/v1/calls", json=account)

    listed = [c.id for c in client.calls_newest_first(TimeWindow(9_000, 20_000))]

    assert sorted(listed) == sorted(calls)
    assert len(listed) == len(set(listed))


def test_calls_leaving_between_pages_are_listed_newest_first_without_a_gap(
    client: AircallClient, requests_mock: requests_mock_module.Mocker
) -> None:
    calls = {1_000 + n: 10_000 + n for n in range(200)}
    account = ChangingAccount(dict(calls), after_page=2, between_pages=lambda: None)
    gone = sorted(calls, key=calls.__getitem__, reverse=True)[:60]  # more than a page
    account.between_pages = lambda: [account.calls.pop(i) for i in gone]
    requests_mock.get(f"{API}/v1/calls", json=account)

    listed = list(client.calls_newest_first(TimeWindow(9_000, 20_000)))

    assert {c.id for c in listed} >= set(calls) - set(gone)
    started = [c.started_at for c in listed]
    assert started == sorted(started, reverse=True)
