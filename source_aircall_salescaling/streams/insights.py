"""The Aircall AI streams: `transcriptions`, `summaries`, `topics`, `sentiments`,
`action_items`, and with Aircall's AI Assist Pro licence `playbook_results`,
`evaluations`, `custom_summaries` and `predicted_csat`: one per Aircall resource
(`GET /v1/calls/{id}/<resource>`), one record per call Salescaling imports, emitted once.
One class serves all nine: what differs is the resource and its record
(`ai_records.INSIGHT_KINDS`).

Which calls: exactly those `recordings` imports (streams/imported.py), whether or not
`recordings` is selected; the listing, lookups and size probes are the sync's, shared.

What Aircall does that is surprising, and what the stream does about it:
- An insight is written minutes after the call, the transcription first, and every
  other insight from it; sometimes never (no external participant, a very short call).
  So a call is asked about its transcription first (once per sync, shared by the nine:
  sync/ai_asks.py), and about the rest only once the transcription is there.
- 404, and 400 (the only "not there" status Aircall's reference lists), mean "not there
  (yet)": the call waits in the stream's state and is asked again on the checkpoints of
  `sync/schedule.py` until `insights_lookback_minutes` after it ended (at most 5 asks a
  call, one a sync), then dropped and counted (sync/waiting.py).
- 403 means the company may not use the resource (Aircall AI is off, the company is not
  verified, or, for the last four, no AI Assist Pro licence), not a bad key: the same
  key lists calls, and the other resources may well answer. The stream then emits
  nothing, warns once naming the licence and quoting Aircall, and makes no further
  request in that sync; the calls it would have asked about are not kept waiting.
- Any other failure (5xx or 429 after the retries, an answer that cannot be read)
  leaves the call waiting: asked again on the next sync, never lost.
- A sync's AI requests fit a slot of about 12 minutes at `requests_per_minute`
  (sync/ai_asks.py): the calls past it wait, unasked, for the next syncs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_aircall_salescaling.ai_records import (
    AIRCALL_AI,
    TRANSCRIPTION,
    InsightKind,
    insight_record,
)
from source_aircall_salescaling.aircall.errors import AircallKeysRejected, InsightsForbidden
from source_aircall_salescaling.aircall.models import Call, PayloadError
from source_aircall_salescaling.import_rules import Readiness, call_end
from source_aircall_salescaling.streams.identity import StreamIdentity
from source_aircall_salescaling.streams.imported import ImportedCallsStream, fetch_all
from source_aircall_salescaling.streams.removals import deletion_records
from source_aircall_salescaling.sync.ai_asks import Answer, Asked
from source_aircall_salescaling.sync.context import SyncContext
from source_aircall_salescaling.sync.planned import SyncPlan
from source_aircall_salescaling.sync.progress import SyncProgress
from source_aircall_salescaling.sync.state import CallCursor
from source_aircall_salescaling.sync.waiting import (
    InsightWait,
    over_capacity,
    pack_waits,
    unpack_waits,
)

INSIGHTS_REPORT_PREFIX = "INSIGHTS_REPORT "
WAITING_KEY = "insights_waiting"
HINTS = {
    AIRCALL_AI: "Aircall AI is a paid add-on and needs a verified company: turn it on in "
    "Aircall, or deselect the Aircall AI streams.",
}
PRO_HINT = (
    "This stream needs Aircall's {licence} licence on top of Aircall AI: get it in "
    "Aircall, or deselect playbook_results, evaluations, custom_summaries and "
    "predicted_csat; the other Aircall AI streams carry on."
)


class InsightsStream(StreamIdentity, ImportedCallsStream):
    key_field, cursor_name = "call_id", "started_at"
    batch_size = 50

    def __init__(self, context: SyncContext, kind: InsightKind) -> None:
        super().__init__(context)
        self.kind = kind
        self.waiting: dict[int, InsightWait] = {}
        self.forbidden: str | None = None
        self.emitted_insights = 0
        self.dropped = 0
        self.requests = 0
        self.quota = 0  # the requests this stream may still make in this sync's slot
        self.left_for_later = 0  # calls whose due ask did not fit in the slot

    @property
    def name(self) -> str:
        return self.kind.stream

    @property
    def lookback(self) -> int:
        return self.context.config.insights_lookback_seconds

    # State: the call cursor of every listed stream, and the calls waiting -------------
    def planning(self, old: CallCursor) -> None:
        super().planning(old)
        raw = self.context.request.states.get(self.name) or {}
        self.waiting = {}
        if old.cursor is not None and isinstance(raw.get(WAITING_KEY), str):
            try:
                self.waiting = unpack_waits(raw[WAITING_KEY])
            except ValueError:
                self.logger.warning(
                    f"Stream {self.name}: the saved list of calls waiting for Aircall AI "
                    "cannot be read; those calls are not asked again."
                )

    def extra_state(self) -> dict[str, Any]:
        return {WAITING_KEY: pack_waits(self.waiting)} if self.waiting else {}

    # Asking Aircall ---------------------------------------------------------------------
    def request(self, call_id: int, resource: str) -> Answer:
        """One request within the slot (the caller checked `quota`)."""
        self.requests += 1
        self.quota -= 1
        try:
            body = self.context.client.insight(call_id, resource)
        except InsightsForbidden as error:
            return Answer(Asked.FORBIDDEN, message=error.message)
        except AircallKeysRejected:
            raise
        except AirbyteTracedException as error:
            self.logger.warning(
                f"Stream {self.name}: could not get the {resource} of call {call_id} "
                f"({error.message}); it is asked again on the next sync."
            )
            return Answer(Asked.FAILED, message=error.message)
        return Answer(Asked.NOT_THERE) if body is None else Answer(Asked.FOUND, body)

    def transcription(self, call_id: int, wait: InsightWait) -> Answer | None:
        """The call's transcription answer in this sync: another stream's, or asked now
        when due and within the slot; None when not asked."""
        shared = self.context.ai_asks.transcriptions
        if call_id not in shared:
            if not self.may_ask(wait):
                return None
            shared[call_id] = self.request(call_id, TRANSCRIPTION)
        return shared[call_id]

    def own(self, call_id: int, wait: InsightWait) -> Answer | None:
        """This stream's resource, once the transcription is there; None when not asked."""
        if not self.may_ask(wait):
            return None
        return self.request(call_id, self.kind.resource)

    def may_ask(self, wait: InsightWait) -> bool:
        """Whether a request is due and within the slot; one more left for later when it
        is due but the slot is spent."""
        if not wait.due(self.lookback, self.context.sync_time):
            return False
        if self.quota <= 0:
            self.left_for_later += 1
            self.context.ai_asks.left_for_later += 1
            return False
        return True

    def forbid(self, message: str, licence: str) -> None:
        """A 403: one warning, no further request in this sync."""
        self.forbidden = message
        hint = HINTS.get(licence) or PRO_HINT.format(licence=licence)
        self.logger.warning(
            f"{licence} is not available to this Aircall account, so the stream "
            f'{self.name} emits nothing (Aircall answered 403: "{message}"). {hint}'
        )

    def step(self, call_id: int, wait: InsightWait) -> tuple[dict[str, Any] | None, InsightWait]:
        """One call in this sync: its record when the insight is there; otherwise the wait
        it goes on with (unchanged when nothing was asked)."""
        now = self.context.sync_time
        if self.kind.is_gate or not wait.follow:
            due = wait.due(self.lookback, now)
            gate = self.transcription(call_id, wait)
            if gate is None:
                return None, wait
            if gate.status is Asked.FORBIDDEN:
                self.forbid(gate.message or "", AIRCALL_AI)
                return None, wait
            if gate.status is not Asked.FOUND:
                # Another stream's ask, before this call's own checkpoint: nothing spent.
                return self.answered(call_id, wait, gate) if due else (None, wait)
            if self.kind.is_gate:
                return self.answered(call_id, wait, gate)
            wait = wait.following(now)
        answer = self.own(call_id, wait)
        if answer is None:
            return None, wait
        if answer.status is Asked.FORBIDDEN:
            self.forbid(answer.message or "", self.kind.licence)
            return None, wait
        return self.answered(call_id, wait, answer)

    def answered(
        self, call_id: int, wait: InsightWait, answer: Answer
    ) -> tuple[dict[str, Any] | None, InsightWait]:
        now = self.context.sync_time
        if answer.status is Asked.FOUND:
            record = self.record(call_id, wait.started_at, answer.body)
            if record is not None:
                return record, wait
            return None, wait.after_failed_ask(self.lookback, now)
        if answer.status is Asked.NOT_THERE:
            return None, wait.after_ask(self.lookback, now)
        return None, wait.after_failed_ask(self.lookback, now)

    def record(self, call_id: int, started_at: int, body: Any) -> dict[str, Any] | None:
        """The one place a record of this stream is made from Aircall's answer."""
        try:
            return insight_record(self.kind, call_id, started_at, body)
        except PayloadError as error:
            self.logger.warning(f"Stream {self.name}: {error}; it is asked again later.")
            return None

    def first_records(self) -> Iterator[StreamData]:
        self.quota = self.context.ai_asks.share(self.name)
        return self.ask_waiting()

    def removal_records(self) -> Iterator[StreamData]:
        yield from deletion_records(self.emitted_calls, self.key_field, self.context.sync_time)

    def ask_waiting(self) -> Iterator[StreamData]:
        """The calls waiting from earlier syncs whose checkpoint came, nearest deadline
        first (so none starves when the slot is full or a sync is cut short)."""
        now = self.context.sync_time
        order = sorted(self.waiting.items(), key=lambda item: item[1].ended)
        for call_id, wait in order:
            if self.forbidden is not None:
                return
            if wait.over(self.lookback, now):
                del self.waiting[call_id]
                self.dropped += 1
                continue
            record, after = self.step(call_id, wait)
            if record is not None:
                del self.waiting[call_id]
                self.emitted_insights += 1
                self.emitted_calls.add(call_id, wait.started_at)
                yield record
            elif after.over(self.lookback, now):
                del self.waiting[call_id]
                self.dropped += 1
            else:
                self.waiting[call_id] = after

    # The sync's new importable calls ---------------------------------------------------
    def emit_batch(self, batch: list[Call], progress: SyncProgress) -> Iterable[StreamData]:
        now = self.context.sync_time
        for outcome in fetch_all(batch, self.checks.probe):
            if self.settle(outcome, progress).readiness is not Readiness.READY:
                continue
            call = outcome.call
            if self.forbidden is not None:
                progress.skipped(call)
                continue
            wait = InsightWait(call.started_at, call_end(call), 0, since=now)
            record, after = self.step(call.id, wait)
            if record is not None:
                progress.emitted(call)
                self.emitted_insights += 1
                self.emitted_calls.add(call.id, call.started_at)
                yield record
                continue
            progress.skipped(call)  # decided for the call cursor: the insight is awaited
            if self.forbidden is not None:
                continue
            if after.over(self.lookback, now):
                self.dropped += 1
            else:
                self.waiting[call.id] = after

    def finish(self, plan: SyncPlan) -> None:
        for call_id in over_capacity(self.waiting):
            del self.waiting[call_id]
            self.dropped += 1
        report = {
            "stream": self.name,
            "emitted": self.emitted_insights,
            "waiting": len(self.waiting),
            "dropped_at_end_of_lookback": self.dropped,
            "requests": self.requests,
            "asks_left_for_later": self.left_for_later,
            "aircall_ai_unavailable": self.forbidden,
        }
        later = (
            f"; {self.left_for_later} asks left for the next syncs (this sync's Aircall AI "
            "slot of about 12 minutes at requests_per_minute is full)"
            if self.left_for_later
            else ""
        )
        self.logger.info(
            f"Aircall AI {self.name}: emitted {self.emitted_insights}, still waiting "
            f"{len(self.waiting)}, dropped at the end of insights_lookback_minutes "
            f"{self.dropped}, {self.requests} requests{later}."
        )
        self.logger.info(INSIGHTS_REPORT_PREFIX + json.dumps(report, sort_keys=True))
