"""Which removals the day must report, computed from the scenario alone (the contract's
"Removed in Aircall"; nothing here reads the connector's output).

The day's scenario deletes, 20 minutes into the day, the recording of one history call
of a Salescaling user, a whole other such call, and a call of someone else's
(`aircall_sandbox.scenario._with_deletions`). A call imported before its deletion
(``DayExpectation.recordings_required``, at a sync before the moment) must be reported
once, within the day (the re-check looks at every imported call again within a day):

- `import_decisions`: one `removed_in_aircall` record;
- `calls`, where it emitted the call (its own first-sync cap counts every done call, so
  it may have left an imported call behind): a deleted call once with
  `_ab_cdc_deleted_at`; a call whose recording alone was deleted once more with
  `has_recording` false;
- each Aircall AI stream that emitted the call: one record with `_ab_cdc_deleted_at`
  (`recordings` is read with its files in the day: it reports nothing, by the contract).

A call not imported is never reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aircall_sandbox.scenario import DayScenario
from tests.day.oracle import DayExpectation


@dataclass
class RemovalsExpectation:
    required: dict[int, bool] = field(default_factory=dict)
    """Imported calls removed during the day -> True: the whole call, False: its recording."""
    never: set[int] = field(default_factory=set)
    """Calls deleted during the day that were not imported."""
    moments: dict[int, int] = field(default_factory=dict)


def expect_removals(scenario: DayScenario, day: DayExpectation) -> RemovalsExpectation:
    last = day.sync_times[-1]
    expected = RemovalsExpectation()
    for call in scenario.all_calls():
        moment = call.deleted_at if call.deleted_at is not None else call.recording_deleted_at
        if moment is None or moment > last:
            continue
        expected.moments[call.id] = moment
        imported_at = day.recordings_required.get(call.id)
        if imported_at is not None and day.sync_times[imported_at] < moment:
            expected.required[call.id] = call.deleted_at is not None
        else:
            expected.never.add(call.id)
    return expected


@dataclass
class RemovalsVerdict:
    reported: dict[str, list[int]] = field(default_factory=dict)
    missing: dict[str, list[int]] = field(default_factory=dict)
    twice: dict[str, list[int]] = field(default_factory=dict)
    unexpected: dict[str, list[int]] = field(default_factory=dict)


def judge_removals(
    expected: RemovalsExpectation,
    reported: Mapping[str, Sequence[tuple[int, int]]],
    emitted_before: Mapping[str, set[int]],
) -> RemovalsVerdict:
    """`reported`: per stream, (sync, call id) of each removal it reported; for `calls`
    also the records `has_recording` false of calls whose recording was deleted.
    `emitted_before`: per stream but `import_decisions`, the calls it emitted (a removal
    is due only there)."""
    verdict = RemovalsVerdict()
    for stream, found in reported.items():
        ids = [call_id for _, call_id in found]
        if stream == "import_decisions":
            wanted = set(expected.required)
        else:
            wanted = set(expected.required) & emitted_before.get(stream, set())
        verdict.reported[stream] = sorted(ids)
        verdict.missing[stream] = sorted(wanted - set(ids))
        verdict.twice[stream] = sorted({i for i in ids if ids.count(i) > 1})
        verdict.unexpected[stream] = sorted(set(ids) - wanted)
    return verdict


def removal_of(stream: str, record: Mapping[str, Any], recording_gone: set[int]) -> int | None:
    """The call a record reports removed, if it is a removal record: any record with
    `_ab_cdc_deleted_at`, a `removed_in_aircall` decision, or (`calls`) a record without
    recording of a call whose recording was deleted."""
    key = "id" if stream == "calls" else "call_id"
    if record.get("_ab_cdc_deleted_at") is not None:
        return int(record[key])
    if stream == "import_decisions" and record.get("decision") == "removed_in_aircall":
        return int(record[key])
    if stream == "calls" and int(record[key]) in recording_gone and not record["has_recording"]:
        return int(record[key])
    return None
