"""Which calls Salescaling imports (docs/aircall-salescaling.md, "Import rules")."""

from __future__ import annotations

from typing import Any

import pytest

from source_aircall_salescaling.config import ConnectorConfig, parse_config
from source_aircall_salescaling.import_rules import (
    IN_PROGRESS,
    NO_RECORDING,
    NOT_ANSWERED,
    NOT_SALESCALING_USER,
    RECORDING_NOT_READY,
    RECORDING_OFF,
    Readiness,
    call_verdict,
    eligible,
    within_size_limit,
)
from tests.builders import a_call

STARTED = 1_763_892_000
ENDED = STARTED + 120
LOOKBACK_MINUTES = 30


def config(**overrides: Any) -> ConnectorConfig:
    raw: dict[str, Any] = {
        "api_id": "id",
        "api_token": "token",
        "salescaling_user_emails": ["Ana@Example.com"],
        "lookback_minutes": LOOKBACK_MINUTES,
    }
    raw.update(overrides)
    return parse_config(raw, environ={})


# A done call of Salescaling user Ana, with a recording.
ANA_CALL = (
    a_call(1)
    .started(STARTED)
    .answered(STARTED + 5)
    .ended(ENDED)
    .with_recording(url="https://storage.example/r.mp3")
    .by("ana@example.com", user_id=7, name="Ana")
)


LONG_AFTER = ENDED + 10 * 86_400


def test_done_call_of_a_salescaling_user_with_a_recording_is_ready() -> None:
    assert eligible(ANA_CALL.parsed(), config(), now=LONG_AFTER).readiness is Readiness.READY


@pytest.mark.parametrize("email", ["ANA@example.COM", "  ana@example.com  ", "\tAna@Example.Com\n"])
def test_agent_email_matches_trimmed_and_case_insensitive(email: str) -> None:
    assert (
        eligible(ANA_CALL.by(email).parsed(), config(), now=LONG_AFTER).readiness is Readiness.READY
    )


def test_agent_that_is_not_a_salescaling_user_is_skipped() -> None:
    verdict = eligible(ANA_CALL.by("bob@example.com").parsed(), config(), now=LONG_AFTER)

    assert (verdict.readiness, verdict.reason) == (Readiness.SKIP, NOT_SALESCALING_USER)


def test_call_without_an_agent_is_skipped() -> None:
    verdict = eligible(ANA_CALL.by_nobody().parsed(), config(), now=LONG_AFTER)

    assert (verdict.readiness, verdict.reason) == (Readiness.SKIP, NOT_SALESCALING_USER)


def test_agent_without_an_email_is_skipped() -> None:
    verdict = eligible(ANA_CALL.by("").parsed(), config(), now=LONG_AFTER)

    assert verdict.readiness is Readiness.SKIP


def test_agent_email_that_only_contains_a_salescaling_email_is_skipped() -> None:
    verdict = eligible(ANA_CALL.by("xana@example.com").parsed(), config(), now=LONG_AFTER)

    assert verdict.readiness is Readiness.SKIP


def test_done_call_without_a_recording_within_the_lookback_waits() -> None:
    now = ENDED + LOOKBACK_MINUTES * 60 - 1

    verdict = eligible(ANA_CALL.without_recording().parsed(), config(), now=now)

    assert (verdict.readiness, verdict.reason) == (Readiness.WAIT, RECORDING_NOT_READY)


def test_done_call_without_a_recording_right_after_it_ended_waits() -> None:
    verdict = eligible(ANA_CALL.without_recording().parsed(), config(), now=ENDED)

    assert verdict.readiness is Readiness.WAIT


def test_done_call_without_a_recording_once_the_lookback_is_over_is_skipped() -> None:
    now = ENDED + LOOKBACK_MINUTES * 60

    verdict = eligible(ANA_CALL.without_recording().parsed(), config(), now=now)

    assert (verdict.readiness, verdict.reason) == (Readiness.SKIP, NO_RECORDING)


def test_zero_lookback_skips_a_call_without_recording_as_soon_as_it_ended() -> None:
    verdict = eligible(ANA_CALL.without_recording().parsed(), config(lookback_minutes=0), now=ENDED)

    assert verdict.readiness is Readiness.SKIP


def test_lookback_counts_from_started_plus_duration_when_ended_at_is_missing() -> None:
    done_without_end = ANA_CALL.without_recording().ended(None).lasting(600).parsed()

    waiting = eligible(done_without_end, config(), now=STARTED + 600 + LOOKBACK_MINUTES * 60 - 1)
    over = eligible(done_without_end, config(), now=STARTED + 600 + LOOKBACK_MINUTES * 60)

    assert (waiting.readiness, over.readiness) == (Readiness.WAIT, Readiness.SKIP)


@pytest.mark.parametrize("status", ["initial", "answered"])
def test_call_in_progress_waits(status: str) -> None:
    verdict = eligible(
        ANA_CALL.with_status(status).ended(None).without_recording().parsed(), config(), now=ENDED
    )

    assert (verdict.readiness, verdict.reason) == (Readiness.WAIT, IN_PROGRESS)


@pytest.mark.parametrize("status", ["initial", "answered"])
def test_call_in_progress_waits_even_for_an_agent_who_is_not_a_salescaling_user(
    status: str,
) -> None:
    verdict = eligible(
        ANA_CALL.with_status(status).ended(None).by("bob@example.com").parsed(), config(), now=ENDED
    )

    assert verdict.readiness is Readiness.WAIT


def test_calls_stream_emits_every_done_call() -> None:
    assert (
        call_verdict(ANA_CALL.by_nobody().without_recording().parsed()).readiness is Readiness.READY
    )


def test_calls_stream_waits_for_a_call_in_progress() -> None:
    verdict = call_verdict(ANA_CALL.with_status("answered").ended(None).parsed())

    assert (verdict.readiness, verdict.reason) == (Readiness.WAIT, IN_PROGRESS)


# Size limit ----------------------------------------------------------------------------

MIB = 1_048_576


def test_recording_of_exactly_the_limit_is_kept() -> None:
    assert within_size_limit(5 * MIB, config(max_recording_size_mb=5))


def test_recording_one_byte_over_the_limit_is_dropped() -> None:
    assert not within_size_limit(5 * MIB + 1, config(max_recording_size_mb=5))


def test_recording_under_the_limit_is_kept() -> None:
    assert within_size_limit(0, config(max_recording_size_mb=1))


def test_default_limit_is_200_mebibytes() -> None:
    assert within_size_limit(200 * MIB, config())
    assert not within_size_limit(200 * MIB + 1, config())


def test_call_on_a_number_with_recording_off_is_skipped_at_once_not_watched() -> None:
    off = (
        ANA_CALL.without_recording().on_number("+33 1 00", live_recording_activated=False).parsed()
    )

    verdict = eligible(off, config(), now=ENDED + 60)

    assert verdict.readiness is Readiness.SKIP
    assert verdict.reason == RECORDING_OFF


def test_call_on_a_number_with_recording_on_is_watched_until_the_lookback_ends() -> None:
    on = ANA_CALL.without_recording().on_number("+33 1 00", live_recording_activated=True).parsed()

    assert eligible(on, config(), now=ENDED + 60).readiness is Readiness.WAIT


@pytest.mark.parametrize(
    "outcome",
    [
        {"answered_at": None},  # missed (inbound) or failed (outbound)
        {"answered_at": None, "voicemail": "https://storage.example/v.mp3"},
    ],
    ids=["missed", "voicemail"],
)
def test_call_that_was_never_answered_is_skipped_at_once_not_watched(
    outcome: dict[str, Any],
) -> None:
    never_answered = ANA_CALL.without_recording().with_fields(**outcome).parsed()

    verdict = eligible(never_answered, config(lookback_minutes=1440), now=ENDED + 60)

    assert verdict.readiness is Readiness.SKIP
    assert verdict.reason == NOT_ANSWERED


def test_answered_call_without_a_recording_yet_is_still_watched() -> None:
    verdict = eligible(
        ANA_CALL.without_recording().parsed(), config(lookback_minutes=1440), now=ENDED + 60
    )

    assert verdict.readiness is Readiness.WAIT
