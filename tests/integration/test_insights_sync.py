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
}
MINUTE = 60
LOOKBACK = 90 * MINUTE  # asks at the end, +15, +45 (half-way), +60 and +75 minutes
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
    sandbox.set_insight_ready(call["id"], **{resource: None for resource in RESOURCE.values()})
    syncs = Syncs(sandbox, connector, first_sync_max_calls=5, insights_lookback_minutes=90)
    for _ in range(9):
        syncs.run(AI_ONLY)
        syncs.advance(15)

    total = ai_requests(sandbox)
    for resource in RESOURCE.values():
        assert total[(call["id"], resource)] == 5, resource  # every checkpoint, no more
        assert all(sync[(call["id"], resource)] <= 1 for sync in syncs.requests_per_sync)
    report = syncs.runs[-1].insights_report("transcriptions")
    assert report is not None and report["waiting"] == 0


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
