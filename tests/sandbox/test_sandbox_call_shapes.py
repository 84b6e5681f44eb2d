"""The sandbox serves calls in the shapes real Aircall answers show (aircall-api.md,
"What real bodies show"): tags and comments with their authors and times, a missing
agent as an absent key, prices as decimal strings, numbers formatted for people, and
S3-style pre-signed media URLs that expire after 600 s."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from aircall_sandbox.testing import Sandbox
from tests.sandbox.test_sandbox_api import all_calls_via_api

FORMATTED = re.compile(r"^\+\d{1,3}( [\d-]+)+$")  # "+1 617-610-5413", "+44 330 818 6690"


def served(sandbox: Sandbox) -> list[dict[str, Any]]:
    return all_calls_via_api(sandbox)


def test_tags_carry_who_tagged_them_and_when_and_some_authors_are_empty_objects(
    sandbox: Sandbox,
) -> None:
    tags = [tag for call in served(sandbox) for tag in call["tags"]]

    assert tags and all(set(tag) == {"id", "name", "tagged_by", "tagged_at"} for tag in tags)
    assert all(isinstance(tag["tagged_at"], int) for tag in tags)
    assert any(tag["tagged_by"] == {} for tag in tags)
    assert any(tag["tagged_by"].get("email") for tag in tags)


def test_comments_carry_their_author_and_time_and_some_hold_newlines(sandbox: Sandbox) -> None:
    comments = [comment for call in served(sandbox) for comment in call["comments"]]

    assert comments
    assert all(set(c) == {"id", "content", "posted_by", "posted_at"} for c in comments)
    assert any("\n" in c["content"] for c in comments)


def test_a_call_without_agent_has_no_user_key_or_a_null_one(sandbox: Sandbox) -> None:
    without_agent = [c for c in served(sandbox) if not c.get("user")]

    assert any("user" not in c for c in without_agent)
    assert any("user" in c and c["user"] is None for c in without_agent)


def test_cost_is_a_decimal_string(sandbox: Sandbox) -> None:
    costs = {c["cost"] for c in served(sandbox)}

    assert "0.0" in costs and all(re.fullmatch(r"\d+\.\d", cost) for cost in costs)


def test_numbers_are_formatted_for_people(sandbox: Sandbox) -> None:
    calls = served(sandbox)

    assert all(FORMATTED.match(c["number"]["digits"]) for c in calls if c["number"])
    assert all(FORMATTED.match(c["raw_digits"]) for c in calls if c["raw_digits"] != "anonymous")


def test_hangup_cause_pricing_type_and_asset_are_served(sandbox: Sandbox) -> None:
    calls = served(sandbox)

    assert any(c["hangup_cause"] for c in calls) and any(c["pricing_type"] for c in calls)
    assets = [c["asset"] for c in calls if c["recording"]]
    assert assets and all(a.endswith(f"/calls/{c['id']}/recording") for a, c in
                          zip(assets, [c for c in calls if c["recording"]], strict=True))  # fmt: skip


def test_media_urls_are_s3_style_pre_signed_urls_that_live_600_seconds(sandbox: Sandbox) -> None:
    url = next(c["recording"] for c in served(sandbox) if c["recording"])

    query = parse_qs(urlsplit(url).query)

    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Expires"] == ["600"]
    assert {"X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"} <= set(
        query
    )


def test_a_media_url_has_expired_601_seconds_after_it_was_signed(sandbox: Sandbox) -> None:
    url = next(c["recording"] for c in served(sandbox) if c["recording"])
    sandbox.set_clock_offset(601)

    response = requests.get(url, timeout=10)

    assert response.status_code == 403 and "Request has expired" in response.text


def test_a_tag_added_later_is_served_with_its_author_and_time(sandbox: Sandbox) -> None:
    call = sandbox.add_calls(1, status="done")[0]
    author = sandbox.users()[1]["id"]

    sandbox.add_tag(call["id"], "Demo booked", tagged_by_id=author, tagged_at=sandbox.now())

    (tag,) = sandbox.api_get(f"/v1/calls/{call['id']}").json()["call"]["tags"]
    assert (tag["name"], tag["tagged_by"]["id"]) == ("Demo booked", author)


def test_a_tag_of_an_unknown_author_is_served_with_an_empty_tagged_by(sandbox: Sandbox) -> None:
    call = sandbox.add_calls(1, status="done")[0]

    sandbox.add_tag(call["id"], "Lead", tagged_by_id=None)

    (tag,) = sandbox.api_get(f"/v1/calls/{call['id']}").json()["call"]["tags"]
    assert tag["tagged_by"] == {}


def test_a_comment_added_later_is_served_with_its_content(sandbox: Sandbox) -> None:
    call = sandbox.add_calls(1, status="done")[0]

    sandbox.add_comment(call["id"], "Call back\nnext week")

    (comment,) = sandbox.api_get(f"/v1/calls/{call['id']}").json()["call"]["comments"]
    assert comment["content"] == "Call back\nnext week"
    assert comment["posted_by"]["id"] == call["user_id"]
