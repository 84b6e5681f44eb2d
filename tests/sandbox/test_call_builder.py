"""The unit tests' call builder (`tests/builders.py`) serves what the sandbox serves."""

from __future__ import annotations

from typing import Any

from aircall_sandbox.testing import Sandbox
from tests.builders import a_call


def served_call_with_agent_and_number(sandbox: Sandbox) -> dict[str, Any]:
    calls: list[dict[str, Any]] = sandbox.api_get("/v1/calls", per_page=50).json()["calls"]
    return next(c for c in calls if c.get("user") and c["number"] is not None)


def test_a_built_call_has_exactly_the_keys_of_a_call_the_sandbox_serves(
    sandbox: Sandbox,
) -> None:
    served = served_call_with_agent_and_number(sandbox)

    built = a_call(1).with_recording().by("ana@example.com").on_number("+33 1").payload()

    assert sorted(built) == sorted(served)


def test_a_built_agent_and_number_have_exactly_the_keys_the_sandbox_serves(
    sandbox: Sandbox,
) -> None:
    served = served_call_with_agent_and_number(sandbox)

    built = a_call(1).by("ana@example.com").on_number("+33 1").payload()

    assert (sorted(built["user"]), sorted(built["number"])) == (
        sorted(served["user"]),
        sorted(served["number"]),
    )
