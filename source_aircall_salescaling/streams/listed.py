"""What `calls` and `recordings` have in common: a plan per sync, emitted in batches.

The CDK saves a stream's state after each slice. Here a slice is one batch of the
sync's plan (oldest first, never splitting a second), so every STATE message is a
restart point: a sync killed anywhere and re-run from its last state emits what is
left, and nothing twice (sync/progress.py says why).
"""

from __future__ import annotations

import itertools
import time
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

from airbyte_cdk.models import (
    AirbyteEstimateTraceMessage,
    AirbyteMessage,
    AirbyteTraceMessage,
    EstimateType,
    SyncMode,
    TraceType,
    Type,
)
from airbyte_cdk.sources.streams.core import Stream, StreamData

from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import Verdict
from source_aircall_salescaling.output import record_message
from source_aircall_salescaling.sync.context import SyncContext
from source_aircall_salescaling.sync.plan import StreamRules, SyncPlan, batches, plan_sync
from source_aircall_salescaling.sync.progress import SyncProgress
from source_aircall_salescaling.sync.state import CallCursor


class ListedCallsStream(Stream):
    batch_size = 200

    def __init__(self, context: SyncContext) -> None:
        super().__init__()
        self.context = context
        self._incoming: Mapping[str, Any] = {}
        self._plan: SyncPlan | None = None
        self._progress: SyncProgress | None = None
        self._batches: list[list[Call]] = []
        self._emitted = 0
        self._started = time.monotonic()
        self._saved: dict[str, Any] | None = None

    @property
    def state(self) -> MutableMapping[str, Any]:
        """The state as of the last finished batch. The CDK reads this after every record,
        but saves it only after a slice: computing it once per batch keeps a sync linear."""
        if self._saved is None:
            return dict(self._incoming)
        return self._saved

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._incoming = dict(value or {})

    # What differs between the two streams ------------------------------------------
    @abstractmethod
    def judge(self, call: Call) -> Verdict: ...

    def confirm(self, call: Call) -> Verdict:
        return Verdict.ready()

    def changed_records(self) -> Callable[[Call], int] | None:
        """A hash of the record, for a stream that emits a record again once it changed."""
        return None

    @abstractmethod
    def emit_batch(self, batch: list[Call], progress: SyncProgress) -> Iterable[StreamData]: ...

    def planning(self, old: CallCursor) -> None:
        """Called once, with the old state, before the plan is made."""

    def planned(self, plan: SyncPlan) -> None:
        """Called once the plan is made, before the first batch."""

    def finish(self, plan: SyncPlan) -> None:
        """Called once, after the last batch."""

    def first_records(self) -> Iterable[StreamData]:
        """Records that go out before the plan's first batch (calls waiting from earlier
        syncs for something other than the listing brings)."""
        return ()

    def extra_state(self) -> dict[str, Any]:
        """What a stream keeps in its state beside the call cursor."""
        return {}

    def removal_records(self) -> Iterable[StreamData]:
        """Records that report the calls removed in Aircall that this sync's re-check
        found (streams/removals.py); they go out first."""
        return ()

    def removal_state(self) -> dict[str, Any]:
        """What the stream keeps for the re-check: the calls it emitted, the pass."""
        return {}

    # The shared mechanics ----------------------------------------------------------
    def _on_drop(self, call_id: int, why: str) -> None:
        self.logger.warning(f"Stream {self.name}: no longer watching call {call_id}: {why}.")

    def stream_slices(
        self,
        *,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any] | None]:
        context = self.context
        old = (
            context.request.cursor(self.name) if sync_mode == SyncMode.incremental else CallCursor()
        )
        self.planning(old)
        rules = StreamRules(
            judge=self.judge,
            confirm=self.confirm,
            on_drop=self._on_drop,
            lookup=context.pending_call,
            fingerprint=self.changed_records(),
        )
        plan = plan_sync(context.listing().newest_first(), old, context.bounds, rules)
        self.planned(plan)
        self._plan = plan
        self._progress = SyncProgress(plan)
        self._batches = list(batches(plan.emit, self.batch_size)) or [[]]
        for index in range(len(self._batches)):
            yield {"batch": index, "of": len(self._batches)}

    def records(
        self, sync_mode: SyncMode, stream_slice: Mapping[str, Any] | None
    ) -> Iterable[StreamData]:
        assert self._plan is not None and self._progress is not None and stream_slice is not None
        index = int(stream_slice["batch"])
        items = self.emit_batch(self._batches[index], self._progress)
        if index == 0:
            yield self._estimate(len(self._plan.emit))
            items = itertools.chain(self.removal_records(), self.first_records(), items)
        name = self.name
        for item in items:
            self._emitted += 1
            # A record is yielded as the message the CDK would make of it (output.py).
            yield record_message(name, item) if type(item) is dict else item
        if index == len(self._batches) - 1:
            self._progress.finished = True
            self.finish(self._plan)
        saved = self._progress.state()
        cursor_state = saved.to_state()
        self._saved = (
            {**cursor_state, **self.extra_state(), **self.removal_state()}
            if cursor_state
            else cursor_state
        )
        if self._progress.finished:
            client = self.context.client
            self.logger.info(
                f"Stream {self.name} summary: listed {self._plan.listed} calls, emitted "
                f"{self._emitted} records, watching {len(saved.pending)} calls "
                f"({self._plan.looked_up} fetched by id), "
                f"{sum(client.requests.values())} Aircall requests so far this sync "
                f"({dict(client.requests)}), {time.monotonic() - self._started:.1f} s."
            )

    def _estimate(self, rows: int) -> AirbyteMessage:
        return AirbyteMessage(
            type=Type.TRACE,
            trace=AirbyteTraceMessage(
                type=TraceType.ESTIMATE,
                emitted_at=time.time() * 1000,
                estimate=AirbyteEstimateTraceMessage(
                    name=self.name, type=EstimateType.STREAM, row_estimate=rows
                ),
            ),
        )
