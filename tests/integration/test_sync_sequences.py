"""Sequences of syncs the way a real account behaves between them: Aircall rewrites a
done call, a call stays in progress for hours, a call is deleted, an admin changes the
config (docs/aircall-salescaling.md, "Import rules", "Across syncs")."""

from __future__ import annotations

from typing import Any

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, ConnectorRun, catalog

CALLS = catalog(["calls"])
BOTH = catalog(["calls", "recordings"])


def calls_record(run: ConnectorRun, call_id: int) -> list[dict[str, Any]]:
    return [r for r in run.records("calls") if r["id"] == call_id]


def salescaling_user(sandbox: Sandbox) -> int:
    return int(next(u["id"] for u in sandbox.users() if u["salescaling"]))


def by_id_requests(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests_log(host="api") if str(r["path"]).startswith("/v1/calls/")]


def test_a_done_call_that_aircall_rewrites_after_a_sync_reaches_calls_again(
    sandbox: Sandbox, connector: Connector
) -> None:
    done = sandbox.add_calls(1, status="done", recording=False, started_ago_seconds=600)[0]
    first = connector.run("read", sandbox.config(), CALLS)
    sandbox.update_call(done["id"], duration=done["duration"] + 17)
    sandbox.attach_recording(done["id"])

    second = connector.run("read", sandbox.config(), CALLS, state=first.states())

    assert calls_record(first, done["id"])[0]["has_recording"] is False
    again = calls_record(second, done["id"])
    assert len(again) == 1
    assert again[0]["has_recording"] is True
    assert again[0]["duration"] == done["duration"] + 17


def test_a_done_call_that_did_not_change_is_not_emitted_again(
    sandbox: Sandbox, connector: Connector
) -> None:
    first = connector.run("read", sandbox.config(), CALLS)

    second = connector.run("read", sandbox.config(), CALLS, state=first.states())

    assert first.ids("calls")
    assert second.ids("calls") == []


def test_a_call_in_progress_for_seven_hours_arrives_once_it_is_done(
    sandbox: Sandbox, connector: Connector
) -> None:
    stuck = sandbox.add_calls(
        1, status="in_progress", started_ago_seconds=7 * 3600, user_id=salescaling_user(sandbox)
    )[0]["id"]
    config = sandbox.config(first_sync_max_calls=10_000)  # the first sync sees it
    first = connector.run("read", config, BOTH)
    sandbox.finish_call(stuck, recording=True, recording_size=200_000)

    second = connector.run("read", config, BOTH, state=first.states())

    assert stuck not in first.ids("calls")
    assert second.ids("calls").count(stuck) == 1
    assert second.ids("recordings").count(stuck) == 1


def test_an_old_pending_call_is_fetched_by_id_not_by_listing_back_to_it(
    sandbox: Sandbox, connector: Connector
) -> None:
    stuck = sandbox.add_calls(1, status="in_progress", started_ago_seconds=7 * 3600)[0]["id"]
    config = sandbox.config(first_sync_max_calls=10_000)
    first = connector.run("read", config, BOTH)
    sandbox.clear_log()

    connector.run("read", config, BOTH, state=first.states())

    listings = [r for r in sandbox.requests_log(host="api") if r["path"] == "/v1/calls"]
    oldest_from = min(int(r["query"]["from"]) for r in listings)
    assert oldest_from > sandbox.call(stuck)["started_at"]
    assert [r["path"] for r in by_id_requests(sandbox)] == [f"/v1/calls/{stuck}"]


def syncs_across_a_lookback_change(
    sandbox: Sandbox, connector: Connector, before: int, after: int
) -> tuple[ConnectorRun, ConnectorRun]:
    """Thirty done calls of the last 100 minutes, a sync at `before` minutes of lookback,
    then one at `after` minutes from the state the first one left."""
    sandbox.add_calls(30, status="done", started_ago_seconds=100 * 60, spread_seconds=95 * 60)
    config = sandbox.config(first_sync_max_calls=10_000)
    first = connector.run("read", {**config, "lookback_minutes": before}, BOTH)
    second = connector.run(
        "read", {**config, "lookback_minutes": after}, BOTH, state=first.states()
    )
    return first, second


def test_raising_the_lookback_between_syncs_emits_no_call_twice(
    sandbox: Sandbox, connector: Connector
) -> None:
    first, second = syncs_across_a_lookback_change(sandbox, connector, before=15, after=120)

    assert first.ids("recordings")
    assert second.ids("recordings") == []
    assert second.ids("calls") == []


def test_lowering_the_lookback_between_syncs_emits_no_call_twice(
    sandbox: Sandbox, connector: Connector
) -> None:
    first, second = syncs_across_a_lookback_change(sandbox, connector, before=120, after=15)

    assert first.ids("recordings")
    assert second.ids("recordings") == []
    assert second.ids("calls") == []


def test_a_long_call_rewritten_after_its_start_left_the_overlap_reaches_calls_again(
    sandbox: Sandbox, connector: Connector
) -> None:
    config = sandbox.config(lookback_minutes=15)  # a 15-minute overlap
    long_call = sandbox.add_calls(
        1, status="done", recording=False, started_ago_seconds=40 * 60, duration=30 * 60
    )[0]
    first = connector.run("read", config, CALLS)
    sandbox.attach_recording(long_call["id"])

    second = connector.run("read", config, CALLS, state=first.states())

    assert calls_record(first, long_call["id"])[0]["has_recording"] is False
    again = calls_record(second, long_call["id"])
    assert [r["has_recording"] for r in again] == [True]
