"""`users` incremental: every new user arrives once, whatever its `created_at` says."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import requests_mock as requests_mock_module
from airbyte_cdk.models import SyncMode

from source_aircall_salescaling.config import parse_config
from source_aircall_salescaling.streams.users import UsersStream
from source_aircall_salescaling.sync.context import SyncContext, SyncRequest

API = "http://127.0.0.1:9"


def user(user_id: int, created_at: str | None) -> dict[str, Any]:
    return {"id": user_id, "email": f"u{user_id}@example.com", "created_at": created_at}


def sync(
    tmp_path: Path,
    requests_mock: requests_mock_module.Mocker,
    users: list[dict[str, Any]],
    state: dict[str, Any],
) -> tuple[list[int], dict[str, Any]]:
    """One incremental sync of `users` over this listing: the ids emitted, the new state."""
    requests_mock.get(f"{API}/v2/users", json={"users": users, "meta": {"next_page_link": None}})
    config = parse_config(
        {"api_id": "id", "api_token": "token", "salescaling_user_emails": ["u1@example.com"]},
        environ={"AIRCALL_API_URL": API},
    )
    context = SyncContext(config, logging.getLogger("test_users"), SyncRequest(), tmp_path)
    stream = UsersStream(context)
    stream.state = state
    emitted = [
        record["id"]  # type: ignore[index]
        for record in stream.read_records(SyncMode.incremental)
    ]
    return emitted, dict(stream.state)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda seconds: None)


def test_a_user_created_in_the_same_second_as_the_cursor_arrives_once(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    before = [user(1, "2026-09-28T10:21:09.200Z")]
    after = [*before, user(3, "2026-09-28T10:21:09.700Z")]

    first, state = sync(tmp_path, requests_mock, before, {})
    second, state = sync(tmp_path, requests_mock, after, state)
    third, _ = sync(tmp_path, requests_mock, after, state)

    assert first == [1]
    assert second == [3]
    assert third == []


def test_a_user_without_created_at_arrives_once_even_after_the_first_sync(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    before = [user(1, "2026-09-28T10:21:09.000Z"), user(2, None)]
    after = [*before, user(4, None)]

    first, state = sync(tmp_path, requests_mock, before, {})
    second, state = sync(tmp_path, requests_mock, after, state)
    third, _ = sync(tmp_path, requests_mock, after, state)

    assert sorted(first) == [1, 2]
    assert second == [4]
    assert third == []


def test_users_created_before_the_cursor_are_not_emitted_again(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    users = [user(1, "2026-09-28T10:21:09.000Z"), user(5, "2026-09-29T08:00:00.000Z")]

    _, state = sync(tmp_path, requests_mock, users, {})
    again, _ = sync(tmp_path, requests_mock, users, state)

    assert again == []
