"""`users` and `calls` over a sequence of syncs."""

from __future__ import annotations

import time

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, catalog
from tests.oracle import done_calls, newest

CALLS = catalog(["calls"])


def calls_requests(sandbox: Sandbox) -> list[dict[str, object]]:
    return [r for r in sandbox.requests_log(host="api") if str(r["path"]).startswith("/v1/calls")]


def test_users_stream_emits_every_user_flagged_by_email(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("read", sandbox.config(), catalog(["users"]))
    users = {u["id"]: u for u in sandbox.users()}
    records = run.records("users")
    assert sorted(r["id"] for r in records) == sorted(users)
    wanted = set(sandbox.config()["salescaling_user_emails"])
    for record in records:
        expected = (users[record["id"]]["email"] or "").strip().lower() in wanted
        assert record["salescaling_user"] is expected


def test_users_incremental_sync_emits_only_new_users(
    sandbox: Sandbox, connector: Connector
) -> None:
    first = connector.run("read", sandbox.config(), catalog(["users"]))
    second = connector.run("read", sandbox.config(), catalog(["users"]), state=first.states())
    assert first.records("users")
    assert second.records("users") == []


def test_first_sync_emits_exactly_the_newest_200_done_calls_in_the_window(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run("read", sandbox.config(), CALLS)
    expected = newest(done_calls(sandbox.calls(), time.time()), 200)
    assert run.returncode == 0
    assert sorted(run.ids("calls")) == sorted(expected)


def test_first_sync_pages_newest_first_and_does_not_read_the_whole_window(
    sandbox: Sandbox, connector: Connector
) -> None:
    sandbox.add_bulk_calls(3000, days=10)
    sandbox.clear_log()
    connector.run("read", sandbox.config(first_sync_max_calls=20), CALLS)
    requests = calls_requests(sandbox)
    assert all(r["query"].get("order") == "desc" for r in requests)
    assert len(requests) < 3000 / 50 / 2


def test_call_fields_follow_the_contract(sandbox: Sandbox, connector: Connector) -> None:
    run = connector.run("read", sandbox.config(), CALLS)
    model = {c["id"]: c for c in sandbox.calls()}
    for record in run.records("calls"):
        call = model[record["id"]]
        if call["has_voicemail"]:
            assert record["status"] == "voicemail"
        elif call.get("answered_at"):
            assert record["status"] == "answered"
        else:
            assert record["status"] == ("missed" if call["direction"] == "inbound" else "failed")
        assert record["started_at"].endswith("Z") and len(record["started_at"]) == 20
        if call["raw_digits"] == "anonymous":
            assert record.get("external_number") is None
        else:
            assert record.get("external_number") == call["raw_digits"]
        assert record["has_recording"] is call["has_recording"]


def test_second_sync_emits_exactly_new_calls_and_calls_finished_since(
    sandbox: Sandbox, connector: Connector
) -> None:
    first = connector.run("read", sandbox.config(), CALLS)
    in_progress = [c["id"] for c in sandbox.calls() if c["status"] != "done"]
    assert in_progress, "the sandbox should hold calls in progress"
    for call_id in in_progress:
        sandbox.finish_call(call_id)
    added = [c["id"] for c in sandbox.add_calls(7, status="done", started_ago_seconds=300)]
    second = connector.run("read", sandbox.config(), CALLS, state=first.states())
    assert sorted(second.ids("calls")) == sorted(in_progress + added)
    assert not set(second.ids("calls")) & set(first.ids("calls"))


def test_a_call_in_progress_at_two_syncs_arrives_once_it_is_done(
    sandbox: Sandbox, connector: Connector
) -> None:
    ringing = sandbox.add_calls(1, status="in_progress", started_ago_seconds=120)[0]["id"]
    first = connector.run("read", sandbox.config(), CALLS)
    second = connector.run("read", sandbox.config(), CALLS, state=first.states())
    sandbox.finish_call(ringing)
    third = connector.run("read", sandbox.config(), CALLS, state=second.states())
    assert ringing not in first.ids("calls") + second.ids("calls")
    assert third.ids("calls") == [ringing]


def test_no_call_from_before_the_import_window_is_emitted(
    sandbox: Sandbox, connector: Connector
) -> None:
    run = connector.run(
        "read", sandbox.config(import_window_days=3, first_sync_max_calls=10_000), CALLS
    )
    expected = newest(done_calls(sandbox.calls(), time.time(), days=3), 10_000)
    assert sorted(run.ids("calls")) == sorted(expected)


def test_a_sync_with_nothing_new_costs_at_most_three_calls_requests(
    sandbox: Sandbox, connector: Connector
) -> None:
    first = connector.run("read", sandbox.config(), CALLS)
    for call in sandbox.calls():
        if call["status"] != "done":
            sandbox.finish_call(call["id"])
    second = connector.run("read", sandbox.config(), CALLS, state=first.states())
    sandbox.clear_log()
    third = connector.run("read", sandbox.config(), CALLS, state=second.states())
    assert third.ids("calls") == []
    assert len(calls_requests(sandbox)) <= 3


def test_12000_calls_in_ten_days_all_arrive_without_hitting_the_10k_cap(
    sandbox: Sandbox, connector: Connector
) -> None:
    sandbox.add_bulk_calls(12_000, days=10)
    sandbox.clear_log()
    config = sandbox.config(first_sync_max_calls=1_000_000, requests_per_minute=1000)
    run = connector.run("read", config, CALLS)
    expected = {c["id"] for c in done_calls(sandbox.calls(), time.time())}
    assert run.returncode == 0
    assert len(run.ids("calls")) == len(set(run.ids("calls")))
    assert set(run.ids("calls")) == expected
    statuses = [r["status"] for r in calls_requests(sandbox)]
    assert 400 not in statuses
    print(f"12,000-call sync: {len(statuses)} requests to /v1/calls")


def test_estimates_and_a_summary_line_are_emitted(sandbox: Sandbox, connector: Connector) -> None:
    run = connector.run("read", sandbox.config(), CALLS)
    estimates = [
        m["trace"]["estimate"] for m in run.of_type("TRACE") if m["trace"]["type"] == "ESTIMATE"
    ]
    assert estimates and estimates[0]["name"] == "calls"
    assert estimates[0]["row_estimate"] == len(run.ids("calls"))
    assert any(line.startswith("Stream calls summary") for line in run.logs("INFO"))
