"""The simplest possible reader of `/v1/calls`: what `make bench` compares the connector with.

Plain `requests` + `json`, one session, no framework, no retries, no pacing:

    GET /v1/calls?from=F&to=T&order=desc&per_page=50&page=1,2,...&fetch_contact=true

newest first in the window (F, T], each done call turned into the same record the
connector's `calls` stream emits and written as one Airbyte RECORD JSON line. Aircall
refuses any page past position 10,000, so when the next page would pass it the window
is narrowed instead (`to` = the oldest `started_at` read so far, inclusive; the calls of
that second already written are skipped by id): one extra request per 10,000 calls.

    python scripts/bench_baseline.py --api-url URL --api-id ID --api-token TOKEN \
        --from F --to T --out calls.jsonl [--salescaling-emails a@x.com,b@x.com]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import phonenumbers
import requests

PER_PAGE = 50
POSITION_CAP = 10_000


def iso(timestamp: int | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def someone(user: Any) -> dict[str, Any] | None:
    """A user object; null, `{}` and one with no id, name or email are no one."""
    if not user:
        return None
    found = {"id": user.get("id"), "name": text(user.get("name")), "email": text(user.get("email"))}
    return found if any(v is not None for v in found.values()) else None


def e164(number: str | None, region: str | None = None) -> str | None:
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def owner(call: dict[str, Any], emails: set[str] | frozenset[str]) -> dict[str, Any] | None:
    """Whose call it is: the agent when a Salescaling user, else the transferee when one."""
    for key in ("user", "transferred_to"):
        agent = someone(call.get(key))
        if agent and agent["email"] and agent["email"].strip().lower() in emails:
            return agent
    return None


def record(call: dict[str, Any], emails: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """The `calls` record (connector contract: the Fields table of `calls`)."""
    if call.get("voicemail"):
        status = "voicemail"
    elif call.get("answered_at") is not None:
        status = "answered"
    else:
        status = "missed" if call["direction"] == "inbound" else "failed"
    user = call.get("user")
    contact = call.get("contact")
    contact_record = None
    if contact is not None:
        person = " ".join(
            part
            for part in (text(contact.get("first_name")), text(contact.get("last_name")))
            if part
        )
        phone = None
        for entry in contact.get("phone_numbers") or []:
            if text(entry.get("value")):
                phone = entry["value"]
                break
        contact_record = {
            "id": contact.get("id"),
            "name": person or text(contact.get("company_name")),
            "phone": phone,
        }
    number = call.get("number")
    raw_digits = text(call.get("raw_digits"))
    return {
        "id": call["id"],
        "direction": call["direction"],
        "status": status,
        "missed_call_reason": text(call.get("missed_call_reason")),
        "started_at": iso(call["started_at"]),
        "answered_at": iso(call.get("answered_at")),
        "ended_at": iso(call.get("ended_at")),
        "duration": call.get("duration") or 0,
        "user": someone(user),
        "contact": contact_record,
        "internal_number": None if number is None else text(number.get("digits")),
        "external_number": None if raw_digits in (None, "anonymous") else raw_digits,
        "internal_number_e164": None
        if number is None
        else e164(text(number.get("digits")), text(number.get("country"))),
        "external_number_e164": None if raw_digits in (None, "anonymous") else e164(raw_digits),
        "number": None
        if number is None
        else {
            "id": number.get("id"),
            "name": text(number.get("name")),
            "digits": text(number.get("digits")),
            "country": text(number.get("country")),
        },
        "sid": text(call.get("sid")),
        "cost": text(call.get("cost")),
        "pricing_type": text(call.get("pricing_type")),
        "hangup_cause": text(call.get("hangup_cause")),
        "country_code_a2": text(call.get("country_code_a2")),
        "asset": text(call.get("asset")),
        "archived": call.get("archived"),
        "tags": [
            {
                "id": tag.get("id"),
                "name": text(tag.get("name")),
                "tagged_by": someone(tag.get("tagged_by")),
                "tagged_at": iso(tag.get("tagged_at")),
            }
            for tag in call.get("tags") or []
        ],
        "comments": [
            {
                "id": comment.get("id"),
                "content": text(comment.get("content")),
                "posted_by": someone(comment.get("posted_by")),
                "posted_at": iso(comment.get("posted_at")),
            }
            for comment in call.get("comments") or []
        ],
        "teams": [
            {"id": team.get("id"), "name": text(team.get("name"))}
            for team in call.get("teams") or []
        ],
        "transferred_by": someone(call.get("transferred_by")),
        "transferred_to": someone(call.get("transferred_to")),
        "assigned_to": someone(call.get("assigned_to")),
        "salescaling_agent": owner(call, emails),
        "_ab_cdc_deleted_at": None,
        "has_recording": text(call.get("recording")) is not None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--api-id", required=True)
    parser.add_argument("--api-token", required=True)
    parser.add_argument("--from", dest="start", type=int, required=True, help="exclusive")
    parser.add_argument("--to", dest="end", type=int, required=True, help="inclusive")
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--salescaling-emails", default="", help="comma-separated: decides salescaling_agent"
    )
    parser.add_argument("--import-only", action="store_true", help="measure start-up and exit")
    args = parser.parse_args(argv)
    if args.import_only:
        return 0

    emails = {e.strip().lower() for e in args.salescaling_emails.split(",") if e.strip()}
    session = requests.Session()
    session.auth = (args.api_id, args.api_token)
    url = f"{args.api_url}/v1/calls"
    end, page, requests_made, written = args.end, 1, 0, 0
    oldest: int | None = None  # the oldest started_at read so far
    at_oldest: set[int] = set()  # the ids read with started_at == oldest
    skip: set[int] = set()  # after narrowing: ids of second `end` already written
    with open(args.out, "w") as out:
        while True:
            if page * PER_PAGE > POSITION_CAP:  # narrow the window instead of paging on
                if oldest is None or oldest == end:
                    raise SystemExit("more than 10,000 calls in one second")
                end, page, skip = oldest, 1, set(at_oldest)
            params = {
                "from": args.start,
                "to": end,
                "order": "desc",
                "page": page,
                "per_page": PER_PAGE,
                "fetch_contact": "true",
            }
            response = session.get(url, params=params, timeout=60)
            requests_made += 1
            response.raise_for_status()
            body = json.loads(response.content)
            for call in body["calls"]:
                started = call["started_at"]
                if started == end and call["id"] in skip:
                    continue
                if oldest is None or started < oldest:
                    oldest, at_oldest = started, set()
                at_oldest.add(call["id"])
                if call["status"] != "done":
                    continue
                written += 1
                message = {
                    "type": "RECORD",
                    "record": {
                        "stream": "calls",
                        "data": record(call, emails),
                        "emitted_at": int(time.time() * 1000),
                    },
                }
                out.write(json.dumps(message) + "\n")
            if not body["meta"].get("next_page_link"):
                break
            page += 1
    print(json.dumps({"records": written, "requests": requests_made}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
