"""`import_decisions`: what became of each call, and why, as data, over sequences of syncs
against the sandbox (its clock moved between syncs; the connector reads Aircall's)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, SyncSequence, catalog, first_sync_requests
from tests.oracle import MIB

BOTH = catalog(["recordings", "import_decisions"], include_files=False)


class Syncs(SyncSequence):
    """`recordings` and `import_decisions` over syncs, and each call's decisions."""

    def __init__(self, sandbox: Sandbox, connector: Connector, **config: Any) -> None:
        super().__init__(sandbox, connector, BOTH, **config)

    def decisions(self) -> dict[int, list[dict[str, Any]]]:
        """Each call's decision records, in the order they came."""
        by_call: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for run in self.runs:
            for record in run.records("import_decisions"):
                by_call[record["call_id"]].append(record)
        return by_call

    def last(self, call_id: int) -> dict[str, Any]:
        return self.decisions()[call_id][-1]


def user(sandbox: Sandbox, salescaling: bool) -> dict[str, Any]:
    return next(u for u in sandbox.users() if u["salescaling"] is salescaling)


def done_call(sandbox: Sandbox, user_id: int | None, recording: bool = True) -> dict[str, Any]:
    return sandbox.add_calls(
        1, status="done", recording=recording, user_id=user_id, started_ago_seconds=600,
        duration=120,
    )[0]  # fmt: skip


def test_imported_goes_to_exactly_the_calls_recordings_emits(
    sandbox: Sandbox, connector: Connector
) -> None:
    syncs = Syncs(sandbox, connector, first_sync_max_calls=25)
    run = syncs.run()
    imported = {
        r["call_id"] for r in run.records("import_decisions") if r["decision"] == "imported"
    }
    assert len(imported) == 25
    assert imported == set(run.ids("recordings"))


def test_a_call_of_an_agent_who_is_not_a_salescaling_user_names_the_email(
    sandbox: Sandbox, connector: Connector
) -> None:
    other = user(sandbox, salescaling=False)
    call = done_call(sandbox, other["id"])
    syncs = Syncs(sandbox, connector, first_sync_max_calls=5)
    syncs.run()
    decision = syncs.last(call["id"])
    assert decision["decision"] == "not_a_salescaling_user"
    assert other["email"].strip() in decision["reason"]
    assert decision["user"]["id"] == other["id"]


def test_a_call_no_agent_took_is_not_a_salescaling_users(
    sandbox: Sandbox, connector: Connector
) -> None:
    call = done_call(sandbox, None)
    syncs = Syncs(sandbox, connector, first_sync_max_calls=5)
    syncs.run()
    decision = syncs.last(call["id"])
    assert decision["decision"] == "not_a_salescaling_user"
    assert decision["user"] is None and "No agent" in decision["reason"]


def test_a_recording_over_the_limit_gives_its_size_and_the_limit(
    sandbox: Sandbox, connector: Connector
) -> None:
    call = done_call(sandbox, user(sandbox, salescaling=True)["id"], recording=False)
    sandbox.attach_recording(call["id"], size=MIB + 1)
    syncs = Syncs(sandbox, connector, first_sync_max_calls=5, max_recording_size_mb=1)
    syncs.run()
    decision = syncs.last(call["id"])
    assert decision["decision"] == "recording_too_large"
    assert decision["size_bytes"] == MIB + 1
    assert decision["reason"] == "The recording is 1.0 MB; the limit is 1 MB."
    assert call["id"] not in syncs.runs[-1].ids("recordings")


def test_importable_calls_older_than_the_first_sync_cap_are_left_behind(
    sandbox: Sandbox, connector: Connector
) -> None:
    for _ in range(5):  # within the hours a capped first sync still pages through
        done_call(sandbox, user(sandbox, salescaling=True)["id"])
    syncs = Syncs(sandbox, connector, first_sync_max_calls=3)
    run = syncs.run()
    left = [
        r for r in run.records("import_decisions") if r["decision"] == "left_behind_by_first_sync"
    ]
    imported = [r for r in run.records("import_decisions") if r["decision"] == "imported"]
    assert left and len(imported) == 3
    assert max(r["started_at"] for r in left) <= min(r["started_at"] for r in imported)
    assert "first_sync_max_calls" in left[0]["reason"]


def test_a_call_waiting_for_its_recording_is_announced_once_then_imported(
    sandbox: Sandbox, connector: Connector
) -> None:
    call = done_call(sandbox, user(sandbox, salescaling=True)["id"], recording=False)
    syncs = Syncs(sandbox, connector, first_sync_max_calls=5)
    syncs.run()
    syncs.advance(15)
    syncs.run()
    sandbox.attach_recording(call["id"])
    syncs.advance(15)
    syncs.run()
    syncs.advance(15)
    syncs.run()

    assert [r["decision"] for r in syncs.decisions()[call["id"]]] == [
        "waiting_for_recording",
        "imported",
    ]
    assert syncs.runs[2].ids("recordings") == [call["id"]]


def test_a_call_whose_recording_never_comes_ends_as_no_recording(
    sandbox: Sandbox, connector: Connector
) -> None:
    call = done_call(sandbox, user(sandbox, salescaling=True)["id"], recording=False)
    syncs = Syncs(sandbox, connector, first_sync_max_calls=5, lookback_minutes=20)
    for _ in range(4):
        syncs.run()
        syncs.advance(15)

    decisions = syncs.decisions()[call["id"]]
    assert [r["decision"] for r in decisions] == ["waiting_for_recording", "no_recording"]
    assert "20 minutes" in decisions[-1]["reason"]


def test_no_call_gets_the_same_decision_twice_in_a_row_over_syncs(
    sandbox: Sandbox, connector: Connector
) -> None:
    salescaling = user(sandbox, salescaling=True)["id"]
    syncs = Syncs(sandbox, connector, first_sync_max_calls=10, lookback_minutes=30)
    for step in range(5):
        done_call(sandbox, salescaling, recording=step % 2 == 0)
        done_call(sandbox, user(sandbox, salescaling=False)["id"])
        syncs.run()
        syncs.advance(15)

    for call_id, records in syncs.decisions().items():
        values = [r["decision"] for r in records]
        assert all(a != b for a, b in itertools.pairwise(values)), (call_id, values)


def test_alone_it_makes_the_requests_recordings_would(sandbox: Sandbox, tmp_path: Any) -> None:
    config = sandbox.config(first_sync_max_calls=20)
    recordings, alone = first_sync_requests(
        sandbox, config, [["recordings"], ["import_decisions"]], tmp_path
    )
    assert alone == recordings


def test_a_call_deleted_in_aircall_before_it_was_imported_ends_as_call_deleted(
    sandbox: Sandbox, connector: Connector
) -> None:
    """Deleted while it waits for its recording: the connector looks pending calls up by
    id (or misses them in the re-listed range) on a schedule, and a 404 decides it. The
    lookback is long enough that it is still waiting on every sync here."""
    call = done_call(sandbox, user(sandbox, salescaling=True)["id"], recording=False)
    syncs = Syncs(sandbox, connector, first_sync_max_calls=5, lookback_minutes=120)
    syncs.run()
    assert [r["decision"] for r in syncs.decisions()[call["id"]]] == ["waiting_for_recording"]

    sandbox.delete_call(call["id"])
    for _ in range(6):  # 90 minutes at most: still within the lookback
        syncs.advance(15)
        syncs.run()
        if syncs.last(call["id"])["decision"] != "waiting_for_recording":
            break

    decisions = syncs.decisions().get(call["id"], [])
    assert [r["decision"] for r in decisions] == ["waiting_for_recording", "call_deleted"]
    deleted = decisions[-1]
    assert deleted["reason"] == "The call was deleted in Aircall before it was imported."
    assert deleted["started_at"] == decisions[0]["started_at"]
    assert deleted["decided_at"] > decisions[0]["decided_at"]
    assert all(call["id"] not in run.ids("recordings") for run in syncs.runs)


def test_a_recording_the_storage_host_never_serves_is_given_up_after_a_day(
    sandbox: Sandbox, connector: Connector
) -> None:
    """Every GET of the file answers 503 (the downloader retries each with the CDK's
    backoff, about 15 s a sync): retried on later syncs for a day after the first failure,
    then given up as `recording_unavailable`. The connector believes an Aircall `Date` at
    most a day away from its own clock, so the 25 hours go from 2 hours back to 23 ahead."""
    syncs = Syncs(sandbox, connector, first_sync_max_calls=5)
    syncs.advance(-2 * 60)
    call = done_call(sandbox, user(sandbox, salescaling=True)["id"])
    sandbox.attach_recording(call["id"], fail_always=True)
    syncs.run()
    assert "imported" not in [r["decision"] for r in syncs.decisions().get(call["id"], [])]

    syncs.advance(25 * 60)
    for _ in range(2):
        syncs.run()
        if call["id"] in syncs.decisions():
            break
        syncs.advance(15)

    decisions = syncs.decisions().get(call["id"], [])
    values = [r["decision"] for r in decisions]
    assert values and values[-1] == "recording_unavailable", values
    assert "imported" not in values
    assert "given up" in decisions[-1]["reason"], decisions[-1]["reason"]
    assert all(call["id"] not in run.ids("recordings") for run in syncs.runs)
    served = sandbox.requests_log(host="storage", path=f"/recordings/{call['id']}.mp3")
    assert served and {r["status"] for r in served} == {503}
