"""What a `calls` record carries beside the fields the import rules read: tags, comments,
teams, transfers, the Aircall number, price and ids, numbers in E.164, and never a
pre-signed media URL (docs/aircall-salescaling.md, "Streams")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from source_aircall_salescaling.aircall.phones import e164
from source_aircall_salescaling.records import call_record, record_print
from tests.builders import STARTED, a_call

ANA = "ana@example.com"
EMAILS = frozenset({ANA})
ANSWERED = a_call(2_100_000_500).answered(STARTED + 5).by("bo@example.com", user_id=8, name="Bo")
SIGNED = (
    "https://bucket.s3.eu-west-1.amazonaws.com/calls/{kind}.mp3?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=ASIA%2F20261207%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20261207T000000Z"
    "&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature=abc123"
)


def fields(builder: Any, emails: frozenset[str] = EMAILS) -> dict[str, Any]:
    return call_record(builder.parsed(), emails)


def test_a_tag_carries_who_tagged_it_and_when() -> None:
    record = fields(ANSWERED.tagged("Demo booked", by=ANA, at=STARTED + 600, tag_id=41))

    assert record["tags"] == [
        {
            "id": 41,
            "name": "Demo booked",
            "tagged_by": {"id": 7, "name": "Ana", "email": ANA},
            "tagged_at": "2025-11-23T10:10:00Z",
        }
    ]


def test_a_tag_whose_author_aircall_sends_as_an_empty_object_has_no_tagged_by() -> None:
    (tag,) = fields(ANSWERED.tagged("Lead", by=None))["tags"]

    assert tag["tagged_by"] is None


def test_a_comment_keeps_its_newlines_its_author_and_its_time() -> None:
    (comment,) = fields(ANSWERED.commented("Sent pricing:\n- 15 seats", at=STARTED + 120))[
        "comments"
    ]

    assert comment["content"] == "Sent pricing:\n- 15 seats"
    assert comment["posted_by"]["email"] == "ana@x.com"
    assert comment["posted_at"] == "2025-11-23T10:02:00Z"


def test_teams_are_their_id_and_name() -> None:
    assert fields(ANSWERED.in_team("Sales", team_id=9_001))["teams"] == [
        {"id": 9_001, "name": "Sales"}
    ]


def test_tags_comments_and_teams_are_empty_arrays_when_aircall_gives_none() -> None:
    record = fields(ANSWERED.without("tags", "comments").with_fields(teams=None))

    assert (record["tags"], record["comments"], record["teams"]) == ([], [], [])


def test_the_aircall_number_is_its_id_name_digits_and_country() -> None:
    record = fields(ANSWERED.on_number("+44 330 818 6690", number_id=3, name="Sales UK"))

    assert record["number"] == {
        "id": 3,
        "name": "Sales UK",
        "digits": "+44 330 818 6690",
        "country": "FR",  # the builder's number is in France, whatever its digits
    }


def test_price_and_aircall_ids_are_given_as_aircall_sends_them() -> None:
    record = fields(
        ANSWERED.with_recording().with_fields(
            cost="3.0",
            pricing_type="in_bundle",
            hangup_cause="agent_hung_up",
            country_code_a2="US",
            sid="CA42",
            archived=True,
        )
    )

    assert {key: record[key] for key in ("cost", "pricing_type", "hangup_cause")} == {
        "cost": "3.0",
        "pricing_type": "in_bundle",
        "hangup_cause": "agent_hung_up",
    }
    assert (record["country_code_a2"], record["sid"], record["archived"]) == ("US", "CA42", True)
    assert record["asset"] == "https://assets.aircall.io/calls/2100000500/recording"


def test_a_transfer_names_who_transferred_the_call_and_who_took_it() -> None:
    record = fields(ANSWERED.transferred_to_agent(ANA, user_id=7, name="Ana"))

    assert record["transferred_by"] == {"id": 8, "name": "Bo", "email": "bo@example.com"}
    assert record["transferred_to"] == {"id": 7, "name": "Ana", "email": ANA}


@pytest.mark.parametrize("key", ["user", "transferred_to", "transferred_by", "assigned_to"])
@pytest.mark.parametrize("form", ["null", "empty object", "absent"])
def test_a_user_object_reads_the_same_whether_null_empty_or_absent(key: str, form: str) -> None:
    builder = ANSWERED.with_fields(**{key: {} if form == "empty object" else None})
    if form == "absent":
        builder = builder.without(key)

    assert fields(builder)[key] is None


@pytest.mark.parametrize("key", ["transferred_by", "assigned_to"])
def test_a_malformed_transferrer_or_assignee_is_read_as_none_and_keeps_the_call(key: str) -> None:
    record = fields(ANSWERED.with_fields(**{key: {"id": "not a number", "name": "Bo"}}))

    assert record[key] is None
    assert record["user"] == {"id": 8, "name": "Bo", "email": "bo@example.com"}


def test_the_salescaling_agent_is_the_agent_when_a_salescaling_user() -> None:
    record = fields(ANSWERED.transferred_to_agent(ANA), emails=frozenset({"bo@example.com", ANA}))

    assert record["salescaling_agent"]["email"] == "bo@example.com"


def test_the_salescaling_agent_is_the_transferee_when_the_agent_is_not() -> None:
    record = fields(ANSWERED.transferred_to_agent(ANA, user_id=7))

    assert record["salescaling_agent"] == {"id": 7, "name": "Bo", "email": ANA}


def test_no_salescaling_agent_when_neither_agent_is_a_salescaling_user() -> None:
    assert fields(ANSWERED.transferred_to_agent("cy@example.com"))["salescaling_agent"] is None


def test_the_deletion_mark_is_null() -> None:
    assert fields(ANSWERED)["_ab_cdc_deleted_at"] is None


def test_no_pre_signed_media_url_is_in_the_record() -> None:
    call = (
        ANSWERED.with_recording(url=SIGNED.format(kind="recording"))
        .with_voicemail(SIGNED.format(kind="voicemail"))
        .with_fields(
            recording_short_url=SIGNED.format(kind="short"),
            voicemail_short_url=SIGNED.format(kind="vm-short"),
        )
    )

    text = json.dumps(fields(call))

    assert "X-Amz-" not in text and "amazonaws" not in text


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("+1 617-610-5413", None, "+16176105413"),
        ("+44 330 818 6690", None, "+443308186690"),
        ("+33679198915", None, "+33679198915"),
        ("01 76 36 06 95", "FR", "+33176360695"),
        ("anonymous", None, None),
        ("12", None, None),
        (None, None, None),
    ],
)
def test_a_number_reads_in_e164_or_as_none_when_it_is_no_phone_number(
    text: str | None, region: str | None, expected: str | None
) -> None:
    assert e164(text, region) == expected


def test_the_external_number_is_given_in_e164_too() -> None:
    record = fields(ANSWERED.from_digits("+1 617-610-5413"))

    assert (record["external_number"], record["external_number_e164"]) == (
        "+1 617-610-5413",
        "+16176105413",
    )


def test_an_anonymous_caller_has_no_e164_number() -> None:
    assert fields(ANSWERED.from_digits("anonymous"))["external_number_e164"] is None


def test_the_internal_number_is_read_in_its_country_when_written_without_a_code() -> None:
    record = fields(ANSWERED.on_number("01 76 36 06 95"))  # the builder's number is in FR

    assert record["internal_number_e164"] == "+33176360695"


@pytest.mark.parametrize(
    "later",
    [
        ANSWERED.tagged("Demo booked"),
        ANSWERED.commented("Call back on Monday"),
        ANSWERED.with_fields(cost="3.0"),
    ],
    ids=["a tag", "a comment", "a cost"],
)
def test_a_tag_a_comment_or_a_cost_added_after_the_call_changes_the_record_print(
    later: Any,
) -> None:
    assert record_print(later.parsed(), EMAILS) != record_print(ANSWERED.parsed(), EMAILS)
