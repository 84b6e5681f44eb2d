"""A customer deleting a call, or only its recording, in the sandbox: by the control
endpoints and on the day scenario's schedule (`generate_day(deletions=True)`)."""

from __future__ import annotations

from aircall_sandbox.scenario import (
    DELETED_CALL_AT,
    DELETED_RECORDING_AT,
    generate_day,
    scenario_to_json,
)
from aircall_sandbox.testing import Sandbox
from tests.harness import sandbox_account


def test_control_endpoints_delete_a_recording_and_a_call() -> None:
    with Sandbox(seed=3, users=4, calls=0, rate_limit=0) as sandbox:
        kept, gone = (c["id"] for c in sandbox.add_calls(2, status="done", recording=True))
        sandbox.remove_recording(kept)
        sandbox.delete_call(gone)
        assert sandbox.api_get(f"/v1/calls/{kept}").json()["call"]["recording"] is None
        assert sandbox.api_get(f"/v1/calls/{gone}").status_code == 404
        listed = [c["id"] for c in sandbox.api_get("/v1/calls", per_page=50).json()["calls"]]
        assert kept in listed and gone not in listed


def test_the_day_scenario_deletes_on_its_schedule() -> None:
    with Sandbox(seed=3, users=6, calls=0, rate_limit=0) as sandbox:
        account, next_call_id = sandbox_account(sandbox)
        start = (sandbox.now() // 86_400 - 2) * 86_400
        scenario = generate_day(
            5, start, account, next_call_id, calls=60, history=30, deletions=True
        )
        recording = next(c for c in scenario.history if c.recording_deleted_at is not None)
        call = next(
            c
            for c in scenario.history
            if c.deleted_at == start + DELETED_CALL_AT and c.user_id in account.salescaling_user_ids
        )
        assert recording.recording_deleted_at == start + DELETED_RECORDING_AT
        sandbox.load_scenario(scenario_to_json(scenario))
        try:
            sandbox.set_horizon(start + DELETED_RECORDING_AT - 1)
            before = sandbox.api_get(f"/v1/calls/{recording.id}").json()["call"]
            assert before["recording"] is not None
            assert sandbox.api_get(f"/v1/calls/{call.id}").status_code == 200
            sandbox.set_horizon(start + DELETED_CALL_AT)
            assert sandbox.api_get(f"/v1/calls/{recording.id}").json()["call"]["recording"] is None
            assert sandbox.api_get(f"/v1/calls/{call.id}").status_code == 404
        finally:
            sandbox.set_horizon(None)
