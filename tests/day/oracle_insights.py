"""What the day's nine Aircall AI streams must emit, and what they may ask, computed from
the scenario alone (the contract's "Aircall AI" and "Which records a sequence of syncs
emits"; nothing here reads the connector's output).

Which calls: those `recordings` imports (``DayExpectation.recordings_required``, at the
sync that imports them). A call's insight is asked at that sync, then again on later
syncs until ``insights_lookback_minutes`` after the call ended, the last ask in the
lookback's last 15 minutes. So, for each imported call and resource, with ``ready`` the
moment the sandbox starts answering 200 and ``deadline = ended_at + lookback``:

- *required* (exactly once): ``ready`` at or before the import sync (the first ask finds
  it), or ``ready <= deadline - 15 min`` with that moment reached within the day (the
  last ask, at or after it, finds it);
- *uncounted* (may or may not arrive, at most once): ready in the lookback's last 15
  minutes, ready after the deadline but before the import sync (a call imported late,
  such as the day's history), ready before the deadline whose last ask comes after the
  day's last sync, and every insight of a call whose recording the contract allows
  without asking for it (``recordings_allowed``);
- anything else must not arrive: a call not imported, an insight that never comes, or
  one that comes after the deadline and after the import sync.

Every other insight comes from the transcription (minutes after it, never before), so
the connector's gate (the transcription asked first) changes none of these rules: an
insight ready by the last ask has its transcription ready by then too, and the sync
that finds the transcription asks for the rest.

Requests (from the sandbox's log): at most 5 per call per stream in all, at most one per
call per stream in a sync. Figures (not rules): the AI requests per imported call per
AI stream, and the share of required insights that arrived on the first sync at or
after they became ready.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aircall_sandbox.scenario import DayScenario
from tests.day.oracle import DayExpectation

# Stream -> the Aircall resource it reads (`GET /v1/calls/{id}/<resource>`).
AI_STREAMS: dict[str, str] = {
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
INSIGHT_PATH = r"/v1/calls/\d+/(" + "|".join(AI_STREAMS.values()) + ")"
LAST_ASK_WINDOW = 15 * 60
MAX_ASKS_PER_CALL = 5
DEFAULT_INSIGHTS_LOOKBACK_MINUTES = 180


@dataclass
class InsightsExpectation:
    required: dict[str, dict[int, int]] = field(default_factory=dict)
    """Per stream, per call: the first sync at which the insight can arrive."""
    uncounted: dict[str, set[int]] = field(default_factory=dict)


def expect_insights(
    scenario: DayScenario,
    day: DayExpectation,
    lookback_minutes: int = DEFAULT_INSIGHTS_LOOKBACK_MINUTES,
) -> InsightsExpectation:
    times = day.sync_times
    lookback = lookback_minutes * 60
    calls = {c.id: c for c in scenario.all_calls()}
    expected = InsightsExpectation()
    for stream, resource in AI_STREAMS.items():
        required = expected.required.setdefault(stream, {})
        uncounted = expected.uncounted.setdefault(stream, set())
        for call_id, k_import in day.recordings_required.items():
            call = calls[call_id]
            ready = call.insight_ready_at(resource)
            if ready is None or ready > times[-1]:
                continue
            deadline = call.ended_at + lookback
            last_ask = deadline - LAST_ASK_WINDOW
            if ready <= times[k_import]:
                if ready <= last_ask:
                    required[call_id] = k_import
                else:
                    uncounted.add(call_id)  # asked once, late: found, or let go
            elif ready <= last_ask and last_ask <= times[-1]:
                required[call_id] = _first_sync_at_or_after(times, ready)
            elif ready <= deadline:
                uncounted.add(call_id)
        for call_id in day.recordings_allowed:
            ready = calls[call_id].insight_ready_at(resource)
            if ready is not None and ready <= times[-1]:
                uncounted.add(call_id)
    return expected


def _first_sync_at_or_after(times: Sequence[int], moment: int) -> int:
    return next(k for k, t in enumerate(times) if t >= moment)


@dataclass
class InsightsVerdict:
    expected: dict[str, int] = field(default_factory=dict)
    arrived: dict[str, int] = field(default_factory=dict)
    uncounted_arrived: dict[str, int] = field(default_factory=dict)
    missing: dict[str, list[int]] = field(default_factory=dict)
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    unexpected: dict[str, list[int]] = field(default_factory=dict)
    """Arrived for a call not imported, or when the contract forbids it."""
    not_imported: dict[str, list[int]] = field(default_factory=dict)
    """Arrived for a call id that `recordings` never emitted."""
    delays: dict[str, Counter[int]] = field(default_factory=dict)
    """Syncs between the first one that could bring a required insight and the one that
    did (a figure only: the schedule of asks makes later ones normal)."""
    requests_over_total: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """(call id, requests) of calls asked more than 5 times."""
    requests_twice_in_a_sync: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """(call id, sync) where a call was asked more than once in one sync."""
    requests_total: dict[str, int] = field(default_factory=dict)
    requests_max: dict[str, int] = field(default_factory=dict)
    requests_mean: dict[str, float] = field(default_factory=dict)
    """Per call asked at least once."""
    calls_asked: int = 0
    """Calls asked about at least one resource: the imported calls that reached AI."""

    def requests_per_call_per_stream(self, streams: Sequence[str] | None = None) -> float:
        """The AI requests of `streams` (every AI stream unless told) / (calls asked x
        those streams): the cost figure."""
        chosen = streams if streams is not None else list(self.requests_total)
        total = sum(self.requests_total[s] for s in chosen)
        return round(total / max(1, self.calls_asked * len(chosen)), 2)

    def on_time_share(self, streams: Sequence[str] | None = None) -> float:
        """Required insights that arrived on the first sync at or after they became
        ready, over those that arrived (percent)."""
        chosen = streams if streams is not None else list(self.delays)
        arrived = sum(sum(self.delays[s].values()) for s in chosen)
        on_time = sum(self.delays[s][0] for s in chosen)
        return round(100 * on_time / max(1, arrived), 1)


def judge_insights(
    expected: InsightsExpectation,
    emitted: Mapping[str, Sequence[tuple[int, int]]],
    recordings_emitted: set[int],
    requests: Sequence[Sequence[tuple[str, int]]],
) -> InsightsVerdict:
    """``emitted``: per stream, (sync, call id) in order; ``requests``: per sync, the
    (stream, call id) of each insight request the sandbox received."""
    verdict = InsightsVerdict()
    verdict.calls_asked = len({call_id for asked in requests for _, call_id in asked})
    for stream in AI_STREAMS:
        required = expected.required.get(stream, {})
        uncounted = expected.uncounted.get(stream, set())
        arrivals = emitted.get(stream, [])
        seen = Counter(call_id for _, call_id in arrivals)
        first: dict[int, int] = {}
        for k, call_id in arrivals:
            first.setdefault(call_id, k)
        verdict.expected[stream] = len(required)
        verdict.arrived[stream] = sum(1 for i in required if i in first)
        verdict.uncounted_arrived[stream] = sum(1 for i in uncounted if i in first)
        verdict.missing[stream] = sorted(i for i in required if i not in first)
        verdict.duplicates[stream] = sorted(i for i, n in seen.items() if n > 1)
        allowed = required.keys() | uncounted
        verdict.unexpected[stream] = sorted(i for i in seen if i not in allowed)
        verdict.not_imported[stream] = sorted(i for i in seen if i not in recordings_emitted)
        verdict.delays[stream] = Counter(first[i] - k for i, k in required.items() if i in first)

        total: Counter[int] = Counter()
        twice: list[tuple[int, int]] = []
        for k, asked in enumerate(requests):
            in_sync = Counter(call_id for s, call_id in asked if s == stream)
            total.update(in_sync)
            twice += [(call_id, k) for call_id, n in sorted(in_sync.items()) if n > 1]
        verdict.requests_twice_in_a_sync[stream] = twice
        verdict.requests_over_total[stream] = sorted(
            (i, n) for i, n in total.items() if n > MAX_ASKS_PER_CALL
        )
        verdict.requests_total[stream] = sum(total.values())
        verdict.requests_max[stream] = max(total.values(), default=0)
        verdict.requests_mean[stream] = round(sum(total.values()) / len(total), 2) if total else 0.0
    return verdict
