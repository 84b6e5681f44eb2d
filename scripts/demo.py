"""`make demo`: a real sync, end to end, against the bundled Aircall sandbox.

Starts the sandbox (Aircall AI on), runs check, discover, a first read of every stream
(recordings with their files, the five Aircall AI streams, import_decisions), makes new
calls happen (and an agent tags and comments a call after it ended), runs a second read
from the first one's state, and prints what a person wants to know: counts per stream,
the import report, what Aircall AI cost in requests, a transcript excerpt and a summary
of one call, the tags and comments of a call, and the import decisions per value with an
example reason each. Then a customer deletes a recording and a call in Aircall, and a
third read, the sandbox's clock 20 hours on, reports them (docs/removals.md).
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

from aircall_sandbox.testing import Sandbox
from tests.harness import AI_STREAMS, Connector, ConnectorRun, catalog

ROOT = Path(__file__).resolve().parent.parent

WORKDIR = ROOT / ".demo"

# The sandbox's limit and the connector's pace are the same, so that the demo shows the
# pacing keeping under the limit (no 429) without the minutes a real 60 a minute takes.
RATE_PER_MINUTE = 1000

UTTERANCES_SHOWN = 4
WIDTH = 92


def one_line(text: Any, width: int = WIDTH) -> str:
    return textwrap.shorten(" ".join(str(text or "").split()), width=width, placeholder=" ...")


def describe_read(title: str, run: ConnectorRun, staging: Path) -> list[str]:
    lines = [f"{title} ({run.seconds:.1f} s, exit code {run.returncode})"]
    for stream in ("users", "calls", "recordings", *AI_STREAMS, "import_decisions"):
        lines.append(f"  {stream:<16} {len(run.records(stream)):>5} records")
    files = [m["record"].get("file_reference") for m in run.record_messages("recordings")]
    written = [f for f in files if f]
    size = sum(f["file_size_bytes"] for f in written)
    lines.append(
        f"  recordings written: {len(written)} files, {size / 1_048_576:.1f} MiB in {staging / 'recordings'}"
    )
    report: dict[str, Any] | None = run.import_report()
    if report:
        lines.append(f"  imported {report['imported']}; skipped, by reason:")
        for reason, count in report["skipped"].items():
            lines.append(
                f"    {reason:<40} {count:>4}  e.g. calls {report['skipped_call_ids'][reason][:5]}"
            )
        if report["agent_emails_not_salescaling_users"]:
            emails = ", ".join(report["agent_emails_not_salescaling_users"][:6])
            lines.append(f"    agent emails that are not Salescaling users: {emails}")
        if report["oversize_recordings"]:
            sizes = ", ".join(
                f"{call_id} ({size / 1_048_576:.0f} MiB)"
                for call_id, size in report["oversize_recordings"].items()
            )
            lines.append(f"    recordings over the limit: {sizes}")
        lines.append(
            f"  still waiting (in progress, or recording not ready): {report['waiting_for_recording_or_end']}"
        )
    lines += describe_insights(run)
    lines += describe_decisions(run)
    rate_limited = sum("HTTP 429" in line for line in run.logs())
    lines.append(f"  answers 429 (rate limit) retried: {rate_limited}")
    for error in run.errors():
        lines.append(f"  ERROR: {error.get('message')}")
    return lines


def describe_insights(run: ConnectorRun) -> list[str]:
    lines = [
        "  Aircall AI (the transcription first, then one request per imported call and "
        "stream; more only while waiting):"
    ]
    for stream in AI_STREAMS:
        report = run.insights_report(stream)
        if report is None:
            continue
        if report["aircall_ai_unavailable"]:
            lines.append(f"    {stream:<16} unavailable: {report['aircall_ai_unavailable']}")
            continue
        lines.append(
            f"    {stream:<16} {report['requests']:>4} requests, {report['emitted']:>4} emitted, "
            f"{report['waiting']:>3} still waiting, {report['dropped_at_end_of_lookback']:>3} "
            "dropped (none came within insights_lookback_minutes)"
            + (
                f", {report['asks_left_for_later']} asks left for the next syncs"
                if report.get("asks_left_for_later")
                else ""
            )
        )
    return lines if len(lines) > 1 else []


def describe_call_insights(run: ConnectorRun) -> list[str]:
    """A transcript excerpt and the summary of the newest call that has both."""
    summaries = {record["call_id"]: record for record in run.records("summaries")}
    transcripts = [
        record
        for record in run.records("transcriptions")
        if record["call_id"] in summaries and record["utterances"]
    ]
    if not transcripts:
        return ["no call with both a transcription and a summary"]
    transcript = max(transcripts, key=lambda record: (record["started_at"], record["call_id"]))
    call_id = transcript["call_id"]
    utterances = transcript["utterances"]
    lines = [
        f"call {call_id} (started {transcript['started_at']}, {transcript['type']}, "
        f"language {transcript['language']}): {len(utterances)} utterances, the first "
        f"{min(UTTERANCES_SHOWN, len(utterances))}:"
    ]
    for utterance in utterances[:UTTERANCES_SHOWN]:
        speaker = utterance["participant_type"]
        lines.append(
            f"  {utterance['start_time']:>6.1f} s  {speaker:<14} "
            f"{one_line(utterance['text'], WIDTH - 26)}"
        )
    lines.append(f"  summary: {one_line(summaries[call_id]['content'], 200)}")
    for stream, show in (
        ("topics", show_topics),
        ("sentiments", show_sentiments),
        ("action_items", show_action_items),
        ("playbook_results", show_playbook_result),
        ("predicted_csat", show_predicted_csat),
    ):
        found = [record for record in run.records(stream) if record["call_id"] == call_id]
        text = show(found[0]) if found else "(none from Aircall AI for this call)"
        lines.append(f"  {stream}: {one_line(text, WIDTH)}")
    return lines


def describe_tags_and_comments(run: ConnectorRun, call_id: int) -> list[str]:
    """A call's tags and comments as `calls` carries them (people add them after the call)."""
    records = [record for record in run.records("calls") if record["id"] == call_id]
    if not records:
        return [f"call {call_id}: not in this read's calls"]
    record = records[-1]
    lines = [
        f"call {call_id} in calls: {len(record['tags'])} tags, {len(record['comments'])} comments"
    ]
    for tag in record["tags"]:
        by = ((tag["tagged_by"] or {}).get("email") or "(unknown)").strip()
        lines.append(f"  tag {tag['name']!r} by {by} at {tag['tagged_at']}")
    for comment in record["comments"]:
        by = ((comment["posted_by"] or {}).get("email") or "(unknown)").strip()
        lines.append(
            f"  comment by {by} at {comment['posted_at']}: {one_line(comment['content'], 60)}"
        )
    return lines


def show_topics(record: dict[str, Any]) -> str:
    return ", ".join(record["topics"] or [])


def show_sentiments(record: dict[str, Any]) -> str:
    return ", ".join(f"{p['type']} {p['value']}" for p in record["participants"] or [])


def show_action_items(record: dict[str, Any]) -> str:
    return "; ".join(item["content"] for item in record["action_items"] or [])


def show_playbook_result(record: dict[str, Any]) -> str:
    playbook = (record["playbook"] or {}).get("name") or "(no playbook)"
    topics = ", ".join(
        f"{topic['name']} {'yes' if topic['result'] is True else 'no'}"
        for topic in record["topics"] or []
    )
    return f"{playbook}, adherence {record['adherence_score']}: {topics}"


def show_predicted_csat(record: dict[str, Any]) -> str:
    drivers = ", ".join(f"{d['polarity']} {d['label']}" for d in record["drivers"] or [])
    return f"{record['score']} ({drivers})"


def describe_decisions(run: ConnectorRun) -> list[str]:
    decisions = run.records("import_decisions")
    if not decisions:
        return []
    counts = Counter(record["decision"] for record in decisions)
    examples: dict[str, str] = {}
    for record in decisions:
        examples.setdefault(record["decision"], record["reason"])
    lines = ["  import decisions, by decision (one example reason each):"]
    for decision, count in counts.most_common():
        lines.append(f"    {decision:<26} {count:>4}")
        lines += textwrap.wrap(
            f"e.g. {examples[decision]}",
            width=WIDTH,
            initial_indent=" " * 6,
            subsequent_indent=" " * 11,
        )
    return lines


def consistency(first: ConnectorRun, second: ConnectorRun) -> tuple[list[str], bool]:
    """What the contract promises between the streams, checked on the two reads."""
    runs = (first, second)
    recordings = [call_id for run in runs for call_id in run.ids("recordings")]
    imported = {
        record["call_id"]
        for run in runs
        for record in run.records("import_decisions")
        if record["decision"] == "imported"
    }
    twice = len(recordings) - len(set(recordings))
    outside = {
        stream: len({call_id for run in runs for call_id in run.ids(stream)} - set(recordings))
        for stream in AI_STREAMS
    }
    ai_twice = sum(
        len(ids) - len(set(ids))
        for ids in ([i for run in runs for i in run.ids(stream)] for stream in AI_STREAMS)
    )
    lines = [
        f"recordings imported twice across the two reads: {twice}",
        f"Aircall AI records emitted twice across the two reads: {ai_twice}",
        "Aircall AI records of calls that recordings did not import: "
        + ", ".join(f"{stream} {count}" for stream, count in outside.items()),
        f"calls decided 'imported' = calls in recordings: {imported == set(recordings)}",
    ]
    ok = twice == 0 and ai_twice == 0 and not any(outside.values()) and imported == set(recordings)
    return lines, ok


def remove_and_report(
    sandbox: Sandbox,
    connector: Connector,
    config: dict[str, Any],
    everything: dict[str, Any],
    first: ConnectorRun,
    second: ConnectorRun,
) -> tuple[list[str], bool]:
    """A customer deletes the recording of one imported call and a whole other one; the
    next read, 20 hours later on the sandbox's clock (the re-check looks at every
    imported call again within a day), reports each once."""
    now = sandbox.now()
    starts = {c["id"]: int(c["started_at"]) for c in sandbox.calls()}
    # Still in the import window 20 hours on, and older than what every read re-lists.
    old = [i for i in first.ids("recordings") if now - 5 * 86_400 < starts[i] < now - 3 * 3600]
    recording_gone, call_gone = old[0], old[1]
    sandbox.remove_recording(recording_gone)
    sandbox.delete_call(call_gone)
    sandbox.set_clock_offset(20 * 3600)
    merged = {s["stream"]["stream_descriptor"]["name"]: s for s in first.states()}
    merged.update((s["stream"]["stream_descriptor"]["name"], s) for s in second.states())
    third = connector.run("read", config, everything, state=list(merged.values()))
    decisions = [
        (r["call_id"], r["reason"])
        for r in third.records("import_decisions")
        if r["decision"] == "removed_in_aircall"
    ]
    deleted = {
        stream: [
            r["id" if stream == "calls" else "call_id"]  # the AI records' `id` is Aircall's
            for r in third.records(stream)
            if r.get("_ab_cdc_deleted_at") is not None
        ]
        for stream in ("calls", "recordings", *AI_STREAMS)
    }
    lines = [
        f"removed in Aircall: the recording of call {recording_gone}, the whole call {call_gone}",
        f"third read, 20 hours later ({third.seconds:.1f} s, exit code {third.returncode}):",
        *(f"  import_decisions removed_in_aircall: {i}: {one_line(r, 70)}" for i, r in decisions),
        *(f"  {s:<16} _ab_cdc_deleted_at set: {ids}" for s, ids in deleted.items() if ids),
        "  recordings (files in this connection): no deletion record; the records connection"
        " carries the signal",
    ]
    ok = (
        third.returncode == 0
        and sorted(i for i, _ in decisions) == sorted([recording_gone, call_gone])
        and deleted["calls"] == [call_gone]
        and deleted["recordings"] == []
    )
    return lines, ok


def main() -> int:
    shutil.rmtree(WORKDIR, ignore_errors=True)
    with Sandbox(seed=7, users=8, calls=300, days=14, rate_limit=RATE_PER_MINUTE) as sandbox:
        connector = Connector(api_url=sandbox.api_url, workdir=WORKDIR, process=True)
        config = sandbox.config(requests_per_minute=RATE_PER_MINUTE)
        print(f"Aircall sandbox at {sandbox.api_url} (recordings on {sandbox.storage_url})")

        check = connector.run("check", config)
        status = check.connection_status()
        print(f"check: {status['status']} {status.get('message') or ''}".rstrip())
        discover = connector.run("discover", config)
        streams = [s["name"] for s in discover.of_type("CATALOG")[0]["catalog"]["streams"]]
        print(f"discover: {', '.join(streams)}")

        # A Salescaling user's call that ended 3 minutes ago, its recording not there yet:
        # decided `waiting_for_recording` now, `imported` once the recording comes.
        agent = next(user for user in sandbox.users() if user["salescaling"])
        late = sandbox.add_calls(
            1, status="done", recording=False, answered=True, user_id=agent["id"],
            started_ago_seconds=300, duration=120,
        )[0]  # fmt: skip

        everything = catalog(streams, include_files=True)
        first = connector.run("read", config, everything)
        summary = describe_read("first read", first, connector.staging)

        finished = [
            sandbox.finish_call(call["id"], recording=True)
            for call in sandbox.calls()
            if call["status"] != "done"
        ]
        added = sandbox.add_calls(5, status="done", recording=True, started_ago_seconds=600)
        sandbox.attach_recording(late["id"])
        # Agents tag and comment a call after it ended: Aircall rewrites the call.
        sandbox.add_tag(late["id"], "Demo booked")
        sandbox.add_comment(late["id"], "Wants a demo on Thursday:\n- 15 seats\n- annual plan")
        print(
            f"sandbox: {len(added)} new calls, {len(finished)} in-progress calls finished, "
            f"the recording of call {late['id']} appeared, an agent tagged and commented it"
        )

        second = connector.run("read", config, everything, state=first.states())
        summary += describe_read(
            "second read (from the first read's state)", second, connector.staging
        )
        removals = remove_and_report(sandbox, connector, config, everything, first, second)

    print()
    print("\n".join(summary))
    print()
    print("\n".join(describe_call_insights(first)))
    history = [
        f"{record['decision']} ({name})"
        for name, run in (("first read", first), ("second read", second))
        for record in run.records("import_decisions")
        if record["call_id"] == late["id"]
    ]
    print(f"import decisions of call {late['id']}, its recording late: {' -> '.join(history)}")
    print("\n".join(describe_tags_and_comments(second, late["id"])))
    print()
    checks, consistent = consistency(first, second)
    print("\n".join(checks))
    ok = (
        first.returncode == 0
        and second.returncode == 0
        and status["status"] == "SUCCEEDED"
        and consistent
    )
    print()
    removal_lines, removals_ok = removals
    print("\n".join(removal_lines))
    ok = ok and removals_ok
    print("demo: OK" if ok else "demo: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
