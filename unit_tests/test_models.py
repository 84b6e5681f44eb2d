"""Aircall payloads parsed into calls and users (aircall-api.md, "Calls" and "Users")."""

from __future__ import annotations

from typing import Any

import pytest

from source_aircall_salescaling.aircall.models import PayloadError, iso_utc, parse_call, parse_user
from source_aircall_salescaling.records import call_fields
from tests.builders import a_call

STARTED = 1_763_892_000  # 2025-11-23T10:00:00Z


# A done, answered call of Salescaling user Ana, with a recording and an Aircall number.
ANA_CALL = (
    a_call(2100000123)
    .started(STARTED)
    .answered(STARTED + 5)
    .ended(STARTED + 65)
    .with_recording(url="https://storage.example/rec.mp3?sig=abc")
    .from_digits("+33 1 23 45 67 89")
    .by("Ana@Example.com", user_id=7, name="Ana Lopez")
    .on_number("+33 9 87 65 43 21", number_id=3, name="Sales")
)


# Status --------------------------------------------------------------------------------


def test_call_with_a_voicemail_is_voicemail_even_when_answered() -> None:
    call = ANA_CALL.with_voicemail("https://storage.example/vm.mp3").answered(STARTED).parsed()

    assert call.status == "voicemail"


def test_call_without_voicemail_and_with_answered_at_is_answered() -> None:
    call = ANA_CALL.without_voicemail().answered(STARTED + 3).parsed()

    assert call.status == "answered"


def test_outbound_answered_call_is_answered() -> None:
    call = ANA_CALL.outbound().answered(STARTED + 3).parsed()

    assert call.status == "answered"


def test_inbound_call_never_answered_is_missed() -> None:
    call = ANA_CALL.inbound().answered(None).parsed()

    assert call.status == "missed"


def test_outbound_call_never_answered_is_failed() -> None:
    call = ANA_CALL.outbound().answered(None).parsed()

    assert call.status == "failed"


def test_empty_voicemail_string_is_no_voicemail() -> None:
    call = ANA_CALL.with_voicemail("").answered(None).parsed()

    assert call.status == "missed"


def test_status_is_what_the_shared_fields_report() -> None:
    call = ANA_CALL.outbound().answered(None).parsed()

    assert call_fields(call)["status"] == "failed"


def test_aircall_status_done_is_kept_apart_from_the_derived_status() -> None:
    call = ANA_CALL.with_status("done").answered(None).parsed()

    assert call.is_done
    assert call.aircall_status == "done"


@pytest.mark.parametrize("status", ["initial", "answered"])
def test_call_in_progress_is_not_done(status: str) -> None:
    call = ANA_CALL.with_status(status).ended(None).parsed()

    assert not call.is_done


# Timestamps ----------------------------------------------------------------------------


def test_timestamps_are_utc_strings_with_a_z() -> None:
    fields = call_fields(
        ANA_CALL.started(STARTED).answered(STARTED + 5).ended(STARTED + 65).parsed()
    )

    assert fields["started_at"] == "2025-11-23T10:00:00Z"
    assert fields["answered_at"] == "2025-11-23T10:00:05Z"
    assert fields["ended_at"] == "2025-11-23T10:01:05Z"


def test_missing_answered_and_ended_times_are_null() -> None:
    fields = call_fields(ANA_CALL.with_status("initial").answered(None).ended(None).parsed())

    assert fields["answered_at"] is None
    assert fields["ended_at"] is None


def test_iso_utc_of_the_epoch() -> None:
    assert iso_utc(0) == "1970-01-01T00:00:00Z"


def test_iso_utc_of_none_is_none() -> None:
    assert iso_utc(None) is None


def test_duration_is_taken_from_aircall() -> None:
    call = ANA_CALL.lasting(42).parsed()

    assert call_fields(call)["duration"] == 42


def test_missing_duration_is_ended_minus_started() -> None:
    call = ANA_CALL.ended(STARTED + 30).without("duration").parsed()

    assert call.duration == 30


def test_missing_duration_of_a_call_in_progress_is_zero() -> None:
    call = ANA_CALL.with_status("initial").ended(None).without("duration").parsed()

    assert call.duration == 0


# Contact -------------------------------------------------------------------------------


def test_contact_name_is_first_and_last_name() -> None:
    call = ANA_CALL.with_fields(
        contact={"id": 9, "first_name": "Marie", "last_name": "Curie", "company_name": "ESPCI"}
    ).parsed()

    assert call_fields(call)["contact"]["name"] == "Marie Curie"


def test_contact_name_with_only_a_last_name_is_that_name() -> None:
    call = ANA_CALL.with_fields(
        contact={"id": 9, "first_name": None, "last_name": "Curie", "company_name": "X"}
    ).parsed()

    assert call_fields(call)["contact"]["name"] == "Curie"


def test_contact_without_a_person_name_is_named_after_its_company() -> None:
    call = ANA_CALL.with_fields(
        contact={"id": 9, "first_name": "", "last_name": None, "company_name": "ESPCI"}
    ).parsed()

    assert call_fields(call)["contact"]["name"] == "ESPCI"


def test_contact_without_any_name_has_a_null_name() -> None:
    call = ANA_CALL.with_fields(contact={"id": 9}).parsed()

    assert call_fields(call)["contact"] == {"id": 9, "name": None, "phone": None}


def test_contact_phone_is_the_first_phone_number_with_a_value() -> None:
    call = ANA_CALL.with_fields(
        contact={
            "id": 9,
            "first_name": "Marie",
            "phone_numbers": [
                {"id": 1, "label": "work", "value": ""},
                {"id": 2, "label": "mobile", "value": "+33 6 11 22 33 44"},
                {"id": 3, "label": "home", "value": "+33 1 00 00 00 00"},
            ],
        }
    ).parsed()

    assert call_fields(call)["contact"]["phone"] == "+33 6 11 22 33 44"


def test_no_contact_is_null() -> None:
    call = ANA_CALL.with_fields(contact=None).parsed()

    assert call_fields(call)["contact"] is None


# Numbers and agent ---------------------------------------------------------------------


def test_external_number_is_the_raw_digits() -> None:
    call = ANA_CALL.from_digits("+44 20 7946 0000").parsed()

    assert call_fields(call)["external_number"] == "+44 20 7946 0000"


def test_anonymous_external_number_is_null() -> None:
    call = ANA_CALL.from_digits("anonymous").parsed()

    assert call_fields(call)["external_number"] is None


def test_internal_number_is_the_aircall_numbers_digits() -> None:
    call = ANA_CALL.with_fields(number={"id": 3, "digits": "+1 415 555 0100"}).parsed()

    assert call_fields(call)["internal_number"] == "+1 415 555 0100"


def test_no_aircall_number_means_a_null_internal_number() -> None:
    call = ANA_CALL.with_fields(number=None).parsed()

    assert call_fields(call)["internal_number"] is None


def test_user_is_the_agent_id_name_and_email_as_aircall_sent_them() -> None:
    call = ANA_CALL.by(" Ana@Example.com", user_id=7, name="Ana").parsed()

    assert call_fields(call)["user"] == {"id": 7, "name": "Ana", "email": " Ana@Example.com"}


def test_agent_email_is_matched_trimmed_and_lowercased() -> None:
    call = ANA_CALL.by(" Ana@Example.COM ", user_id=7, name="Ana").parsed()

    assert call.agent is not None
    assert call.agent.normalized_email == "ana@example.com"


def test_no_agent_is_a_null_user() -> None:
    call = ANA_CALL.by_nobody().parsed()

    assert call_fields(call)["user"] is None


def test_recording_url_is_kept_and_null_without_a_recording() -> None:
    assert ANA_CALL.with_recording(url="https://s.example/r.mp3").parsed().recording_url == (
        "https://s.example/r.mp3"
    )
    assert ANA_CALL.without_recording().parsed().recording_url is None


# Payloads that cannot be read ----------------------------------------------------------


@pytest.mark.parametrize("field", ["direction", "status", "started_at"])
def test_call_missing_a_required_field_raises_naming_the_call(field: str) -> None:
    with pytest.raises(PayloadError, match="2100000123"):
        ANA_CALL.without(field).parsed()


def test_call_without_an_id_raises_payload_error() -> None:
    with pytest.raises(PayloadError, match="id"):
        ANA_CALL.without("id").parsed()


def test_string_call_id_raises_naming_the_call() -> None:
    with pytest.raises(PayloadError, match="'2100000123'"):
        ANA_CALL.with_fields(id="2100000123").parsed()


def test_boolean_call_id_raises_payload_error() -> None:
    with pytest.raises(PayloadError):
        ANA_CALL.with_fields(id=True).parsed()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("started_at", "1763892000"),
        ("started_at", None),
        ("answered_at", "soon"),
        ("ended_at", 1.5),
        ("duration", "65"),
        ("direction", "sideways"),
    ],
)
def test_call_with_a_field_of_the_wrong_type_raises_naming_the_call(field: str, value: Any) -> None:
    with pytest.raises(PayloadError, match="2100000123") as raised:
        ANA_CALL.with_fields(**{field: value}).parsed()

    assert field in str(raised.value)


@pytest.mark.parametrize("field", ["user", "contact", "number"])
@pytest.mark.parametrize("value", ["a string", 17, ["a", "list"]])
def test_non_object_where_an_object_is_expected_raises_naming_the_call(
    field: str, value: Any
) -> None:
    with pytest.raises(PayloadError, match="2100000123") as raised:
        ANA_CALL.with_fields(**{field: value}).parsed()

    assert field in str(raised.value)


def test_string_agent_id_raises_naming_the_call() -> None:
    with pytest.raises(PayloadError, match="2100000123"):
        ANA_CALL.with_fields(user={"id": "7", "name": "Ana", "email": "ana@example.com"}).parsed()


@pytest.mark.parametrize("entry", [None, "call", 2100000123, ["id", 1]])
def test_call_entry_that_is_not_an_object_raises_payload_error(entry: Any) -> None:
    with pytest.raises(PayloadError):
        parse_call(entry)


# Users ---------------------------------------------------------------------------------


def raw_user(**overrides: Any) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": 7,
        "name": "Ana Lopez",
        "email": "ana@example.com",
        "created_at": "2026-09-28T10:21:09.000Z",
        "available": True,
        "availability_status": "available",
        "time_zone": "Europe/Paris",
        "language": "fr-FR",
    }
    user.update(overrides)
    return user


def test_user_created_at_with_milliseconds_is_normalised_to_seconds_and_z() -> None:
    assert parse_user(raw_user(created_at="2026-09-28T10:21:09.000Z")).created_at == (
        "2026-09-28T10:21:09Z"
    )


def test_user_created_at_with_an_offset_is_converted_to_utc() -> None:
    assert parse_user(raw_user(created_at="2026-09-28T12:21:09+02:00")).created_at == (
        "2026-09-28T10:21:09Z"
    )


def test_user_created_at_without_a_zone_is_taken_as_utc() -> None:
    assert parse_user(raw_user(created_at="2026-09-28T10:21:09")).created_at == (
        "2026-09-28T10:21:09Z"
    )


@pytest.mark.parametrize("value", [None, "", "yesterday", 1759054869])
def test_user_created_at_that_is_not_an_iso_string_is_null(value: Any) -> None:
    assert parse_user(raw_user(created_at=value)).created_at is None


def test_user_fields_are_kept() -> None:
    user = parse_user(raw_user())

    assert (user.id, user.name, user.email, user.available) == (
        7,
        "Ana Lopez",
        "ana@example.com",
        True,
    )
    assert (user.availability_status, user.time_zone, user.language) == (
        "available",
        "Europe/Paris",
        "fr-FR",
    )


def test_user_available_that_is_not_a_boolean_is_null() -> None:
    assert parse_user(raw_user(available="yes")).available is None


@pytest.mark.parametrize("user_id", ["7", None, 7.0])
def test_user_without_an_integer_id_raises_naming_the_user(user_id: Any) -> None:
    with pytest.raises(PayloadError, match="user"):
        parse_user(raw_user(id=user_id))


def test_user_entry_that_is_not_an_object_raises_payload_error() -> None:
    with pytest.raises(PayloadError):
        parse_user("ana@example.com")
