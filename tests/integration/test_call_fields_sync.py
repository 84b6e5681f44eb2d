"""What `calls` carries beside its core fields, and whose call it is, against the sandbox:
tags and comments people add after the call, transfers, and no pre-signed media URL in
any record (docs/aircall-salescaling.md, "Streams" and "Import rules")."""

from __future__ import annotations

import json
from typing import Any

from aircall_sandbox.testing import Sandbox
from tests.harness import AI_STREAMS, Connector, ConnectorRun, SyncSequence, catalog

CALLS = catalog(["calls"])
IMPORTED = catalog(["calls", "recordings", "import_decisions"], include_files=False)
EVERY_STREAM = catalog(["users", "calls", "recordings", "import_decisions", *AI_STREAMS])


def record_of(run: ConnectorRun, stream: str, call_id: int) -> dict[str, Any]:
    key = "id" if stream == "calls" else "call_id"
    (record,) = [r for r in run.records(stream) if r[key] == call_id]
    return record


def user(sandbox: Sandbox, salescaling: bool) -> dict[str, Any]:
    return next(u for u in sandbox.users() if u["salescaling"] is salescaling)


def transferred_call(sandbox: Sandbox) -> tuple[dict[str, Any], dict[str, Any]]:
    """A recorded call answered by an agent who is no Salescaling user and transferred to
    one who is; returns the call and the Salescaling user."""
    first, taker = user(sandbox, salescaling=False), user(sandbox, salescaling=True)
    call = sandbox.add_calls(
        1, status="done", recording=True, user_id=first["id"], started_ago_seconds=600
    )[0]
    sandbox.update_call(call["id"], transferred_by_id=first["id"], transferred_to_id=taker["id"])
    return call, taker


def test_a_call_transferred_to_a_salescaling_user_is_imported_for_the_transferee(
    sandbox: Sandbox, connector: Connector
) -> None:
    call, taker = transferred_call(sandbox)

    run = connector.run("read", sandbox.config(), IMPORTED)

    recording = record_of(run, "recordings", call["id"])
    assert recording["salescaling_agent"]["email"] == taker["email"]
    assert recording["transferred_to"]["email"] == taker["email"]
    assert record_of(run, "calls", call["id"])["salescaling_agent"]["id"] == taker["id"]


def test_the_decision_on_a_transferred_call_names_the_transfer(
    sandbox: Sandbox, connector: Connector
) -> None:
    call, taker = transferred_call(sandbox)

    run = connector.run("read", sandbox.config(), IMPORTED)

    decision = record_of(run, "import_decisions", call["id"])
    assert decision["decision"] == "imported"
    assert decision["salescaling_agent"]["email"] == taker["email"]
    assert f"transferred to {taker['email'].strip()}" in decision["reason"]


def test_the_ai_streams_ask_about_a_call_transferred_to_a_salescaling_user(
    sandbox: Sandbox, connector: Connector
) -> None:
    call, _ = transferred_call(sandbox)
    sandbox.set_insight_ready(call["id"], summary=sandbox.now() - 60)

    run = connector.run("read", sandbox.config(), catalog(["summaries"]))

    assert call["id"] in run.ids("summaries")


def test_a_tag_added_ten_minutes_after_the_call_reaches_calls_on_the_next_sync(
    sandbox: Sandbox, connector: Connector
) -> None:
    call = sandbox.add_calls(1, status="done", recording=False, started_ago_seconds=300)[0]
    syncs = SyncSequence(sandbox, connector, CALLS)
    first = syncs.run()
    syncs.advance(10)
    tagger = user(sandbox, salescaling=True)
    sandbox.add_tag(call["id"], "Demo booked", tagged_by_id=tagger["id"])

    second = syncs.run()

    assert record_of(first, "calls", call["id"])["tags"] == []
    (tag,) = record_of(second, "calls", call["id"])["tags"]
    assert (tag["name"], tag["tagged_by"]["id"]) == ("Demo booked", tagger["id"])
    assert tag["tagged_at"] is not None


def test_a_comment_added_after_the_call_reaches_calls_on_the_next_sync(
    sandbox: Sandbox, connector: Connector
) -> None:
    call = sandbox.add_calls(1, status="done", recording=False, started_ago_seconds=300)[0]
    syncs = SyncSequence(sandbox, connector, CALLS)
    syncs.run()
    syncs.advance(5)
    sandbox.add_comment(call["id"], "Wants a quote:\n- 12 seats")

    second = syncs.run()

    (comment,) = record_of(second, "calls", call["id"])["comments"]
    assert comment["content"] == "Wants a quote:\n- 12 seats"


def test_a_cost_aircall_prices_after_the_call_reaches_calls_on_the_next_sync(
    sandbox: Sandbox, connector: Connector
) -> None:
    call = sandbox.add_calls(1, status="done", recording=False, started_ago_seconds=300)[0]
    syncs = SyncSequence(sandbox, connector, CALLS)
    syncs.run()
    sandbox.update_call(call["id"], cost="3.0")

    second = syncs.run()

    assert record_of(second, "calls", call["id"])["cost"] == "3.0"


def test_no_record_of_any_stream_carries_a_media_url(
    sandbox: Sandbox, connector: Connector
) -> None:
    served = sandbox.api_get("/v1/calls", per_page=50, fetch_short_urls="true").json()["calls"]
    media = [c["recording"] for c in served if c["recording"]]
    assert media and all("X-Amz-Signature=" in url for url in media)

    run = connector.run("read", sandbox.config(first_sync_max_calls=10), EVERY_STREAM)

    text = json.dumps([m["record"]["data"] for m in run.of_type("RECORD")])
    assert run.records("recordings") and run.records("calls")
    assert "X-Amz-" not in text
    assert f"{sandbox.storage_url}/recordings/" not in text
    assert f"{sandbox.storage_url}/short/" not in text


def test_calls_carry_the_numbers_in_e164_and_the_aircall_number(
    sandbox: Sandbox, connector: Connector
) -> None:
    call = sandbox.add_calls(1, status="done", raw_digits="+1 617-610-5413")[0]

    run = connector.run("read", sandbox.config(), CALLS)

    record = record_of(run, "calls", call["id"])
    assert (record["external_number"], record["external_number_e164"]) == (
        "+1 617-610-5413",
        "+16176105413",
    )
    assert record["internal_number_e164"] == "".join(
        ch for ch in record["number"]["digits"] if ch == "+" or ch.isdigit()
    )


def test_the_import_report_counts_the_calls_imported_by_transfer(
    sandbox: Sandbox, connector: Connector
) -> None:
    transferred_call(sandbox)

    run = connector.run("read", sandbox.config(), IMPORTED)

    report = run.import_report()
    assert report is not None and report["imported_by_transfer"] >= 1
    assert any("transferred to a Salescaling user" in line for line in run.logs("INFO"))
