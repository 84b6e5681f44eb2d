"""`users` over a sequence of syncs: changed users arrive again, removed users once."""

from __future__ import annotations

import calendar
import time

from aircall_sandbox.testing import Sandbox
from tests.harness import USER_FIELDS, Connector, SyncSequence, catalog

USERS = catalog(["users"])
ISO = "%Y-%m-%dT%H:%M:%SZ"


def test_every_users_record_carries_the_contracts_fields(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("read", sandbox.config(), USERS)

    records = run.records("users")
    assert records
    assert all(set(record) == set(USER_FIELDS) for record in records)


def test_a_changed_email_is_emitted_on_the_next_sync_and_unchanged_users_are_not(
    sandbox: Sandbox, connector: Connector
) -> None:
    syncs = SyncSequence(sandbox, connector, USERS)
    syncs.run()
    user = sandbox.users()[0]
    sandbox.update_user(user["id"], email="renamed@example.com")

    second = syncs.run()

    assert [(r["id"], r["email"]) for r in second.records("users")] == [
        (user["id"], "renamed@example.com")
    ]


def test_a_deleted_user_is_emitted_once_with_its_deletion_time_then_never_again(
    sandbox: Sandbox, connector: Connector
) -> None:
    syncs = SyncSequence(sandbox, connector, USERS)
    first = syncs.run()
    user = sandbox.users()[-1]
    before = next(r for r in first.records("users") if r["id"] == user["id"])
    sandbox.delete_user(user["id"])
    syncs.advance(minutes=15)
    started = sandbox.now()
    second = syncs.run()
    ended = sandbox.now()
    third = syncs.run()

    removals = second.records("users")
    assert [(r["id"], r["created_at"]) for r in removals] == [(user["id"], before["created_at"])]
    deleted_at = calendar.timegm(time.strptime(removals[0]["_ab_cdc_deleted_at"], ISO))
    assert started <= deleted_at <= ended  # the sync's time, on Aircall's clock
    assert third.records("users") == []
