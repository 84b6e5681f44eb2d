"""Which calls Salescaling imports (connector-contract.md, stream `recordings`)."""

from __future__ import annotations

from typing import Any

import pytest

from source_aircall_salescaling.aircall.models import Call, parse_call
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


def call(
    email: str | None = "ana@example.com",
    recording: str | None = "https://storage.example/r.mp3",
    status: str = "done",
    ended_at: int | None = ENDED,
    duration: int | None = None,
) -> Call:
    raw: dict[str, Any] = {
        "id": 1,
        "direction": "inbound",
        "status": status,
        "started_at": STARTED,
        "answered_at": STARTED + 5,
        "ended_at": ended_at,
        "recording": recording,
        "user": None if email is None else {"id": 7, "name": "Ana", "email": email},
    }
    if duration is not None:
        raw["duration"] = duration
    return parse_call(raw)


LONG_AFTER = ENDED + 10 * 86_400


def test_done_call_of_a_salescaling_user_with_a_recording_is_ready() -> None:
    assert eligible(call(), config(), now=LONG_AFTER).readiness is Readiness.READY


@pytest.mark.parametrize("email", ["ANA@example.COM", "  ana@example.com  ", "\tAna@Example.Com\n"])
def test_agent_email_matches_trimmed_and_case_insensitive(email: str) -> None:
    assert eligible(call(email=email), config(), now=LONG_AFTER).readiness is Readiness.READY


def test_agent_that_is_not_a_salescaling_user_is_skipped() -> None:
    verdict = eligible(call(email="bob@example.com"), config(), now=LONG_AFTER)

    assert (verdict.readiness, verdict.reason) == (Readiness.SKIP, NOT_SALESCALING_USER)


def test_call_without_an_agent_is_skipped() -> None:
    verdict = eligible(call(email=None), config(), now=LONG_AFTER)

    assert (verdict.readiness, verdict.reason) == (Readiness.SKIP, NOT_SALESCALING_USER)


def test_agent_without_an_email_is_skipped() -> None:
    verdict = eligible(call(email=""), config(), now=LONG_AFTER)

    assert verdict.readiness is Readiness.SKIP


def test_agent_email_that_only_contains_a_salescaling_email_is_skipped() -> None:
    verdict = eligible(call(email="xana@example.com"), config(), now=LONG_AFTER)

    assert verdict.readiness is Readiness.SKIP


def test_done_call_without_a_recording_within_the_lookback_waits() -> None:
    now = ENDED + LOOKBACK_MINUTES * 60 - 1

    verdict = eligible(call(recording=None), config(), now=now)

    assert (verdict.readiness, verdict.reason) == (Readiness.WAIT, RECORDING_NOT_READY)


def test_done_call_without_a_recording_right_after_it_ended_waits() -> None:
    verdict = eligible(call(recording=None), config(), now=ENDED)

    assert verdict.readiness is Readiness.WAIT


def test_done_call_without_a_recording_once_the_lookback_is_over_is_skipped() -> None:
    now = ENDED + LOOKBACK_MINUTES * 60

    verdict = eligible(call(recording=None), config(), now=now)

    assert (verdict.readiness, verdict.reason) == (Readiness.SKIP, NO_RECORDING)


def test_zero_lookback_skips_a_call_without_recording_as_soon_as_it_ended() -> None:
    verdict = eligible(call(recording=None), config(lookback_minutes=0), now=ENDED)

    assert verdict.readiness is Readiness.SKIP


def test_lookback_counts_from_started_plus_duration_when_ended_at_is_missing() -> None:
    done_without_end = call(recording=None, ended_at=None, duration=600)

    waiting = eligible(done_without_end, config(), now=STARTED + 600 + LOOKBACK_MINUTES * 60 - 1)
    over = eligible(done_without_end, config(), now=STARTED + 600 + LOOKBACK_MINUTES * 60)

    assert (waiting.readiness, over.readiness) == (Readiness.WAIT, Readiness.SKIP)


@pytest.mark.parametrize("status", ["initial", "answered"])
def test_call_in_progress_waits(status: str) -> None:
    verdict = eligible(call(status=status, ended_at=None, recording=None), config(), now=ENDED)

    assert (verdict.readiness, verdict.reason) == (Readiness.WAIT, IN_PROGRESS)


@pytest.mark.parametrize("status", ["initial", "answered"])
def test_call_in_progress_waits_even_for_an_agent_who_is_not_a_salescaling_user(
    status: str,
) -> None:
    verdict = eligible(
        call(status=status, ended_at=None, email="bob@example.com"), config(), now=ENDED
    )

    assert verdict.readiness is Readiness.WAIT


def test_calls_stream_emits_every_done_call() -> None:
    assert call_verdict(call(email=None, recording=None)).readiness is Readiness.READY


def test_calls_stream_waits_for_a_call_in_progress() -> None:
    verdict = call_verdict(call(status="answered", ended_at=None))

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
    raw_call = call(recording=None)
    off = Call(**{**raw_call.__dict__, "recording_enabled": False})

    verdict = eligible(off, config(), now=ENDED + 60)

    assert verdict.readiness is Readiness.SKIP
    assert verdict.reason == RECORDING_OFF


def test_call_on_a_number_with_recording_on_is_watched_until_the_lookback_ends() -> None:
    raw_call = call(recording=None)
    on = Call(**{**raw_call.__dict__, "recording_enabled": True})

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
    raw: dict[str, Any] = {
        "id": 1,
        "direction": "inbound",
        "status": "done",
        "started_at": STARTED,
        "ended_at": ENDED,
        "recording": None,
        "user": {"id": 7, "name": "Ana", "email": "ana@example.com"},
        **outcome,
    }

    verdict = eligible(parse_call(raw), config(lookback_minutes=1440), now=ENDED + 60)

    assert verdict.readiness is Readiness.SKIP
    assert verdict.reason == NOT_ANSWERED


def test_answered_call_without_a_recording_yet_is_still_watched() -> None:
    verdict = eligible(call(recording=None), config(lookback_minutes=1440), now=ENDED + 60)

    assert verdict.readiness is Readiness.WAIT
