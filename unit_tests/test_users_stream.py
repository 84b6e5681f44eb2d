"""`users` incremental: new and changed users arrive, unchanged ones do not, and a user
gone from a complete listing arrives once more, marked deleted."""

from __future__ import annotations

import json
import logging
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
import requests_mock as requests_mock_module
from airbyte_cdk.models import SyncMode

from source_aircall_salescaling.aircall.errors import AircallHttpError
from source_aircall_salescaling.config import parse_config
from source_aircall_salescaling.streams.users import UsersStream
from source_aircall_salescaling.sync.context import SyncContext, SyncRequest
from source_aircall_salescaling.sync.user_prints import KnownUser, pack, unpack
from tests.builders import UserBuilder, a_user

API = "http://127.0.0.1:9"
USERS_URL = f"{API}/v2/users"
# Aircall's clock for these syncs: a whole second, so that the deletion time is exact.
NOW = int(time.time())
NOW_ISO = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW))


def listing(users: list[UserBuilder], total: int | None = None) -> dict[str, Any]:
    """One page holding every user."""
    meta = {"total": len(users) if total is None else total, "next_page_link": None}
    return {"users": [u.payload() for u in users], "meta": meta}


def sync(
    tmp_path: Path,
    requests_mock: requests_mock_module.Mocker,
    users: list[UserBuilder] | None,
    state: dict[str, Any],
    mode: SyncMode = SyncMode.incremental,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One sync of `users` over this listing (None: the test set the answers): the
    records emitted, and the state to pass on."""
    if users is not None:
        requests_mock.get(
            USERS_URL, json=listing(users), headers={"Date": formatdate(NOW, usegmt=True)}
        )
    stream = users_stream(tmp_path, state)
    records = [dict(record) for record in stream.read_records(mode)]  # type: ignore[call-overload]
    return records, dict(stream.state)


def users_stream(tmp_path: Path, state: dict[str, Any]) -> UsersStream:
    config = parse_config(
        {"api_id": "id", "api_token": "token", "salescaling_user_emails": ["u1@example.com"]},
        environ={"AIRCALL_API_URL": API},
    )
    context = SyncContext(config, logging.getLogger("test_users"), SyncRequest(), tmp_path)
    stream = UsersStream(context)
    stream.state = state
    return stream


def ids(records: list[dict[str, Any]]) -> list[int]:
    return sorted(record["id"] for record in records)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda seconds: None)


# New users ---------------------------------------------------------------------------------


def test_a_user_created_in_the_same_second_as_the_cursor_arrives_once(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    before = [a_user(1).created("2026-09-28T10:21:09.200Z")]
    after = [*before, a_user(3).created("2026-09-28T10:21:09.700Z")]

    first, state = sync(tmp_path, requests_mock, before, {})
    second, state = sync(tmp_path, requests_mock, after, state)
    third, _ = sync(tmp_path, requests_mock, after, state)

    assert (ids(first), ids(second), ids(third)) == ([1], [3], [])


def test_a_user_without_created_at_arrives_once_even_after_the_first_sync(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    before = [a_user(1), a_user(2).created(None)]
    after = [*before, a_user(4).created(None)]

    first, state = sync(tmp_path, requests_mock, before, {})
    second, state = sync(tmp_path, requests_mock, after, state)
    third, _ = sync(tmp_path, requests_mock, after, state)

    assert (ids(first), ids(second), ids(third)) == ([1, 2], [4], [])


def test_the_cursor_is_the_newest_created_at(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    users = [a_user(1).created("2026-09-29T08:00:00.000Z"), a_user(2).created(None)]

    _, state = sync(tmp_path, requests_mock, users, {"created_at": "2026-01-01T00:00:00Z"})

    assert state["created_at"] == "2026-09-29T08:00:00Z"


# Changed users -----------------------------------------------------------------------------


def test_an_unchanged_user_is_not_emitted_again(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    users = [a_user(1), a_user(5).created("2026-09-29T08:00:00.000Z")]

    _, state = sync(tmp_path, requests_mock, users, {})
    again, _ = sync(tmp_path, requests_mock, users, state)

    assert again == []


@pytest.mark.parametrize(
    "change",
    [
        lambda user: user.with_email("ana.new@example.com"),
        lambda user: user.named("Ana Lima-Costa"),
        lambda user: user.unavailable(),
        lambda user: user.with_fields(extension="205"),
    ],
    ids=["email", "name", "availability", "extension"],
)
def test_a_user_whose_record_changed_is_emitted_again_with_its_new_fields(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker, change: Any
) -> None:
    ana, bob = a_user(1).with_email("ana@example.com"), a_user(2)
    changed, _ = sync(tmp_path, requests_mock, [change(ana)], {})  # its record, as it is now
    _, state = sync(tmp_path, requests_mock, [ana, bob], {})

    second, _ = sync(tmp_path, requests_mock, [change(ana), bob], state)

    assert second == changed


def test_a_user_whose_email_became_a_salescaling_email_is_emitted_flagged(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    _, state = sync(tmp_path, requests_mock, [a_user(1).with_email("ana@example.com")], {})

    second, _ = sync(tmp_path, requests_mock, [a_user(1).with_email(" U1@example.com")], state)

    assert [(r["email"], r["salescaling_user"]) for r in second] == [(" U1@example.com", True)]


def test_a_state_of_the_previous_version_emits_only_the_users_it_had_not_emitted(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    cursor = "2026-09-28T10:21:09.000Z"
    users = [
        a_user(1).created("2026-01-02T03:04:05.000Z"),
        a_user(2).created(cursor),  # emitted: in `at_cursor`
        a_user(3).created("2026-09-28T10:21:09.500Z"),  # the cursor's second, not emitted
        a_user(4).created(None),  # emitted: in `undated`
        a_user(5).created(None),
        a_user(6).created("2026-10-01T00:00:00.000Z"),
    ]
    previous = {"created_at": "2026-09-28T10:21:09Z", "at_cursor": [2], "undated": [4]}

    first, state = sync(tmp_path, requests_mock, users, previous)
    second, _ = sync(tmp_path, requests_mock, users, state)

    assert (ids(first), second) == ([3, 5, 6], [])


def test_a_cursor_in_the_far_future_emits_no_user(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    records, _ = sync(tmp_path, requests_mock, [a_user(1)], {"created_at": "2099-12-31T23:59:59Z"})

    assert records == []


def test_a_full_refresh_emits_every_user(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    users = [a_user(1), a_user(2)]
    _, state = sync(tmp_path, requests_mock, users, {})

    again, _ = sync(tmp_path, requests_mock, users, state, SyncMode.full_refresh)

    assert ids(again) == [1, 2]


# Removed users -----------------------------------------------------------------------------


def test_a_user_gone_from_the_listing_is_emitted_with_the_sync_time_as_deleted_at(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    bob = a_user(2).created("2026-03-04T05:06:07.890Z")
    _, state = sync(tmp_path, requests_mock, [a_user(1), bob], {})

    second, _ = sync(tmp_path, requests_mock, [a_user(1)], state)

    assert second == [
        {
            "id": 2,
            "name": None,
            "email": None,
            "created_at": "2026-03-04T05:06:07Z",
            "available": None,
            "availability_status": None,
            "time_zone": None,
            "language": None,
            "extension": None,
            "state": None,
            "substatus": None,
            "default_number_id": None,
            "wrap_up_time": None,
            "salescaling_user": None,
            "_ab_cdc_deleted_at": NOW_ISO,
        }
    ]


def test_a_removed_user_is_not_emitted_again_on_the_next_sync(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    _, state = sync(tmp_path, requests_mock, [a_user(1), a_user(2)], {})
    _, state = sync(tmp_path, requests_mock, [a_user(1)], state)

    third, _ = sync(tmp_path, requests_mock, [a_user(1)], state)

    assert third == []


def test_a_full_refresh_reports_no_removal(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    _, state = sync(tmp_path, requests_mock, [a_user(1), a_user(2)], {})

    again, _ = sync(tmp_path, requests_mock, [a_user(1)], state, SyncMode.full_refresh)

    assert [r["_ab_cdc_deleted_at"] for r in again] == [None]


def test_a_listing_that_fails_on_a_later_page_reports_no_removal(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    _, state = sync(tmp_path, requests_mock, [a_user(1), a_user(2), a_user(3)], {})
    first_page = listing([a_user(1)], total=2)
    first_page["meta"]["next_page_link"] = f"{USERS_URL}?page=2"
    requests_mock.get(f"{USERS_URL}?page=1", json=first_page)
    requests_mock.get(f"{USERS_URL}?page=2", status_code=400, json={"errors": "page broke"})
    stream = users_stream(tmp_path, state)

    emitted = []
    with pytest.raises(AircallHttpError, match="page broke"):
        for record in stream.read_records(SyncMode.incremental):
            emitted.append(record)

    assert (emitted, dict(stream.state)) == ([], state)


def test_a_listing_that_shifted_while_paged_reports_no_removal_until_a_complete_one(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    _, state = sync(tmp_path, requests_mock, [a_user(1), a_user(2), a_user(3)], {})
    first_page = listing([a_user(1)], total=3)
    first_page["meta"]["next_page_link"] = f"{USERS_URL}?page=2"
    # User 3 was deleted between the two pages: user 2 moved onto page 1, never seen.
    requests_mock.get(
        f"{USERS_URL}?page=1", json=first_page, headers={"Date": formatdate(NOW, usegmt=True)}
    )
    requests_mock.get(f"{USERS_URL}?page=2", json=listing([], total=2))

    shifted, state = sync(tmp_path, requests_mock, None, state)
    complete, _ = sync(tmp_path, requests_mock, [a_user(1), a_user(2)], state)

    assert (shifted, [(r["id"], r["_ab_cdc_deleted_at"]) for r in complete]) == (
        [],
        [(3, NOW_ISO)],
    )


def test_a_listing_with_an_unreadable_user_reports_no_removal(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    _, state = sync(tmp_path, requests_mock, [a_user(1), a_user(2)], {})

    second, _ = sync(tmp_path, requests_mock, [a_user(1), a_user(2).with_fields(id="2")], state)

    assert second == []


# The state ---------------------------------------------------------------------------------


def test_the_state_of_a_thousand_users_takes_under_16_kib(
    tmp_path: Path, requests_mock: requests_mock_module.Mocker
) -> None:
    # Ids and creation times as an account grows: a few users a week, ids far apart.
    users = [
        a_user(1_200_000 + 1_733 * n).created(
            time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(1_600_000_000 + 97_213 * n))
        )
        for n in range(1000)
    ]

    _, state = sync(tmp_path, requests_mock, users, {})

    size = len(json.dumps(state))
    print(f"users state for 1,000 users: {size} bytes")
    assert size < 16 * 1024


def test_the_packed_users_read_back_as_they_were() -> None:
    users = {
        9: KnownUser(1_700_000_000, b"abcdef"),
        4: KnownUser(None, b"\x00" * 6),
        2**40: KnownUser(1_600_000_000, b"\xff" * 6),
        -3: KnownUser(-5, b"123456"),
    }

    assert unpack(pack(users)) == users


@pytest.mark.parametrize("damaged", [None, 12, "", "not base64!", "AgAA", "AQIDBAUG"])
def test_a_state_that_cannot_be_read_has_no_known_users(damaged: Any) -> None:
    assert unpack(damaged) is None
