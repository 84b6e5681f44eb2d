"""Removed in Aircall: a recording or a call that a customer deletes after Salescaling
imported it is reported once, by the first sync that finds it, within a day; never a
call that was not imported (docs/removals.md). Time passes on the sandbox's clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, ConnectorRun, SyncSequence, catalog

STREAMS = ["calls", "recordings", "import_decisions", "transcriptions"]
DELETED_AT = "_ab_cdc_deleted_at"


def removals(runs: list[ConnectorRun], stream: str) -> list[dict[str, Any]]:
    if stream == "import_decisions":
        return [
            r for run in runs for r in run.records(stream) if r["decision"] == "removed_in_aircall"
        ]
    return [r for run in runs for r in run.records(stream) if r.get(DELETED_AT) is not None]


def key(stream: str) -> str:
    return "id" if stream == "calls" else "call_id"


def imported_older_than(
    run: ConnectorRun, sandbox: Sandbox, seconds: int, with_ai: bool = False
) -> list[int]:
    """Calls the run imported (`with_ai`: and transcribed) that started at least `seconds`
    before now, oldest last."""
    now = sandbox.now()
    starts = {c["id"]: int(c["started_at"]) for c in sandbox.calls()}
    transcribed = set(run.ids("transcriptions"))
    return sorted(
        (
            i
            for i in run.ids("recordings")
            if (i in transcribed or not with_ai) and starts[i] <= now - seconds
        ),
        key=lambda i: -starts[i],
    )


def config() -> dict[str, Any]:
    return {"import_window_days": 3, "first_sync_max_calls": 10_000, "lookback_minutes": 60}


def test_a_deleted_recording_and_a_deleted_call_are_each_reported_once_within_a_day(
    sandbox: Sandbox, connector: Connector
) -> None:
    sequence = SyncSequence(sandbox, connector, catalog(STREAMS, include_files=False), **config())
    first = sequence.run()
    recording_gone, call_gone = imported_older_than(first, sandbox, 6 * 3600, with_ai=True)[:2]
    imported = set(first.ids("recordings"))
    never_imported = next(
        c["id"]
        for c in sandbox.calls()
        if c["id"] not in imported and int(c["started_at"]) > sandbox.now() - 2 * 86_400
    )
    sequence.advance(60)
    sandbox.remove_recording(recording_gone)
    sandbox.delete_call(call_gone)
    sandbox.delete_call(never_imported)

    for sync in range(12):  # a sync every 2 hours, the last 22 hours after the deletions
        if sync:
            sequence.advance(120)
        sequence.run()

    later = sequence.runs[1:]
    for stream in ("recordings", "transcriptions", "import_decisions"):
        reported = sorted(r[key(stream)] for r in removals(later, stream))
        assert reported == sorted([recording_gone, call_gone]), stream
    assert [r["id"] for r in removals(later, "calls")] == [call_gone]
    again = [r for run in later for r in run.records("calls") if r["id"] == recording_gone]
    assert [r["has_recording"] for r in again] == [False]
    first_started = {r["call_id"]: r["started_at"] for r in first.records("recordings")}
    for record in removals(later, "recordings"):
        assert record["started_at"] == first_started[record["call_id"]]  # the cursor as it was
        assert record["file_name"] is None
    decisions = {r["call_id"]: r["reason"] for r in removals(later, "import_decisions")}
    assert "recording was deleted" in decisions[recording_gone]
    assert "call was deleted" in decisions[call_gone]
    every_id = [r[key(s)] for s in STREAMS for run in later for r in run.records(s)]
    assert never_imported not in every_id


def committed(run: ConnectorRun, stream: str) -> list[dict[str, Any]]:
    """The records of `stream` that a STATE of the stream followed: what Airbyte commits.
    Records after a stream's last STATE in a killed run are sent again by the next run."""
    kept: list[dict[str, Any]] = []
    waiting: list[dict[str, Any]] = []
    for message in run.messages:
        if message.get("type") == "RECORD" and message["record"]["stream"] == stream:
            waiting.append(message["record"]["data"])
        elif message.get("type") == "STATE":
            name = message["state"]["stream"]["stream_descriptor"]["name"]
            if name == stream:
                kept.extend(waiting)
                waiting = []
    return kept if run.killed else kept + waiting


def test_a_sync_killed_during_the_recheck_loses_no_removal_and_reports_none_twice(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    connector = Connector(api_url=sandbox.api_url, workdir=tmp_path)
    streams = ["calls", "recordings", "import_decisions"]
    sequence = SyncSequence(sandbox, connector, catalog(streams, include_files=False), **config())
    first = sequence.run()
    gone = imported_older_than(first, sandbox, 6 * 3600)[:3]
    sequence.advance(60)
    sequence.run()  # the pass starts below this sync's listing
    sandbox.remove_recording(gone[0])
    sandbox.delete_call(gone[1])
    sandbox.delete_call(gone[2])
    # 20 hours later (Aircall's clock is believed up to a day from the machine's): this
    # sync's slice is the rest of the pass, as 20 hours passed since it started.
    sequence.advance(20 * 60)

    runs: list[ConnectorRun] = []
    for kill_after in (1, 2, None):  # killed after its first record, then its second
        run = connector.run(
            "read",
            sandbox.config(**config()),
            catalog(streams, include_files=False),
            state=sequence.state,
            kill_after_records=kill_after,
        )
        runs.append(run)
        merged = {s["stream"]["stream_descriptor"]["name"]: s for s in sequence.state or []}
        merged.update((s["stream"]["stream_descriptor"]["name"], s) for s in run.states())
        sequence.state = list(merged.values())
    assert runs[0].killed and runs[-1].returncode == 0

    recordings = [
        r["call_id"] for run in runs for r in committed(run, "recordings") if r.get(DELETED_AT)
    ]
    decisions = [
        r["call_id"]
        for run in runs
        for r in committed(run, "import_decisions")
        if r["decision"] == "removed_in_aircall"
    ]
    calls = [r["id"] for run in runs for r in committed(run, "calls") if r.get(DELETED_AT)]
    assert sorted(recordings) == sorted(gone)
    assert sorted(decisions) == sorted(gone)
    assert sorted(calls) == sorted(gone[1:])


def test_file_mode_emits_no_deletion_record(sandbox: Sandbox, connector: Connector) -> None:
    files = catalog(["recordings"], include_files=True)
    sequence = SyncSequence(sandbox, connector, files, **config())
    first = sequence.run()
    gone = imported_older_than(first, sandbox, 6 * 3600)[0]
    sequence.advance(60)
    sequence.run()
    sandbox.delete_call(gone)
    sequence.advance(20 * 60)

    after = sequence.run()

    assert all(m["record"].get("file") for m in after.record_messages("recordings"))
    assert removals([after], "recordings") == []
    assert all("emitted" not in (s["stream"].get("stream_state") or {}) for s in after.states())


def test_an_ai_stream_whose_checkpoint_was_lost_still_reports_the_removal(
    sandbox: Sandbox, connector: Connector
) -> None:
    """A sync that found a removal stopped after `calls` and `recordings` saved their
    states, before `import_decisions` and `transcriptions` did (or a destination committed
    the first two states and not the others): `transcriptions`' list was saved beside an
    older `recordings` list, which no longer holds the removed call. It still reports the
    removal, once."""
    sequence = SyncSequence(sandbox, connector, catalog(STREAMS, include_files=False), **config())
    first = sequence.run()
    gone = imported_older_than(first, sandbox, 6 * 3600, with_ai=True)[0]
    sequence.advance(60)
    before = {s["stream"]["stream_descriptor"]["name"]: s for s in sequence.run().states()}
    sandbox.remove_recording(gone)
    sequence.advance(20 * 60)
    found = sequence.run()
    assert [r["call_id"] for r in removals([found], "transcriptions")] == [gone]

    saved = {s["stream"]["stream_descriptor"]["name"]: s for s in found.states()}
    saved["transcriptions"] = before["transcriptions"]
    saved["import_decisions"] = before["import_decisions"]
    sequence.state = list(saved.values())
    sequence.advance(15)
    again = sequence.run()

    assert [r["call_id"] for r in removals([again], "transcriptions")] == [gone]
    assert [r["call_id"] for r in removals([again], "import_decisions")] == [gone]
    assert removals([again], "recordings") == []  # reported once, by the sync that found it
    assert any("another version of recordings" in line for line in again.logs("WARN"))


def test_an_ai_stream_reports_no_removal_of_a_call_whose_insight_it_never_emitted(
    sandbox: Sandbox, connector: Connector
) -> None:
    """`transcriptions` keeps its calls as a bit for each call of `recordings`' list: a call
    imported but never transcribed is a 0 there, and its deletion is not its to report."""
    sequence = SyncSequence(sandbox, connector, catalog(STREAMS, include_files=False), **config())
    first = sequence.run()
    transcribed = set(first.ids("transcriptions"))
    untranscribed = [
        i for i in imported_older_than(first, sandbox, 6 * 3600) if i not in transcribed
    ]
    gone = untranscribed[0]
    sequence.advance(60)
    sequence.run()
    sandbox.delete_call(gone)
    sequence.advance(20 * 60)
    found = sequence.run()

    assert [r["call_id"] for r in removals([found], "recordings")] == [gone]
    assert removals([found], "transcriptions") == []
