"""The Aircall AI streams: `transcriptions`, `summaries`, `topics`, `sentiments` and
`action_items`, one per Aircall resource (`GET /v1/calls/{id}/<resource>`), one record
per call Salescaling imports, emitted once. One class serves all five: what differs is
the resource and its record (`records.INSIGHT_KINDS`).

Which calls: exactly those `recordings` imports (streams/imported.py), whether or not
`recordings` is selected; the listing, lookups and size probes are the sync's, shared.

What Aircall does that is surprising, and what the stream does about it:
- An insight is written minutes after the call (the transcription first, longer calls
  later) and sometimes never (no external participant, a very short call). 404 means
  "not there (yet)": the call waits in the stream's state and is asked again on the
  checkpoints of `sync/schedule.py` until `insights_lookback_minutes` after it ended
  (at most 5 asks a call, one a sync), then dropped and counted (sync/waiting.py).
- 403 means Aircall AI is not available to the company (the add-on is off, or the
  company is not verified), not a bad key: the same key lists calls. The stream then
  emits nothing, warns once with Aircall's message, and makes no further request in
  that sync; the calls it would have asked about are not kept waiting.
- Any other failure (5xx or 429 after the retries, an answer that cannot be read)
  leaves the call waiting: asked again on the next sync, never lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_aircall_salescaling.aircall.errors import AircallKeysRejected, InsightsForbidden
from source_aircall_salescaling.aircall.models import Call, PayloadError
from source_aircall_salescaling.import_rules import Readiness, call_end
from source_aircall_salescaling.records import InsightKind, insight_record
from source_aircall_salescaling.streams.identity import StreamIdentity
from source_aircall_salescaling.streams.imported import ImportedCallsStream, fetch_all
from source_aircall_salescaling.streams.removals import deletion_records
from source_aircall_salescaling.sync.context import SyncContext
from source_aircall_salescaling.sync.planned import SyncPlan
from source_aircall_salescaling.sync.progress import SyncProgress
from source_aircall_salescaling.sync.schedule import ask_times, passed
from source_aircall_salescaling.sync.state import CallCursor
from source_aircall_salescaling.sync.waiting import (
    InsightWait,
    over_capacity,
    pack_waits,
    unpack_waits,
)

INSIGHTS_REPORT_PREFIX = "INSIGHTS_REPORT "
WAITING_KEY = "insights_waiting"

_NOT_THERE = object()  # 404: not generated (yet)
_FAILED = object()  # any other failure: asked again later


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
    def ask(self, call_id: int) -> Any:
        """The insight's JSON, `_NOT_THERE` (404) or `_FAILED`; a 403 sets `forbidden`."""
        self.requests += 1
        try:
            body = self.context.client.insight(call_id, self.kind.resource)
        except InsightsForbidden as error:
            self.forbidden = error.message
            self.logger.warning(
                f"Aircall AI is not available to this Aircall account, so the stream "
                f'{self.name} emits nothing (Aircall answered 403: "{error.message}"). '
                "Aircall AI is a paid add-on and needs a verified company: turn it on in "
                "Aircall, or deselect the Aircall AI streams."
            )
            return _FAILED
        except AircallKeysRejected:
            raise
        except AirbyteTracedException as error:
            self.logger.warning(
                f"Stream {self.name}: could not get the {self.kind.resource} of call "
                f"{call_id} ({error.message}); it is asked again on the next sync."
            )
            return _FAILED
        return _NOT_THERE if body is None else body

    def record(self, call_id: int, started_at: int, body: Any) -> dict[str, Any] | None:
        try:
            return insight_record(self.kind, call_id, started_at, body)
        except PayloadError as error:
            self.logger.warning(f"Stream {self.name}: {error}; it is asked again later.")
            return None

    def first_records(self) -> Iterator[StreamData]:
        return self.ask_waiting()

    def removal_records(self) -> Iterator[StreamData]:
        yield from deletion_records(self.emitted_calls, self.key_field, self.context.sync_time)

    def ask_waiting(self) -> Iterator[StreamData]:
        """The calls waiting from earlier syncs whose checkpoint came, nearest deadline
        first (so none starves if a sync is cut short)."""
        now = self.context.sync_time
        order = sorted(self.waiting.items(), key=lambda item: item[1].ended)
        for call_id, wait in order:
            if self.forbidden is not None:
                return
            if wait.over(self.lookback, now):
                del self.waiting[call_id]
                self.dropped += 1
                continue
            if not wait.due(self.lookback, now):
                continue
            body = self.ask(call_id)
            record = self.found(call_id, wait.started_at, body)
            if record is not None:
                del self.waiting[call_id]
                self.emitted_insights += 1
                self.emitted_calls.add(call_id, wait.started_at)
                yield record
            elif body is _NOT_THERE:
                self.waiting[call_id] = wait.after_ask(self.lookback, now)
                if self.waiting[call_id].over(self.lookback, now):
                    del self.waiting[call_id]
                    self.dropped += 1
            elif wait.given_up(self.lookback, now):
                del self.waiting[call_id]
                self.dropped += 1
            else:
                self.waiting[call_id] = wait.after_failed_ask(self.lookback, now)

    # The sync's new importable calls ---------------------------------------------------
    def emit_batch(self, batch: list[Call], progress: SyncProgress) -> Iterable[StreamData]:
        for outcome in fetch_all(batch, self.checks.probe):
            if self.settle(outcome, progress).readiness is not Readiness.READY:
                continue
            call = outcome.call
            body = self.ask(call.id) if self.forbidden is None else _FAILED
            record = self.found(call.id, call.started_at, body)
            if record is not None:
                progress.emitted(call)
                self.emitted_insights += 1
                self.emitted_calls.add(call.id, call.started_at)
                yield record
                continue
            progress.skipped(call)  # decided for the call cursor: the insight is awaited
            if self.forbidden is None:
                self.start_waiting(call, asked_now=body is _NOT_THERE)

    def found(self, call_id: int, started_at: int, body: Any) -> dict[str, Any] | None:
        """The record, when Aircall answered with the insight (and it can be read)."""
        if body is _NOT_THERE or body is _FAILED:
            return None
        return self.record(call_id, started_at, body)

    def start_waiting(self, call: Call, asked_now: bool) -> None:
        """A call whose insight is not there yet (404, or a request that failed: then no
        checkpoint is spent) waits for the next checkpoint, unless its lookback is over."""
        now, end = self.context.sync_time, call_end(call)
        asked = max(1, passed(ask_times(end, end + self.lookback), now)) if asked_now else 0
        wait = InsightWait(call.started_at, end, asked)
        if wait.over(self.lookback, now):
            self.dropped += 1
        else:
            self.waiting[call.id] = wait

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
            "aircall_ai_unavailable": self.forbidden,
        }
        self.logger.info(
            f"Aircall AI {self.name}: emitted {self.emitted_insights}, still waiting "
            f"{len(self.waiting)}, dropped at the end of insights_lookback_minutes "
            f"{self.dropped}, {self.requests} requests."
        )
        self.logger.info(INSIGHTS_REPORT_PREFIX + json.dumps(report, sort_keys=True))
