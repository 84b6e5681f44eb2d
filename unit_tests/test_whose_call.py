"""Whose call it is: its agent's, else, for a transferred call, the Salescaling user it was
transferred to (docs/aircall-salescaling.md, "Import rules"). One rule, which the
import decisions and their sentences follow."""

from __future__ import annotations

from typing import Any

from source_aircall_salescaling.config import ConnectorConfig, parse_config
from source_aircall_salescaling.import_rules import (
    IMPORTED,
    NOT_A_SALESCALING_USER,
    NOT_SALESCALING_USER,
    Readiness,
    decide,
    eligible,
    salescaling_agent,
)
from source_aircall_salescaling.records import decision_record
from tests.builders import STARTED, a_call

CONFIG: ConnectorConfig = parse_config(
    {"api_id": "id", "api_token": "token", "salescaling_user_emails": [" Ana@Example.com "]},
    environ={},
)
NOW = STARTED + 600
RECORDED = a_call(2_100_000_700).answered(STARTED + 5).with_recording()
BY_BO = RECORDED.by("bo@example.com", user_id=8, name="Bo")
TO_ANA = BY_BO.transferred_to_agent("ana@example.com", user_id=7, name="Ana")


def test_a_call_answered_by_another_agent_and_transferred_to_a_salescaling_user_is_eligible() -> (
    None
):
    assert eligible(TO_ANA.parsed(), CONFIG, NOW).readiness is Readiness.READY


def test_the_same_call_not_transferred_is_not_a_salescaling_users_call() -> None:
    assert eligible(BY_BO.parsed(), CONFIG, NOW).reason == NOT_SALESCALING_USER


def test_a_salescaling_users_own_call_stays_theirs_when_transferred_to_another() -> None:
    call = RECORDED.by("ana@example.com", user_id=7).transferred_to_agent("ana@example.com", 9)

    owner = salescaling_agent(call.parsed(), CONFIG.salescaling_user_emails)

    assert owner is not None and owner.id == 7


def test_the_transferee_email_is_matched_trimmed_and_case_insensitive() -> None:
    call = BY_BO.transferred_to_agent("  ANA@example.COM", user_id=7).parsed()

    owner = salescaling_agent(call, CONFIG.salescaling_user_emails)

    assert owner is not None and owner.id == 7


def test_the_decision_on_a_transferred_call_is_made_for_the_transferee() -> None:
    decision = decide(TO_ANA.parsed(), None, CONFIG, NOW, 3_250_000)

    assert decision.decision == IMPORTED
    assert decision.salescaling_agent is not None and decision.salescaling_agent.id == 7


def test_the_imported_reason_names_the_transfer() -> None:
    reason = decide(TO_ANA.parsed(), None, CONFIG, NOW, 3_250_000).reason

    assert reason == (
        "Imported: the call was transferred to ana@example.com, a Salescaling user, by "
        "bo@example.com (who answered it first), and the recording (3.1 MB) is within the "
        "200 MB limit."
    )


def test_the_imported_reason_of_an_agents_own_call_names_no_transfer() -> None:
    reason = decide(RECORDED.by("ana@example.com").parsed(), None, CONFIG, NOW).reason

    assert reason.startswith("Imported: ana@example.com is a Salescaling user")


def test_a_call_transferred_between_non_salescaling_users_names_both_emails() -> None:
    call = BY_BO.transferred_to_agent("cy@example.com").parsed()

    decision = decide(call, NOT_SALESCALING_USER, CONFIG, NOW)

    assert decision.decision == NOT_A_SALESCALING_USER
    assert "bo@example.com" in decision.reason and "cy@example.com" in decision.reason


def test_the_decision_record_carries_the_salescaling_agent_beside_the_agent() -> None:
    record: dict[str, Any] = decision_record(decide(TO_ANA.parsed(), None, CONFIG, NOW))

    assert record["user"]["email"] == "bo@example.com"
    assert record["salescaling_agent"] == {"id": 7, "name": "Ana", "email": "ana@example.com"}


def test_a_call_without_a_first_agent_transferred_to_another_agent_names_that_agent() -> None:
    """No `user`, but taken over by a transfer: an agent did take it, and the sentence
    says who, not that nobody did."""
    call = RECORDED.by_nobody().transferred_to_agent("bo@example.com", user_id=8).parsed()

    decision = decide(call, NOT_SALESCALING_USER, CONFIG, NOW)

    assert "bo@example.com" in decision.reason
    assert "No agent took this call" not in decision.reason
