"""The sandbox's API host behaves like Aircall's (see docs/aircall-api.md)."""

from __future__ import annotations

import itertools
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from aircall_sandbox.testing import Sandbox

CAP_ERRORS = (
    "Your query is limited to 10k results and pagination is out of bound, "
    "please use timestamps or other filters."
)
LIMIT_HEADERS = ("X-AircallApi-Limit", "X-AircallApi-Remaining", "X-AircallApi-Reset")


def all_calls_via_api(sandbox: Sandbox, **params: Any) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    page = 1
    while True:
        body = sandbox.api_get("/v1/calls", per_page=50, page=page, **params).json()
        calls += body["calls"]
        if body["meta"]["next_page_link"] is None:
            return calls
        page += 1


def test_ping_answers_pong(sandbox: Sandbox) -> None:
    response = sandbox.api_get("/v1/ping")
    assert response.status_code == 200
    assert response.json() == {"ping": "pong"}


def test_missing_authorization_is_401(sandbox: Sandbox) -> None:
    response = sandbox.api_get("/v1/ping", auth=False)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_wrong_credentials_are_403(sandbox: Sandbox) -> None:
    response = requests.get(f"{sandbox.api_url}/v1/ping", auth=("demo-id", "wrong"), timeout=10)
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


def test_v1_users_is_sunset_and_404(sandbox: Sandbox) -> None:
    response = sandbox.api_get("/v1/users")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_unknown_path_is_404(sandbox: Sandbox) -> None:
    assert sandbox.api_get("/v1/nothing-here").status_code == 404


def test_v2_users_items_have_iso_created_at_and_meta(sandbox: Sandbox) -> None:
    body = sandbox.api_get("/v2/users").json()
    assert body["meta"]["total"] == len(body["users"]) == 8
    user = body["users"][0]
    assert isinstance(user["id"], int)
    assert user["created_at"].endswith(".000Z") and user["created_at"][10] == "T"
    assert user["availability_status"] in ("available", "custom", "unavailable")


def test_aircall_keeps_a_messy_email_for_one_salescaling_user(sandbox: Sandbox) -> None:
    emails = [u["email"] for u in sandbox.api_get("/v2/users").json()["users"]]
    assert "  Ana.Silva@Example.com" in emails
    assert "ana.silva@example.com" in sandbox.config()["salescaling_user_emails"]


def test_from_is_exclusive(sandbox: Sandbox) -> None:
    target = sandbox.calls()[100]
    t = target["started_at"]
    ids = {c["id"] for c in all_calls_via_api(sandbox, **{"from": t, "to": t + 60})}
    assert target["id"] not in ids


def test_to_is_inclusive(sandbox: Sandbox) -> None:
    target = sandbox.calls()[100]
    t = target["started_at"]
    ids = {c["id"] for c in all_calls_via_api(sandbox, **{"from": t - 1, "to": t})}
    assert target["id"] in ids


def test_per_page_above_50_is_clamped_to_50(sandbox: Sandbox) -> None:
    body = sandbox.api_get("/v1/calls", per_page=500).json()
    assert body["meta"]["per_page"] == 50
    assert len(body["calls"]) == 50


def test_default_per_page_is_20(sandbox: Sandbox) -> None:
    body = sandbox.api_get("/v1/calls").json()
    assert body["meta"]["per_page"] == 20 and body["meta"]["count"] == 20


def test_page_201_at_per_page_50_is_400_even_with_few_results(sandbox: Sandbox) -> None:
    response = sandbox.api_get("/v1/calls", page=201, per_page=50, **{"from": 1, "to": 2})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Bad Request",
        "message": "BAD_REQUEST",
        "errors": CAP_ERRORS,
        "troubleshoot": "BAD_REQUEST",
        "success": False,
        "data": None,
    }


def test_page_200_at_per_page_50_is_still_allowed(sandbox: Sandbox) -> None:
    response = sandbox.api_get("/v1/calls", page=200, per_page=50)
    assert response.status_code == 200
    assert response.json()["calls"] == []


def test_non_integer_from_is_400_with_aircall_error_shape(sandbox: Sandbox) -> None:
    response = sandbox.api_get("/v1/calls", **{"from": "yesterday"})
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "BAD_REQUEST" and "from" in body["errors"]


def test_calls_older_than_retention_are_never_listed(sandbox: Sandbox) -> None:
    old = sandbox.add_calls(1, started_ago_seconds=200 * 86_400)[0]
    t = old["started_at"]
    response = sandbox.api_get("/v1/calls", **{"from": t - 10, "to": t + 10})
    assert response.status_code == 200
    assert response.json()["calls"] == []
    assert response.json()["meta"]["total"] == 0


def test_asc_is_the_default_order_with_id_tie_break(sandbox: Sandbox) -> None:
    keys = [(c["started_at"], c["id"]) for c in all_calls_via_api(sandbox)]
    assert keys == sorted(keys)


def test_desc_order_breaks_ties_by_id_descending(sandbox: Sandbox) -> None:
    calls = all_calls_via_api(sandbox, order="desc")
    keys = [(c["started_at"], c["id"]) for c in calls]
    assert keys == sorted(keys, reverse=True)
    assert any(a[0] == b[0] for a, b in itertools.pairwise(keys)), "no tie to test"


def test_contact_is_null_without_fetch_contact(sandbox: Sandbox) -> None:
    calls = sandbox.api_get("/v1/calls", per_page=50).json()["calls"]
    assert all(c["contact"] is None for c in calls)


def test_fetch_contact_embeds_contacts_and_some_calls_have_none(sandbox: Sandbox) -> None:
    calls = sandbox.api_get("/v1/calls", per_page=50, fetch_contact="true").json()["calls"]
    contacts = [c["contact"] for c in calls]
    with_contact = [c for c in contacts if c is not None]
    assert with_contact and len(with_contact) < len(contacts)
    assert {"id", "first_name", "last_name", "company_name", "phone_numbers", "emails"} <= set(
        with_contact[0]
    )


def test_meta_next_page_link_keeps_params_and_moves_page(sandbox: Sandbox) -> None:
    body = sandbox.api_get("/v1/calls", per_page=10, order="desc").json()
    assert body["meta"]["previous_page_link"] is None
    link = urlsplit(body["meta"]["next_page_link"])
    assert f"{link.scheme}://{link.netloc}" == sandbox.api_url
    params = parse_qs(link.query)
    assert params["page"] == ["2"] and params["per_page"] == ["10"] and params["order"] == ["desc"]


def test_last_page_has_no_next_link(sandbox: Sandbox) -> None:
    total = sandbox.api_get("/v1/calls", per_page=1).json()["meta"]["total"]
    last = (total + 49) // 50
    body = sandbox.api_get("/v1/calls", per_page=50, page=last).json()
    assert body["meta"]["next_page_link"] is None and body["meta"]["count"] > 0


def test_call_objects_have_the_live_key_set(sandbox: Sandbox) -> None:
    calls = sandbox.api_get("/v1/calls", per_page=50).json()["calls"]
    call = next(c for c in calls if c.get("user"))  # a call without agent may lack "user"
    expected = {
        "id", "sid", "direct_link", "direction", "status", "missed_call_reason", "started_at",
        "answered_at", "ended_at", "duration", "archived", "cost", "voicemail", "recording",
        "recording_short_url", "voicemail_short_url", "asset", "raw_digits", "user", "contact",
        "assigned_to", "transferred_by", "transferred_to", "number", "teams", "tags", "comments",
        "country_code_a2", "pricing_type", "hangup_cause",
    }  # fmt: skip
    assert set(call) == expected


def test_done_calls_have_duration_ended_minus_started(sandbox: Sandbox) -> None:
    for call in all_calls_via_api(sandbox):
        if call["status"] == "done":
            assert call["duration"] == call["ended_at"] - call["started_at"]


def test_in_progress_calls_have_no_end_and_no_recording(sandbox: Sandbox) -> None:
    live = [c for c in all_calls_via_api(sandbox) if c["status"] in ("initial", "answered")]
    assert live
    assert all(c["ended_at"] is None and c["recording"] is None for c in live)


def test_call_by_id_gives_a_fresh_recording_url(sandbox: Sandbox) -> None:
    target = next(c for c in sandbox.calls() if c["has_recording"])
    first = sandbox.api_get(f"/v1/calls/{target['id']}").json()["call"]["recording"]
    second = sandbox.api_get(f"/v1/calls/{target['id']}").json()["call"]["recording"]
    assert first and second and first != second
    assert second.startswith(sandbox.storage_url + f"/recordings/{target['id']}.mp3?")


def test_unknown_call_id_is_404(sandbox: Sandbox) -> None:
    assert sandbox.api_get("/v1/calls/12345").status_code == 404


def test_anonymous_callers_and_calls_without_user_exist(sandbox: Sandbox) -> None:
    calls = all_calls_via_api(sandbox)
    assert any(c["raw_digits"] == "anonymous" for c in calls)
    assert any(c.get("user") is None for c in calls)


def test_burst_429_carries_the_aircall_limit_headers(sandbox: Sandbox) -> None:
    sandbox.set_faults(burst_429=1, reset_after_seconds=2)
    response = sandbox.api_get("/v1/ping")
    assert response.status_code == 429
    assert response.json() == {"message": "Too Many Requests"}
    assert response.headers["X-AircallApi-Remaining"] == "0"
    assert int(response.headers["X-AircallApi-Reset"]) > 1_000_000_000
    assert int(response.headers["X-AircallApi-Reset"]) < 10_000_000_000
    assert sandbox.api_get("/v1/ping").status_code == 200


def test_reset_header_is_on_the_sandbox_clock(sandbox: Sandbox) -> None:
    """A client whose clock is moved with the sandbox's (the simulated day) must read a
    reset a few seconds ahead of its own clock, not days before or after it."""
    day = 86_400
    sandbox.set_clock_offset(2 * day)
    sandbox.set_faults(burst_429=1, reset_after_seconds=2)
    response = sandbox.api_get("/v1/ping")
    moved_now = time.time() + 2 * day
    assert 0 <= int(response.headers["X-AircallApi-Reset"]) - moved_now <= 70


def test_reset_header_can_be_in_milliseconds(sandbox: Sandbox) -> None:
    sandbox.set_faults(burst_429=1, reset_unit="ms")
    response = sandbox.api_get("/v1/ping")
    assert int(response.headers["X-AircallApi-Reset"]) > 1_000_000_000_000


def test_normal_responses_carry_no_limit_headers(sandbox: Sandbox) -> None:
    sandbox.set_rate_limit(100)
    response = sandbox.api_get("/v1/ping")
    assert response.status_code == 200
    assert not any(h in response.headers for h in LIMIT_HEADERS)


def test_rate_limit_refuses_requests_over_the_limit(sandbox: Sandbox) -> None:
    sandbox.set_rate_limit(3)
    statuses = [sandbox.api_get("/v1/ping").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_rate_limit_window_reopens_after_reset(sandbox: Sandbox) -> None:
    sandbox.set_rate_limit(1, window_seconds=1.0)
    assert sandbox.api_get("/v1/ping").status_code == 200
    refused = sandbox.api_get("/v1/ping")
    assert refused.status_code == 429
    assert all(h in refused.headers for h in LIMIT_HEADERS)
    time.sleep(1.1)
    assert sandbox.api_get("/v1/ping").status_code == 200


def test_control_api_is_neither_rate_limited_nor_faulted(sandbox: Sandbox) -> None:
    sandbox.set_rate_limit(1)
    sandbox.set_faults(error_rate=1.0, drop_rate=0.0)
    for _ in range(3):
        assert sandbox.users()


def test_error_next_answers_the_configured_statuses(sandbox: Sandbox) -> None:
    sandbox.set_faults(error_next=2, error_statuses=[503, 500])
    statuses = [sandbox.api_get("/v1/ping").status_code for _ in range(3)]
    assert statuses == [503, 500, 200]


def test_an_injected_403_answers_aircalls_error_and_troubleshoot(sandbox: Sandbox) -> None:
    sandbox.set_faults(error_next=1, error_statuses=[403])
    response = sandbox.api_get("/v1/calls")
    assert (response.status_code, response.json()) == (
        403,
        {"error": "Forbidden", "troubleshoot": "company is not verified"},
    )


def test_drop_closes_the_connection_without_an_answer(sandbox: Sandbox) -> None:
    sandbox.set_faults(drop_next=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sandbox.api_url}/v1/ping", auth=sandbox.auth, timeout=10)
    assert sandbox.api_get("/v1/ping").status_code == 200


def test_malformed_json_next_truncates_a_success_body(sandbox: Sandbox) -> None:
    sandbox.set_faults(malformed_json_next=1)
    response = sandbox.api_get("/v1/calls")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert sandbox.api_get("/v1/calls").json()["calls"]


def test_error_rate_is_deterministic_for_a_seed(sandbox: Sandbox) -> None:
    def run() -> list[int]:
        sandbox.set_faults(error_rate=0.5, seed=3)
        return [sandbox.api_get("/v1/ping").status_code for _ in range(12)]

    first = run()
    assert first == run()
    assert 200 in first and any(s >= 500 for s in first)


def test_request_log_records_api_authorization_and_query(sandbox: Sandbox) -> None:
    sandbox.clear_log()
    sandbox.api_get("/v1/calls", per_page=5)
    sandbox.api_get("/v1/ping", auth=False)
    log = sandbox.requests_log("api")
    assert [(e["path"], e["authorization"], e["status"]) for e in log] == [
        ("/v1/calls", True, 200),
        ("/v1/ping", False, 401),
    ]
    assert log[0]["query"] == {"per_page": "5"}


def test_slow_next_delays_one_answer(sandbox: Sandbox) -> None:
    sandbox.set_faults(slow_next=1, slow_seconds=0.5)
    started = time.monotonic()
    assert sandbox.api_get("/v1/ping").status_code == 200
    assert time.monotonic() - started >= 0.5
    started = time.monotonic()
    sandbox.api_get("/v1/ping")
    assert time.monotonic() - started < 0.5


def test_latency_applies_to_storage_answers_too(sandbox: Sandbox) -> None:
    (call,) = sandbox.add_calls(1, status="done", recording=True, recording_size=1000)
    url = sandbox.api_get(f"/v1/calls/{call['id']}").json()["call"]["recording"]
    sandbox.set_faults(latency_ms=250)
    started = time.monotonic()
    assert requests.get(url, headers={"Range": "bytes=0-0"}, timeout=10).status_code == 206
    assert time.monotonic() - started >= 0.25


def test_head_on_the_api_answers_without_a_body(sandbox: Sandbox) -> None:
    session = requests.Session()
    session.auth = sandbox.auth
    head = session.head(f"{sandbox.api_url}/v1/ping", timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert session.get(f"{sandbox.api_url}/v1/ping", timeout=10).json() == {"ping": "pong"}
