"""The control API changes the account the way tests need, and the process lifecycle."""

from __future__ import annotations

import time

import pytest
import requests

from aircall_sandbox.testing import Sandbox, SandboxError


def test_config_lists_the_lowercase_salescaling_emails(sandbox: Sandbox) -> None:
    config = sandbox.config(import_window_days=3)
    expected = [u["email_normalized"] for u in sandbox.users() if u["salescaling"]]
    assert config == {
        "api_id": "demo-id",
        "api_token": "demo-token",
        "salescaling_user_emails": expected,
        "import_window_days": 3,
        "requests_per_minute": 1000,
    }
    assert 1 <= len(expected) < 8
    assert all(e == e.strip().lower() for e in expected)


def test_added_done_call_with_recording_is_listed_by_the_api(sandbox: Sandbox) -> None:
    (call,) = sandbox.add_calls(1, status="done", recording=True, recording_size=4096)
    body = sandbox.api_get(f"/v1/calls/{call['id']}").json()["call"]
    assert body["status"] == "done" and body["recording"] is not None
    assert body["ended_at"] <= sandbox.now()
    assert call["recording_size"] == 4096


def test_added_call_ids_keep_increasing(sandbox: Sandbox) -> None:
    before = max(c["id"] for c in sandbox.calls())
    calls = sandbox.add_calls(3)
    ids = [c["id"] for c in calls]
    assert ids == sorted(ids) and ids[0] > before


def test_added_calls_never_start_in_the_future(sandbox: Sandbox) -> None:
    calls = sandbox.add_calls(5, started_ago_seconds=2, spread_seconds=100)
    assert all(c["started_at"] <= sandbox.now() for c in calls)


def test_in_progress_call_can_be_finished_with_a_recording(sandbox: Sandbox) -> None:
    (live,) = sandbox.add_calls(1, status="in_progress", started_ago_seconds=90)
    listed = sandbox.api_get(f"/v1/calls/{live['id']}").json()["call"]
    assert listed["status"] == "answered" and listed["ended_at"] is None
    finished = sandbox.finish_call(live["id"], recording=True, recording_size=8192)
    assert finished["status"] == "done"
    assert finished["duration"] == finished["ended_at"] - finished["started_at"]
    assert finished["ended_at"] <= sandbox.now()
    body = sandbox.api_get(f"/v1/calls/{live['id']}").json()["call"]
    assert body["recording"] is not None


def test_finishing_a_done_call_is_refused(sandbox: Sandbox) -> None:
    (call,) = sandbox.add_calls(1)
    with pytest.raises(SandboxError, match="409"):
        sandbox.finish_call(call["id"])


def test_recording_can_be_attached_after_the_call_is_done(sandbox: Sandbox) -> None:
    (call,) = sandbox.add_calls(1, status="done", recording=False)
    assert sandbox.api_get(f"/v1/calls/{call['id']}").json()["call"]["recording"] is None
    attached = sandbox.attach_recording(call["id"], size=2048)
    assert attached["recording_size"] == 2048
    assert sandbox.api_get(f"/v1/calls/{call['id']}").json()["call"]["recording"] is not None


def test_user_update_changes_the_api_answer(sandbox: Sandbox) -> None:
    user = sandbox.add_user("Temp Agent", "temp.agent@example.com")
    sandbox.update_user(user["id"], name="Renamed Agent")
    body = sandbox.api_get(f"/v2/users/{user['id']}").json()["user"]
    assert body["name"] == "Renamed Agent"


def test_a_deleted_user_leaves_v2_users_and_stays_the_agent_of_its_calls(
    sandbox: Sandbox,
) -> None:
    user = sandbox.add_user("Leaving Agent", "leaving.agent@example.com")
    call = sandbox.add_calls(1, user_id=user["id"])[0]

    sandbox.delete_user(user["id"])

    listed = sandbox.api_get("/v2/users", per_page=50).json()["users"]
    assert user["id"] not in [u["id"] for u in listed]
    assert sandbox.api_get(f"/v2/users/{user['id']}").status_code == 404
    agent = sandbox.api_get(f"/v1/calls/{call['id']}").json()["call"]["user"]
    assert agent["id"] == user["id"]
    with pytest.raises(SandboxError):
        sandbox.delete_user(user["id"])


def test_state_shows_flags_sizes_and_settings(sandbox: Sandbox) -> None:
    state = sandbox.state()
    assert state["settings"]["rate_limit_per_window"] == 0
    call = state["calls"][0]
    assert {"recording_size", "flags", "started_at"} <= set(call)
    assert {"salescaling", "email_normalized"} <= set(state["users"][0])


def test_bad_fault_key_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxError, match="400"):
        sandbox.set_faults(no_such_fault=1)


def test_generated_account_has_two_recordings_over_200_mib(sandbox: Sandbox) -> None:
    sizes = [c["recording_size"] or 0 for c in sandbox.calls()]
    assert sum(1 for s in sizes if s > 200 * 1_048_576) >= 2


def test_bulk_adds_12000_calls_the_api_can_count() -> None:
    with Sandbox(seed=1, users=4, calls=10, rate_limit=0) as fresh:
        started = time.monotonic()
        summary = fresh.add_bulk_calls(12_000, days=10)
        assert time.monotonic() - started < 3
        assert summary["created"] == 12_000
        meta = fresh.api_get("/v1/calls", per_page=1).json()["meta"]
        assert meta["total"] == 12_010
        assert fresh.api_get("/v1/calls", per_page=50, page=201).status_code == 400


def test_same_seed_gives_the_same_account() -> None:
    with (
        Sandbox(seed=11, users=3, calls=40) as first,
        Sandbox(seed=11, users=3, calls=40) as second,
    ):
        keys = ("id", "direction", "status", "recording_size", "user_id", "raw_digits")
        a = [{k: c[k] for k in keys} for c in first.calls()]
        b = [{k: c[k] for k in keys} for c in second.calls()]
        assert a == b
        ignore_time = [{k: v for k, v in u.items() if k != "created_at"} for u in first.users()]
        assert ignore_time == [
            {k: v for k, v in u.items() if k != "created_at"} for u in second.users()
        ]


def test_sandbox_process_stops_cleanly_on_exit() -> None:
    sandbox = Sandbox(calls=5)
    with sandbox:
        process = sandbox._process
        assert process is not None and process.poll() is None
    assert process.returncode == 0


def test_finishing_with_a_long_duration_never_ends_in_the_future(sandbox: Sandbox) -> None:
    (live,) = sandbox.add_calls(1, status="in_progress", started_ago_seconds=30)
    finished = sandbox.finish_call(live["id"], duration=3600)
    assert finished["ended_at"] <= sandbox.now()
    assert finished["duration"] == finished["ended_at"] - finished["started_at"]


def test_a_deleted_call_leaves_the_lists_and_answers_404(sandbox: Sandbox) -> None:
    calls = sandbox.add_calls(
        3, status="done", recording=True, recording_size=4096, started_ago_seconds=300,
        spread_seconds=0,
    )  # fmt: skip
    kept, gone = [calls[0], calls[2]], calls[1]  # three calls of the same second
    url = sandbox.api_get(f"/v1/calls/{gone['id']}").json()["call"]["recording"]
    second = gone["started_at"]
    window = {"from": second - 1, "to": second}
    # The module's sandbox is shared: another test may have added calls in that second.
    total = sandbox.api_get("/v1/calls", **window).json()["meta"]["total"]

    deleted = sandbox.delete_call(gone["id"])

    assert deleted["id"] == gone["id"]
    answer = sandbox.api_get(f"/v1/calls/{gone['id']}")
    assert answer.status_code == 404 and answer.json() == {"message": "Not Found"}
    listed = sandbox.api_get("/v1/calls", **window).json()
    mine = {c["id"] for c in calls}
    assert [c["id"] for c in listed["calls"] if c["id"] in mine] == [c["id"] for c in kept]
    assert listed["meta"]["total"] == total - 1
    assert gone["id"] not in {c["id"] for c in sandbox.calls()}
    assert requests.get(url, timeout=10).status_code == 404
    with pytest.raises(SandboxError, match="404"):
        sandbox.delete_call(gone["id"])


def test_the_call_index_stays_consistent_after_a_deletion(sandbox: Sandbox) -> None:
    first = sandbox.add_calls(3, started_ago_seconds=400, spread_seconds=0)
    sandbox.delete_call(first[1]["id"])
    later = sandbox.add_calls(2, started_ago_seconds=400, spread_seconds=0)
    low = first[0]["started_at"] - 1
    high = max(c["started_at"] for c in later)
    listed = sandbox.api_get("/v1/calls", per_page=50, **{"from": low, "to": high}).json()
    expected = [
        (c["started_at"], c["id"]) for c in sandbox.calls() if low < c["started_at"] <= high
    ]
    assert [(c["started_at"], c["id"]) for c in listed["calls"]] == expected
    assert expected == sorted(expected) and listed["meta"]["total"] == len(expected)
    ids = {c["id"] for c in listed["calls"]}
    assert first[1]["id"] not in ids
    assert {first[0]["id"], first[2]["id"]} | {c["id"] for c in later} <= ids


def test_the_request_log_filters_by_exact_path(sandbox: Sandbox) -> None:
    (call,) = sandbox.add_calls(1)
    sandbox.clear_log()
    sandbox.api_get(f"/v1/calls/{call['id']}")
    sandbox.api_get("/v1/ping")
    entries = sandbox.requests_log(host="api", path=f"/v1/calls/{call['id']}")
    assert [e["path"] for e in entries] == [f"/v1/calls/{call['id']}"]
