"""What the day's `import_decisions` must end with, computed from the scenario alone (the
contract's "import_decisions" table; nothing here reads the connector's output).

Each done call a sync listed gets a record when it is first decided and again each time
its decision changes; the last record per call is its decision at the day's last sync:

- the agent is no Salescaling user, or no agent took the call: `not_a_salescaling_user`;
- importable but older than the first sync's cap: `left_behind_by_first_sync`;
- `recordings` must import it (``recordings_required``): `imported`; the contract allows
  it without asking (a recording later than the lookback, ``recordings_allowed``):
  `imported` or `no_recording`;
- its recording is over the limit: `recording_too_large` (or `no_recording` when that
  recording came later than the lookback);
- no recording at the last sync: `no_recording` for a call not answered or made on a
  number that does not record, else `waiting_for_recording` while the last sync is within
  `lookback_minutes` after the call ended and `no_recording` after (either, within
  ``EDGE`` seconds of that moment: the sync's clock runs on during it).

Every call of the day that is done at the last sync must have a record (each sync lists
every new call); a call of the history before the day has one only if the first sync
listed it, so it is checked only when it has one. The first sync stops listing once it
holds its newest `first_sync_max_calls` importable calls, so the calls it leaves behind
are usually not listed at all and get no `left_behind_by_first_sync` record (the
contract asks for a record only of a call a sync listed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from aircall_sandbox.scenario import DayScenario
from tests.day.oracle import DayExpectation, SyncConfig

IMPORTED = "imported"
WAITING = "waiting_for_recording"
NOT_A_SALESCALING_USER = "not_a_salescaling_user"
NO_RECORDING = "no_recording"
TOO_LARGE = "recording_too_large"
LEFT_BEHIND = "left_behind_by_first_sync"
EDGE = 120


@dataclass
class DecisionsExpectation:
    final: dict[int, frozenset[str]] = field(default_factory=dict)
    """Per done call, the decisions its last record may carry (one, or two at an edge)."""
    required: set[int] = field(default_factory=set)
    """Calls that must have a record: the day's calls done at the last sync."""


def expect_decisions(
    scenario: DayScenario,
    day: DayExpectation,
    configs: Sequence[SyncConfig],
    user_emails: Mapping[int, str],
    silent_number_ids: frozenset[int],
) -> DecisionsExpectation:
    last_time, last = day.sync_times[-1], configs[-1]
    expected = DecisionsExpectation()
    day_ids = {c.id for c in scenario.calls}
    for call in scenario.all_calls():
        # A call deleted during the day keeps the decision it had (its removal is judged
        # apart, tests/day/oracle_removals.py).
        deleted = call.deleted_at is not None and call.deleted_at <= last_time
        state = call.state_at(call.deleted_at - 1 if deleted and call.deleted_at else last_time)
        if state is None or state.status != "done":
            continue
        email = user_emails.get(call.user_id) if call.user_id is not None else None
        options: set[str]
        if email not in last.emails:
            options = {NOT_A_SALESCALING_USER}
        elif call.id in day.recordings_left_behind:
            options = {LEFT_BEHIND}
        elif call.id in day.recordings_required:
            options = {IMPORTED}
        elif call.id in day.recordings_allowed:
            options = {IMPORTED, NO_RECORDING}
        elif call.id in day.too_large_required:
            options = {TOO_LARGE}
        elif call.id in day.too_large_allowed:
            options = {TOO_LARGE, NO_RECORDING}
        elif call.answered_at is None or call.number_id in silent_number_ids:
            options = {NO_RECORDING}
        else:
            lookback_ends = call.ended_at + last.lookback_minutes * 60
            options = set()
            if last_time < lookback_ends + EDGE:
                options.add(WAITING)
            if last_time >= lookback_ends - EDGE:
                options.add(NO_RECORDING)
        expected.final[call.id] = frozenset(options)
        if call.id in day_ids:
            expected.required.add(call.id)
    return expected


@dataclass
class DecisionsVerdict:
    records: int = 0
    checked: int = 0
    """Calls whose last decision was compared with the oracle's."""
    finals: Counter[str] = field(default_factory=Counter)
    missing: list[int] = field(default_factory=list)
    wrong_final: list[tuple[int, list[str], str]] = field(default_factory=list)
    """(call id, the decisions the oracle allows, the last one emitted)."""
    repeated: list[tuple[int, int, str]] = field(default_factory=list)
    """(call id, sync, decision) of a record with the same decision as the one before."""
    unexpected: list[int] = field(default_factory=list)
    """Calls decided that were not done at the last sync (or are no call of the day)."""
    imported_not_in_recordings: list[int] = field(default_factory=list)
    recordings_not_imported: list[int] = field(default_factory=list)


def judge_decisions(
    expected: DecisionsExpectation,
    emitted: Sequence[tuple[int, Mapping[str, Any]]],
    recordings_emitted: set[int],
) -> DecisionsVerdict:
    verdict = DecisionsVerdict(records=len(emitted))
    history: dict[int, list[tuple[int, str]]] = {}
    for k, record in emitted:
        history.setdefault(int(record["call_id"]), []).append((k, str(record["decision"])))
    for call_id, decided in sorted(history.items()):
        for (_, before), (k, decision) in pairwise(decided):
            if decision == before:
                verdict.repeated.append((call_id, k, decision))
        final = decided[-1][1]
        verdict.finals[final] += 1
        options = expected.final.get(call_id)
        if options is None:
            verdict.unexpected.append(call_id)
            continue
        verdict.checked += 1
        if final not in options:
            verdict.wrong_final.append((call_id, sorted(options), final))
    verdict.missing = sorted(expected.required - history.keys())
    imported = {i for i, decided in history.items() if decided[-1][1] == IMPORTED}
    verdict.imported_not_in_recordings = sorted(imported - recordings_emitted)
    verdict.recordings_not_imported = sorted(recordings_emitted - imported)
    return verdict
