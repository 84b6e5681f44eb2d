"""What the streams of one sync share: the clock, the client, the listing, the report.

The sync time T is read once, so that `calls` and `recordings` see the same window
and the same listing; it is Aircall's clock, the `Date` of its first answer (a ping when
the bounds are needed before any request), or this machine's when that is unusable
(`aircall/clock.py`):

    T - import_window_days                      lowest bound any stream needs      T
    |-------------------------------------------|...............................|
    never emitted before this                   listing pages newest first, down to here
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from source_aircall_salescaling.ai_records import INSIGHT_STREAM_NAMES
from source_aircall_salescaling.aircall.client import AircallClient
from source_aircall_salescaling.aircall.clock import SyncClock
from source_aircall_salescaling.aircall.errors import (
    READ_FAILURES,
    AircallKeysRejected,
    CallUnavailable,
)
from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.aircall.windows import TimeWindow
from source_aircall_salescaling.config import ConnectorConfig
from source_aircall_salescaling.import_rules import ImportDecision, watch_horizon
from source_aircall_salescaling.recordings.downloader import RecordingDownloader
from source_aircall_salescaling.sync.ai_asks import AiAsks, slot_requests, slot_seconds
from source_aircall_salescaling.sync.emitted_lists import EmittedLists
from source_aircall_salescaling.sync.listing import CallListing
from source_aircall_salescaling.sync.plan import (
    MAX_OVERLAP_SECONDS,
    LookupFailed,
    SyncBounds,
    relist_overlap,
)
from source_aircall_salescaling.sync.recheck import (
    RECHECK_KEY,
    RecheckCursor,
    RecheckPlan,
    oldest,
    plan_recheck,
)
from source_aircall_salescaling.sync.recording_checks import RecordingChecks
from source_aircall_salescaling.sync.report import ImportReport
from source_aircall_salescaling.sync.state import CallCursor

INSIGHT_STREAMS = INSIGHT_STREAM_NAMES
# The streams planned over the shared call listing; the last two write the import report.
DECISION_STREAMS = ("recordings", "import_decisions")
LISTED_STREAMS = ("calls", *DECISION_STREAMS, *INSIGHT_STREAMS)


@dataclass(frozen=True)
class Recheck:
    """This sync's slice of the removal re-check (`sync/recheck.py`), listed once for
    every stream: the calls listed, by id. Where the listing failed, the plan's slice is
    empty, so nothing is decided this sync."""

    plan: RecheckPlan
    calls: dict[int, Call]

    def has_recording(self) -> dict[int, bool]:
        return {call_id: call.recording_url is not None for call_id, call in self.calls.items()}


@dataclass
class SyncRequest:
    """What `read` was asked: which streams, in which mode, from which state."""

    incremental: dict[str, bool] = field(default_factory=dict)
    states: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    include_files: bool = False

    def cursor(self, stream: str) -> CallCursor:
        if not self.incremental.get(stream, False):
            return CallCursor()  # full refresh: every sync is a first sync
        return CallCursor.from_state(self.states.get(stream), stream)


class SyncContext:
    def __init__(
        self,
        config: ConnectorConfig,
        logger: logging.Logger,
        request: SyncRequest,
        staging_directory: Path,
        now: int | None = None,
    ) -> None:
        self.config = config
        self.logger = logger
        self.request = request
        self.staging_directory = staging_directory
        self._now = now
        self._bounds: SyncBounds | None = None
        self.report = ImportReport()
        # The import decisions of this sync by call id, whichever of `recordings` and
        # `import_decisions` made them (the same rules and outcomes): the report's source.
        self.decisions: dict[int, ImportDecision] = {}
        self._client: AircallClient | None = None
        self.recording_checks = RecordingChecks(
            RecordingDownloader(staging_directory, config.recording_size_limit, logger),
            lambda: self.client,
            config,
            logger,
        )
        self._listing: CallListing | None = None
        self._by_id: dict[int, Call | CallUnavailable | None] = {}
        # The Aircall AI streams' shared transcription answers and request slot.
        self.ai_asks = AiAsks(
            slot_requests(config.requests_per_minute, slot_seconds()),
            tuple(name for name in request.incremental if name in INSIGHT_STREAMS),
            lambda: sum(self.client.requests.values()),
        )
        self._recheck: Recheck | None = None
        self.emitted = EmittedLists(
            request.states,
            request.incremental,
            self._recheck_streams(),
            (*INSIGHT_STREAMS, "import_decisions"),
            config.file_transfer or request.include_files,
            logger,
        )

    @property
    def bounds(self) -> SyncBounds:
        """Made when first needed: T is then read from Aircall's answers (see above)."""
        if self._bounds is None:
            config = self.config
            clock = self.client.sync_clock() if self._now is None else SyncClock(self._now, False)
            sync_time = clock.now
            self._bounds = SyncBounds(
                sync_time=sync_time,
                window_start=sync_time - config.import_window_seconds,
                overlap=relist_overlap(config.lookback_seconds),
                watch_horizon=watch_horizon(config),
                first_sync_cap=config.first_sync_max_calls,
                # Rewrites are watched for the lookback, up to the longest overlap: a longer
                # watch would keep a print for a whole day of calls.
                changes_for=min(config.lookback_seconds, MAX_OVERLAP_SECONDS),
                lookback=config.lookback_seconds,
                aircall_clock=clock.aircalls,
                turn=self.recheck_turn(),
            )
        return self._bounds

    @property
    def sync_time(self) -> int:
        return self.bounds.sync_time

    @property
    def window_start(self) -> int:
        return self.bounds.window_start

    @property
    def overlap(self) -> int:
        return self.bounds.overlap

    @property
    def client(self) -> AircallClient:
        if self._client is None:
            self._client = AircallClient(self.config, self.logger)
        return self._client

    def decision_streams_left(self, finished: str) -> bool:
        """Whether another selected stream that makes import decisions is still to come,
        after `finished`: the import report is logged once, by the last of them."""
        # The CDK reads the streams in the catalog's order, which `incremental` keeps.
        selected = [name for name in self.request.incremental if name in DECISION_STREAMS]
        return finished in selected and selected.index(finished) < len(selected) - 1

    def pending_call(self, call_id: int) -> Call | None:
        """A pending call the listing did not bring, fetched by id once per sync however
        many streams ask (None: Aircall answered 404; `LookupFailed`: try again later).
        A call the shared listing already brought is taken from it, without a request."""
        listed = self._listing.fetched(call_id) if self._listing is not None else None
        if listed is not None:
            return listed
        if call_id not in self._by_id:
            try:
                self._by_id[call_id] = self.client.call(call_id)
            except CallUnavailable as error:
                self._by_id[call_id] = error
        found = self._by_id[call_id]
        if isinstance(found, CallUnavailable):
            raise LookupFailed(str(found))
        return found

    def listing(self) -> CallListing:
        """Down to the lowest bound that any selected listed stream needs. Every stream
        re-lists the same overlap (the lookback, 15 min to 2 h): a recording or an insight
        that comes within the lookback must go out on the next sync, and a re-listed page
        finds 50 waiting calls where a lookup by id finds one."""
        if self._listing is None:
            bounds = [
                self.request.cursor(stream).lower_bound(self.window_start, self.overlap)
                for stream in LISTED_STREAMS
                if stream in self.request.incremental
            ] or [self.window_start]
            # A state from the future (a clock gone wrong) lists nothing rather than failing.
            window = TimeWindow(min(*bounds, self.sync_time), self.sync_time)
            self._listing = CallListing(self.client, window)
        return self._listing

    # The removal re-check (sync/recheck.py) ----------------------------------------------
    def _recheck_streams(self) -> list[str]:
        return [name for name in LISTED_STREAMS if self.request.incremental.get(name, False)]

    def _recheck_cursor(self) -> RecheckCursor | None:
        states = self.request.states
        return oldest(
            RecheckCursor.from_state((states.get(name) or {}).get(RECHECK_KEY))
            for name in self._recheck_streams()
        )

    def recheck_turn(self) -> int:
        """This sync's turn for the waiting calls (`sync/recheck.turn_due`)."""
        cursor = self._recheck_cursor()
        return 0 if cursor is None else cursor.turn + 1

    def recheck(self) -> Recheck:
        """This sync's slice, listed once however many streams ask."""
        if self._recheck is None:
            starts = [
                s for n in self._recheck_streams() for s in self.emitted.emitted_by(n)[0].values()
            ]
            old = [self.request.cursor(name).cursor for name in self._recheck_streams()]
            previous = max((c for c in old if c is not None), default=None)
            plan = plan_recheck(
                self._recheck_cursor(),
                self.sync_time,
                previous,
                self.window_start,
                self.listing().window.start,
                starts,
            )
            calls: dict[int, Call] = {}
            listed = True
            if plan.listing is not None:
                try:
                    for call in self.client.calls_newest_first(plan.listing):
                        calls[call.id] = call
                except AircallKeysRejected:
                    raise
                except READ_FAILURES as error:  # the slice is re-checked on the next sync
                    self.logger.warning(
                        f"The re-check of calls removed in Aircall could not list {plan.listing} "
                        f"({str(error).splitlines()[0] if str(error) else type(error).__name__}); "
                        "that slice is re-checked on the next sync."
                    )
                    listed = False
            if not listed:
                plan = RecheckPlan(plan.high, plan.high, None, replace(plan.after, at=plan.high))
            self._recheck = Recheck(plan, calls)
        return self._recheck
