"""The Aircall AI streams over sequences of syncs: the connector against the
sandbox, the sandbox's clock moved between syncs (the connector takes each sync's time
from Aircall's `Date` header)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from aircall_sandbox.testing import Sandbox
from tests.harness import (
    AI_STREAMS,
    Connector,
    ConnectorRun,
    SyncSequence,
    catalog,
    first_sync_requests,
)

ALL_AI = catalog(["recordings", *AI_STREAMS])
AI_ONLY = catalog(list(AI_STREAMS))
RESOURCE = {
    "transcriptions": "transcription",
    "summaries": "summary",
    "topics": "topics",
    "sentiments": "sentiments",
    "action_items": "action_items",
    "playbook_results": "playbook_result",
    "evaluations": "evaluations",
    "custom_summaries": "custom_summary_result",
    "predicted_csat": "predicted_csat",
}
PRO_STREAMS = ("playbook_results", "evaluations", "custom_summaries", "predicted_csat")
MINUTE = 60
LOOKBACK = 90 * MINUTE  # the transcription: first ask, +15, half-way, +60, end + 75 minutes
AI_PATH = re.compile(r"^/v1/calls/(\d+)/([a-z_]+)$")


def salescaling_user(sandbox: Sandbox) -> int:
    return int(next(u["id"] for u in sandbox.users() if u["salescaling"]))


def other_user(sandbox: Sandbox) -> int:
    return int(next(u["id"] for u in sandbox.users() if not u["salescaling"]))


def ai_requests(sandbox: Sandbox) -> Counter[tuple[int, str]]:
    """(call id, resource) -> how many times the connector asked Aircall for it."""
    asked: Counter[tuple[int, str]] = Counter()
    for request in sandbox.requests_log(host="api", path_pattern=r"/v1/calls/\d+/[a-z_]+"):
        match = AI_PATH.match(str(request["path"]))
        assert match is not None
        asked[(int(match[1]), match[2])] += 1
    return asked


class Syncs(SyncSequence):
    """The AI streams over syncs, and the AI requests each sync made."""

    def __init__(self, sandbox: Sandbox, connector: Connector, **config: Any) -> None:
        super().__init__(sandbox, connector, ALL_AI, **config)
        self.requests_per_sync: list[Counter[tuple[int, str]]] = []

    def run(self, catalog: dict[str, Any] | None = None) -> ConnectorRun:
        before = ai_requests(self.sandbox)
        run = super().run(catalog)
        self.requests_per_sync.append(ai_requests(self.sandbox) - before)
        return run


def recent_call(sandbox: Sandbox, user_id: int, ended_ago: int = 120) -> dict[str, Any]:
    """A done, answered call with a recording, ended `ended_ago` seconds ago."""
    return sandbox.add_calls(
        1, status="done", recording=True, user_id=user_id,
        started_ago_seconds=ended_ago + 300, duration=300,
    )[0]  # fmt: skip


def test_every_insight_that_appears_within_the_lookback_arrives_once(
    sandbox: Sandbox, connector: Connector
) -> None:
    call = recent_call(sandbox, salescaling_user(sandbox))
    ended = int(call["ended_at"])
    ready = {
        "transcription": ended + 40 * MINUTE,  # asked at a checkpoint, arrives
        "summary": ended + LOOKBACK - 20 * MINUTE,  # before the last checkpoint
        "topics": None,  # never
        "sentiments": ended + LOOKBACK + 10 * MINUTE,  # after the lookback: never asked for
        "action_items": ended + 50 * MINUTE,
        "playbook_result": ended + 45 * MINUTE,
        "evaluations": None,
        "custom_summary_result": ended + 60 * MINUTE,
        "predicted_csat": ended + LOOKBACK - 10 * MINUTE,  # in the last 15 minutes
    }
    sandbox.set_insight_ready(call["id"], **ready)
    syncs = Syncs(sandbox, connector, first_sync_max_calls=20, insights_lookback_minutes=90)
    for _ in range(9):  # two hours of 15-minute syncs
        syncs.run()
        syncs.advance(15)

    for stream, resource in RESOURCE.items():
        arrived = syncs.emitted(stream).count(call["id"])
        expected = (
            1
            if ready[resource] is not None and ready[resource] < ended + LOOKBACK - 15 * MINUTE
            else 0
        )
        assert arrived == expected, f"{stream}: {arrived} records, expected {expected}"
    for stream in AI_STREAMS:
        assert len(syncs.emitted(stream)) == len(set(syncs.emitted(stream))), stream


def test_a_call_is_asked_at_most_once_a_sync_and_five_times_in_all(
    sandbox: Sandbox, connector: Connector
) -> None:
    call = recent_call(sandbox, salescaling_user(sandbox))
    never = {resource: None for resource in RESOURCE.values()}
    sandbox.set_insight_ready(call["id"], **{**never, "transcription": int(call["ended_at"])})
    syncs = Syncs(sandbox, connector, first_sync_max_calls=5, insights_lookback_minutes=90)
    for _ in range(9):
        syncs.run(AI_ONLY)
        syncs.advance(15)

    total = ai_requests(sandbox)
    assert total[(call["id"], "transcription")] == 1  # found at once, emitted once
    for resource in RESOURCE.values():
        if resource != "transcription":
            assert total[(call["id"], resource)] == 5, resource  # every checkpoint, no more
        assert all(sync[(call["id"], resource)] <= 1 for sync in syncs.requests_per_sync)
    report = syncs.runs[-1].insights_report("summaries")
    assert report is not None and report["waiting"] == 0


def test_a_call_without_a_transcription_is_never_asked_about_the_rest(
    sandbox: Sandbox, connector: Connector
) -> None:
    call = recent_call(sandbox, salescaling_user(sandbox))
    sandbox.set_insight_ready(call["id"], **{resource: None for resource in RESOURCE.values()})
    syncs = Syncs(sandbox, connector, first_sync_max_calls=5, insights_lookback_minutes=90)
    for _ in range(9):
        syncs.run(catalog(list(AI_STREAMS[1:])))  # `transcriptions` itself not selected
        syncs.advance(15)

    total = ai_requests(sandbox)
    assert total[(call["id"], "transcription")] == 5  # the gate, on its checkpoints
    assert all(sync[(call["id"], "transcription")] <= 1 for sync in syncs.requests_per_sync)
    assert {resource for (call_id, resource) in total if call_id == call["id"]} == {"transcription"}


def test_a_call_that_is_not_imported_gets_no_insight_and_no_request(
    sandbox: Sandbox, connector: Connector
) -> None:
    other = recent_call(sandbox, other_user(sandbox))
    mine = recent_call(sandbox, salescaling_user(sandbox))
    for call in (other, mine):
        sandbox.set_insight_ready(call["id"], transcription=int(call["ended_at"]) + 30)

    syncs = Syncs(sandbox, connector, first_sync_max_calls=5)
    syncs.run()

    assert mine["id"] in syncs.emitted("transcriptions")
    assert other["id"] not in syncs.emitted("transcriptions")
    assert not [key for key in ai_requests(sandbox) if key[0] == other["id"]]


def test_the_ai_streams_take_exactly_the_calls_recordings_imports(
    sandbox: Sandbox, connector: Connector
) -> None:
    syncs = Syncs(sandbox, connector, first_sync_max_calls=30)
    syncs.run()

    imported = set(syncs.emitted("recordings"))
    assert len(imported) == 30
    for stream in AI_STREAMS:
        assert set(syncs.emitted(stream)) <= imported, stream
    assert {call_id for call_id, _ in ai_requests(sandbox)} == imported


def test_selecting_the_ai_streams_lists_and_probes_no_more_than_recordings_alone(
    sandbox: Sandbox, tmp_path: Any
) -> None:
    config = sandbox.config(first_sync_max_calls=30)
    alone, together = first_sync_requests(
        sandbox, config, [["recordings"], ["recordings", *AI_STREAMS]], tmp_path
    )

    assert together.get("/v1/calls", 0) == alone.get("/v1/calls", 0)
    probes = [r for r in sandbox.requests_log(host="storage") if "recordings" in str(r["path"])]
    assert len(probes) == len({r["path"] for r in probes}) == 30


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("off", "Forbidden access: Aircall AI is not enabled for this company."),
        ("unverified", "Forbidden access: company is not verified."),
    ],
)
def test_without_aircall_ai_syncs_succeed_with_a_warning_and_one_request_per_stream(
    sandbox: Sandbox, connector: Connector, mode: str, message: str
) -> None:
    sandbox.set_ai_mode(mode)
    syncs = Syncs(sandbox, connector, first_sync_max_calls=10)
    for _ in range(2):
        recent_call(sandbox, salescaling_user(sandbox))
        run = syncs.run()
        syncs.advance(15)

        assert run.errors() == []
        for stream in AI_STREAMS:
            assert run.records(stream) == []
            warnings = [w for w in run.logs("WARN") if "Aircall AI" in w and f" {stream} " in w]
            assert len(warnings) == 1, (stream, warnings)
            assert message in warnings[0]
    for sync in syncs.requests_per_sync:
        per_resource = Counter(resource for _, resource in sync.elements())
        assert all(count <= 1 for count in per_resource.values()), per_resource
    assert len(syncs.emitted("recordings")) > 0


def test_without_ai_assist_pro_its_four_streams_stay_empty_with_one_warning_each_while_the_five_emit(
    sandbox: Sandbox, connector: Connector
) -> None:
    sandbox.set_ai_mode("on")
    syncs = Syncs(sandbox, connector, first_sync_max_calls=10)
    run = syncs.run()

    assert run.errors() == [] and run.logs("ERROR") == []
    for stream in AI_STREAMS:
        warnings = [w for w in run.logs("WARN") if "403" in w and f"stream {stream} emits" in w]
        if stream in PRO_STREAMS:
            assert run.records(stream) == [], stream
            assert len(warnings) == 1, (stream, warnings)
            assert "AI Assist Pro" in warnings[0]
            assert "Forbidden access: AI Assist Pro is not enabled for this company." in warnings[0]
        else:
            assert warnings == [], (stream, warnings)
    assert run.records("transcriptions") and run.records("summaries")
    per_sync = Counter(resource for _, resource in syncs.requests_per_sync[0].elements())
    assert all(per_sync[RESOURCE[stream]] == 1 for stream in PRO_STREAMS), per_sync


def test_an_insight_not_there_yet_answered_400_waits_without_an_error_line(
    sandbox: Sandbox, connector: Connector
) -> None:
    sandbox.set_ai_not_ready(400)
    call = recent_call(sandbox, salescaling_user(sandbox))
    ended = int(call["ended_at"])
    sandbox.set_insight_ready(
        call["id"], **{resource: ended + 10 * MINUTE for resource in RESOURCE.values()}
    )
    syncs = Syncs(sandbox, connector, first_sync_max_calls=5)
    first = syncs.run()
    syncs.advance(15)
    second = syncs.run()

    for run in (first, second):
        assert run.errors() == [] and run.logs("ERROR") == []
        assert not [line for line in run.logs("WARN") if "400" in line]
    assert call["id"] not in first.ids("transcriptions")
    for stream in AI_STREAMS:
        assert second.ids(stream) == [call["id"]], stream


def test_a_long_first_sync_is_cut_at_its_slot_and_finished_by_the_next_with_nothing_lost_or_twice(
    sandbox: Sandbox, tmp_path: Any
) -> None:
    """At 1,000 requests a minute, a slot of 3 seconds holds 50 Aircall AI requests."""
    connector = Connector(sandbox.api_url, tmp_path, {"AIRCALL_AI_SLOT_SECONDS": "3"})
    syncs = Syncs(sandbox, connector, first_sync_max_calls=30)
    first = syncs.run(AI_ONLY)
    left = sum(first.insights_report(s)["asks_left_for_later"] for s in AI_STREAMS)  # type: ignore[index]
    assert left > 0 and any("left for the next syncs" in line for line in first.logs())
    for _ in range(20):
        syncs.advance(15)
        run = syncs.run(AI_ONLY)
        if all(run.insights_report(s)["asks_left_for_later"] == 0 for s in AI_STREAMS):  # type: ignore[index]
            break

    assert all(sum(sync.values()) <= 50 for sync in syncs.requests_per_sync)
    imported = {call_id for call_id, _ in ai_requests(sandbox)}
    assert len(imported) == 30
    for stream in AI_STREAMS:
        emitted = syncs.emitted(stream)
        assert len(emitted) == len(set(emitted)), stream
        ready = {
            call_id
            for call_id in imported
            if sandbox.insights(call_id)["ready_at"][RESOURCE[stream]] is not None
            and sandbox.insights(call_id)["ready"][RESOURCE[stream]]
        }
        assert set(emitted) == ready, stream


def test_ai_records_keep_aircalls_ids_speakers_and_authors(
    sandbox: Sandbox, connector: Connector
) -> None:
    syncs = Syncs(sandbox, connector, first_sync_max_calls=30)
    run = syncs.run()

    for stream in AI_STREAMS:
        for record in run.records(stream):
            assert "id" in record and record["_ab_cdc_deleted_at"] is None, stream
    for stream in ("transcriptions", "summaries", "topics", "sentiments", "playbook_results"):
        assert all(isinstance(r["id"], int) for r in run.records(stream)), stream
    users = {int(u["id"]) for u in sandbox.users()}
    items = [i for r in run.records("action_items") for i in r["action_items"]]
    by_agent = [i for i in items if i["created_by"] is not None]
    assert by_agent and all(i["created_by"] in users and not i["ai_generated"] for i in by_agent)
    assert all(i["updated_at"] is None for i in by_agent)
    externals = [
        u
        for r in run.records("transcriptions")
        for u in r["utterances"]
        if u["participant_type"] == "external"
    ]
    numbers = [u["phone_number"] for u in externals if u["phone_number"] is not None]
    assert numbers and all(re.fullmatch(r"\+\d+", number) for number in numbers)  # plain
    internals = [
        u
        for r in run.records("transcriptions")
        for u in r["utterances"]
        if u["participant_type"] == "internal"
    ]
    assert internals and all(u["user_id"] in users for u in internals)
