"""What a day of 15-minute syncs must emit, computed from the scenario alone.

The rules are the contract's ("Which records a sequence of syncs emits", and the
`calls` and `recordings` stream definitions); nothing here reads the connector's
output. Sync k runs at sandbox time ``T[k]`` and sees the account as the scenario
makes it at ``T[k]``: an event is ready at T when it happened at or before T.

Two kinds of expectations:
- *required*: the record must arrive, at the first sync at which it is ready (its delay
  in syncs is what the day reports);
- *allowed*: the contract neither asks for the record nor forbids it. This is the case of
  a change (a rewrite, a recording) that comes later after hang-up than the connector
  kept looking at some sync since the call ended (``lookback_minutes`` of that sync).
  The watch has to have lasted through every sync in between, so a raised
  ``lookback_minutes`` does not oblige the connector to reach back for a call it had
  already stopped watching, and a lowered one frees it at once.
No case needs a delay of a sync. The listing's half-open window (``from < started_at <=
to``) and the +1 s move of ``started_at`` can put a call just outside the part of the
window a sync lists, but the contract makes catching it the connector's job (its re-listed
overlap), and the account is held at ``T[k]`` during sync k, so nothing shows up mid-sync.

Anything else that arrives is unexpected: a `calls` record equal to the previous one
emitted for the same call, a call left behind by the first sync's cap, a recording that
is not eligible, a second record of a recording.
"""

from __future__ import annotations

import calendar
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aircall_sandbox.scenario import CallState, DayScenario, ScheduledCall
from tests.oracle import MIB, newest


@dataclass(frozen=True)
class SyncConfig:
    """The config fields the oracle needs, as the admin had set them for one sync."""

    lookback_minutes: int
    first_sync_max_calls: int
    max_recording_size_mb: int
    emails: frozenset[str]


@dataclass(frozen=True)
class CallView:
    """The `calls` record fields a day moves, in the record's own form."""

    started_at: int
    answered_at: int | None
    ended_at: int | None
    duration: int
    has_recording: bool
    status: str


def view_of_state(call: ScheduledCall, state: CallState) -> CallView:
    """The contract's mapping: `answered` when answered_at is set, else `missed` inbound and
    `failed` outbound (the day has no voicemail)."""
    if state.answered_at is not None:
        status = "answered"
    else:
        status = "missed" if call.direction == "inbound" else "failed"
    return CallView(
        started_at=state.started_at,
        answered_at=state.answered_at,
        ended_at=state.ended_at,
        duration=state.duration,
        has_recording=state.recording_size is not None,
        status=status,
    )


def _epoch(value: Any) -> int | None:
    if value is None:
        return None
    return calendar.timegm(time.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ"))


def view_of_record(record: Mapping[str, Any]) -> CallView:
    started = _epoch(record["started_at"])
    assert started is not None, f"call {record.get('id')} has no started_at"
    return CallView(
        started_at=started,
        answered_at=_epoch(record.get("answered_at")),
        ended_at=_epoch(record.get("ended_at")),
        duration=int(record["duration"]),
        has_recording=bool(record["has_recording"]),
        status=str(record["status"]),
    )


@dataclass
class DayExpectation:
    sync_times: list[int]
    views: dict[int, list[CallView | None]]
    """Per call, what `calls` would hold at each sync (None: not done or not listed yet)."""
    calls_required: dict[int, list[int]] = field(default_factory=dict)
    """Per call, the syncs at which a record must arrive (first done, then each change)."""
    calls_allowed: dict[int, list[int]] = field(default_factory=dict)
    calls_left_behind: set[int] = field(default_factory=set)
    calls_settled_checked: set[int] = field(default_factory=set)
    """Calls whose every change was required: their last record must be the settled call."""
    recordings_required: dict[int, int] = field(default_factory=dict)
    recordings_allowed: dict[int, int] = field(default_factory=dict)
    recordings_left_behind: set[int] = field(default_factory=set)
    recording_sizes: dict[int, int] = field(default_factory=dict)
    too_large_required: dict[int, int] = field(default_factory=dict)
    too_large_allowed: dict[int, int] = field(default_factory=dict)
    """Recordings over the size limit, timed like the eligible ones: one that came within
    the lookback is decided `recording_too_large`; a later one may stay `no_recording`."""
    stuck_ids: frozenset[int] = frozenset()


def _ready_sync(sync_times: Sequence[int], moment: int) -> int | None:
    """The first sync whose time is at or after ``moment``."""
    for k, t in enumerate(sync_times):
        if t >= moment:
            return k
    return None


def expect_day(
    scenario: DayScenario,
    sync_times: Sequence[int],
    configs: Sequence[SyncConfig],
    user_emails: Mapping[int, str],
) -> DayExpectation:
    """Every record the day must (or may) bring, and when; see the module docstring."""
    assert len(sync_times) == len(configs)
    calls = scenario.all_calls()
    views: dict[int, list[CallView | None]] = {}
    for call in calls:
        row: list[CallView | None] = []
        for t in sync_times:
            state = call.state_at(t)
            row.append(view_of_state(call, state) if state and state.status == "done" else None)
        views[call.id] = row
    expected = DayExpectation(list(sync_times), views, stuck_ids=scenario.stuck_ids)
    first = configs[0]

    def watched_for(call: ScheduledCall, since: int, until: int) -> tuple[int, int]:
        """(min, max) lookback in seconds over the syncs from ``since`` to ``until``."""
        spans = [configs[j].lookback_minutes * 60 for j in range(since, until + 1)]
        return min(spans), max(spans)

    # ---- calls
    done_at_first = [c for c in calls if views[c.id][0] is not None]
    kept = _newest(done_at_first, sync_times[0], first.first_sync_max_calls)
    expected.calls_left_behind = {c.id for c in done_at_first} - kept
    for call in calls:
        row = views[call.id]
        done_syncs = [k for k, v in enumerate(row) if v is not None]
        if not done_syncs or call.id in expected.calls_left_behind:
            continue
        k0 = done_syncs[0]
        required, allowed = [k0], []
        for k in range(k0 + 1, len(row)):
            if row[k] == row[k - 1]:
                continue
            moments = [
                m for m in call.changes_after_done() if sync_times[k - 1] < m <= sync_times[k]
            ]
            low, _ = watched_for(call, k0, k)
            if any(m - call.ended_at <= low for m in moments):
                required.append(k)
            else:
                allowed.append(k)
        expected.calls_required[call.id] = required
        if allowed:
            expected.calls_allowed[call.id] = allowed
        else:
            expected.calls_settled_checked.add(call.id)

    # ---- recordings
    def salescaling(call: ScheduledCall, config: SyncConfig) -> bool:
        email = user_emails.get(call.user_id) if call.user_id is not None else None
        return email in config.emails

    def within_limit(call: ScheduledCall, config: SyncConfig) -> bool:
        size = call.recording_size
        return size is not None and size <= config.max_recording_size_mb * MIB

    def eligible(call: ScheduledCall, config: SyncConfig) -> bool:
        return salescaling(call, config) and within_limit(call, config)

    ready_first = [
        c
        for c in calls
        if c.recording_at is not None
        and max(c.recording_at, c.visible_at) <= sync_times[0]
        and eligible(c, first)
    ]
    kept = _newest(ready_first, sync_times[0], first.first_sync_max_calls)
    expected.recordings_left_behind = {c.id for c in ready_first} - kept
    for call in calls:
        if call.recording_at is None or call.recording_size is None:
            continue
        k_ready = _ready_sync(sync_times, max(call.recording_at, call.visible_at))
        if k_ready is None or call.id in expected.recordings_left_behind:
            continue
        if not salescaling(call, configs[k_ready]):
            continue
        if within_limit(call, configs[k_ready]):
            expected.recording_sizes[call.id] = call.recording_size
            on_time, late = expected.recordings_required, expected.recordings_allowed
        else:
            on_time, late = expected.too_large_required, expected.too_large_allowed
        if k_ready == 0:
            on_time[call.id] = 0
            continue
        k_end = _ready_sync(sync_times, max(call.ended_at, call.visible_at))
        assert k_end is not None
        low, _ = watched_for(call, k_end, k_ready)
        if call.recording_at - call.ended_at <= low:
            on_time[call.id] = k_ready
        else:
            late[call.id] = k_ready
    return expected


def _newest(calls: Sequence[ScheduledCall], at: int, count: int) -> set[int]:
    """The first sync's cap (`tests.oracle.newest`) over the calls as served at ``at``:
    a scheduled call's started_at can change during the day."""

    def served(call: ScheduledCall) -> dict[str, int]:
        state = call.state_at(at)
        assert state is not None
        return {"id": call.id, "started_at": state.started_at}

    return newest([served(c) for c in calls], count)


# ----------------------------------------------------------------------- verdict
@dataclass
class Emitted:
    """What the syncs emitted, in order: (sync index, record data)."""

    calls: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    recordings: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@dataclass
class DayVerdict:
    calls_expected: int = 0
    calls_arrived: int = 0
    calls_missing_first: list[int] = field(default_factory=list)
    """Done calls that never arrived in `calls`."""
    calls_missing_changes: list[tuple[int, int]] = field(default_factory=list)
    """(call id, sync) of required changes that never reached `calls`."""
    calls_unchanged_again: list[tuple[int, int]] = field(default_factory=list)
    calls_unexpected: list[tuple[int, int]] = field(default_factory=list)
    """Emitted before the call was done, or a call left behind by the first sync's cap."""
    calls_not_as_served: list[tuple[int, int]] = field(default_factory=list)
    """A record that is not what Aircall served at that sync."""
    calls_stale_last: list[int] = field(default_factory=list)
    calls_delays: Counter[int] = field(default_factory=Counter)
    calls_late: list[tuple[int, int, int]] = field(default_factory=list)
    """(call id, sync it was due, delay in syncs) of records that arrived late."""
    recordings_expected: int = 0
    recordings_arrived: int = 0
    recordings_allowed_arrived: int = 0
    recordings_missing: list[int] = field(default_factory=list)
    recordings_duplicates: list[int] = field(default_factory=list)
    recordings_unexpected: list[int] = field(default_factory=list)
    recordings_wrong_size: list[int] = field(default_factory=list)
    recordings_delays: Counter[int] = field(default_factory=Counter)


def judge(expected: DayExpectation, emitted: Emitted) -> DayVerdict:
    """Compare what arrived with what had to; delays are in syncs (0: on time)."""
    verdict = DayVerdict()
    by_call: dict[int, list[tuple[int, CallView]]] = {}
    for k, record in emitted.calls:
        by_call.setdefault(int(record["id"]), []).append((k, view_of_record(record)))
    for call_id, arrivals in by_call.items():
        row = expected.views.get(call_id)
        previous: CallView | None = None
        for k, view in arrivals:
            if row is None or row[k] is None or call_id in expected.calls_left_behind:
                verdict.calls_unexpected.append((call_id, k))
            elif view != row[k]:
                verdict.calls_not_as_served.append((call_id, k))
            if previous is not None and view == previous:
                verdict.calls_unchanged_again.append((call_id, k))
            previous = view
    for call_id, required in expected.calls_required.items():
        verdict.calls_expected += len(required)
        arrivals = by_call.get(call_id, [])
        row = expected.views[call_id]
        for index, k in enumerate(required):
            fresh = [a for a, view in arrivals if a >= k and view == row[a]]
            if not fresh:
                if index == 0:
                    verdict.calls_missing_first.append(call_id)
                else:
                    verdict.calls_missing_changes.append((call_id, k))
                continue
            verdict.calls_arrived += 1
            verdict.calls_delays[fresh[0] - k] += 1
            if fresh[0] > k:
                verdict.calls_late.append((call_id, k, fresh[0] - k))
        if call_id in expected.calls_settled_checked and arrivals and arrivals[-1][1] != row[-1]:
            verdict.calls_stale_last.append(call_id)

    seen: Counter[int] = Counter()
    first_arrival: dict[int, int] = {}
    for k, record in emitted.recordings:
        call_id = int(record["call_id"])
        seen[call_id] += 1
        first_arrival.setdefault(call_id, k)
        size = expected.recording_sizes.get(call_id)
        if size is not None and int(record["size_bytes"]) != size:
            verdict.recordings_wrong_size.append(call_id)
    verdict.recordings_duplicates = sorted(i for i, n in seen.items() if n > 1)
    allowed = expected.recordings_required.keys() | expected.recordings_allowed.keys()
    verdict.recordings_unexpected = sorted(i for i in seen if i not in allowed)
    verdict.recordings_expected = len(expected.recordings_required)
    for call_id, k in expected.recordings_required.items():
        if call_id not in first_arrival:
            verdict.recordings_missing.append(call_id)
            continue
        verdict.recordings_arrived += 1
        verdict.recordings_delays[first_arrival[call_id] - k] += 1
    verdict.recordings_allowed_arrived = sum(
        1 for i in expected.recordings_allowed if i in first_arrival
    )
    return verdict
