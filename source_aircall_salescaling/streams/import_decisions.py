"""`import_decisions`: what became of each done call in the window, and why, as data.

One record per done call a sync listed (Salescaling users' calls or not, calls with no
agent), when it is first decided and again each time its decision changes
(`waiting_for_recording` -> `imported`, `no_recording`, ...), never twice in a row with
the same decision. The decisions are those `recordings` makes, from the same plan and
the same storage-host answers (streams/imported.py): with both streams selected, a sync
lists, looks up and probes a call once, and `imported` goes to exactly the calls
`recordings` emits.

Order within a sync: the decisions the plan made without the storage host first (rules,
first-sync cap, deleted calls, calls waiting for their recording), then the planned
importable calls, oldest first, once their size is known. The state keeps, beside the
call cursor, the pending calls already announced as `waiting_for_recording`
(`announced`), so that the announcement is not repeated while they wait.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from airbyte_cdk.sources.streams.core import StreamData

from source_aircall_salescaling import import_rules
from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import ImportDecision, Readiness
from source_aircall_salescaling.records import decision_record
from source_aircall_salescaling.streams.identity import StreamIdentity
from source_aircall_salescaling.streams.imported import ImportedCallsStream, fetch_all
from source_aircall_salescaling.streams.removals import removal_decision
from source_aircall_salescaling.sync.context import SyncContext
from source_aircall_salescaling.sync.planned import SyncPlan
from source_aircall_salescaling.sync.progress import SyncProgress
from source_aircall_salescaling.sync.state import CallCursor, pack_ids, unpack_ids

ANNOUNCED_KEY = "announced"


class ImportDecisionsStream(StreamIdentity, ImportedCallsStream):
    stream_name, key_field, cursor_name = "import_decisions", "call_id", "started_at"
    makes_decisions = True

    def __init__(self, context: SyncContext) -> None:
        super().__init__(context)
        self.announced: set[int] = set()
        self.made: dict[int, ImportDecision] = {}

    def planning(self, old: CallCursor) -> None:
        super().planning(old)
        raw = self.context.request.states.get(self.name) or {}
        text = raw.get(ANNOUNCED_KEY) if old.cursor is not None else None
        try:
            self.announced = unpack_ids(text) if isinstance(text, str) else set()
        except ValueError:
            self.announced = set()

    def decide(self, call: Call, rule: str | None, size: int | None = None) -> ImportDecision:
        decision = super().decide(call, rule, size)
        self.made[call.id] = decision
        return decision

    def extra_state(self) -> dict[str, Any]:
        if self._progress is None:
            return {}
        pending = self._progress.state().pending
        announced = {call_id for call_id in self.announced if call_id in pending}
        return {ANNOUNCED_KEY: pack_ids(announced)} if announced else {}

    def first_records(self) -> Iterator[StreamData]:
        for decision in self.plan_decisions:
            if decision.decision == import_rules.WAITING_FOR_RECORDING:
                if decision.call_id in self.announced:
                    continue
                self.announced.add(decision.call_id)
            yield decision_record(decision)

    def emit_batch(self, batch: list[Call], progress: SyncProgress) -> Iterable[StreamData]:
        for outcome in fetch_all(batch, self.checks.probe):
            call = outcome.call
            readiness = self.settle(outcome, progress).readiness
            if readiness is Readiness.WAIT:
                continue  # its transfer failed: decided on a later sync
            if readiness is Readiness.READY:
                progress.emitted(call)
                self.emitted_calls.add(call.id, call.started_at)
            yield decision_record(self.made[call.id])

    def removal_records(self) -> Iterator[StreamData]:
        now = self.context.sync_time
        for removal in self.emitted_calls.removals():
            yield decision_record(removal_decision(removal, now))

    def finish(self, plan: SyncPlan) -> None:
        self.log_import_report(plan)
