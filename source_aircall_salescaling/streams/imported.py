"""What `recordings`, the Aircall AI streams and `import_decisions` have in common: their
calls are the calls Salescaling imports.

Each plans its sync over the shared listing with the same rules (`import_rules.eligible`,
the window, and on a stream's first sync the newest `first_sync_max_calls` calls that
are really importable, so the size is probed then), and asks the storage host about a
recording through the sync's shared `RecordingChecks`: with several of these streams
selected, a call is listed, looked up and probed once per sync. What a stream then does
with an importable call (bring its file, ask Aircall AI, write its decision) is its own.

A recording that cannot be fetched is retried on later syncs for a day after its first
failure (kept in the stream's state as `failing`), then given up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from source_aircall_salescaling import import_rules
from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.import_rules import ImportDecision, Readiness, Verdict
from source_aircall_salescaling.streams.listed import ListedCallsStream
from source_aircall_salescaling.streams.removals import EmittedCalls
from source_aircall_salescaling.sync.context import SyncContext
from source_aircall_salescaling.sync.planned import SyncPlan
from source_aircall_salescaling.sync.progress import SyncProgress
from source_aircall_salescaling.sync.recording_checks import Outcome, after_failure
from source_aircall_salescaling.sync.state import CallCursor

POOL_SIZE = 4


def fetch_all(calls: list[Call], fetch: Callable[[Call], Outcome]) -> list[Outcome]:
    """The storage host is not rate limited and each fetch waits mostly on the network:
    a small pool, results in the order of `calls`."""
    if len(calls) <= 1:
        return [fetch(call) for call in calls]
    with ThreadPoolExecutor(max_workers=POOL_SIZE) as pool:
        return list(pool.map(fetch, calls))


class ImportedCallsStream(ListedCallsStream):
    # `recordings` and `import_decisions` write their decisions to the sync's ledger
    # (`SyncContext.decisions`), which the import report is made from.
    makes_decisions = False

    def __init__(self, context: SyncContext) -> None:
        super().__init__(context)
        self.checks = context.recording_checks
        self._failed: dict[int, int] = {}  # transfers failed this sync -> first failure
        self._old_failing: Mapping[int, int] = {}
        self.plan_decisions: list[ImportDecision] = []  # made without the storage host
        self.emitted_calls = EmittedCalls(context)

    def judge(self, call: Call) -> Verdict:
        return import_rules.eligible(call, self.context.config, self.context.sync_time)

    def planning(self, old: CallCursor) -> None:
        self._old_failing = old.failing
        self.emitted_calls.start(self.name, self.tracks_removals())

    def tracks_removals(self) -> bool:
        """Whether this stream reports calls removed in Aircall (incremental syncs)."""
        return self.context.request.incremental.get(self.name, False)

    def removal_state(self) -> dict[str, Any]:
        return self.emitted_calls.state()

    def planned(self, plan: SyncPlan) -> None:
        plan.failing.update(self._failed)  # first-sync probes that failed (see `confirm`)
        self.plan_decisions = self.decide_plan(plan)

    def confirm(self, call: Call) -> Verdict:
        """First sync: the cap counts importable recordings, so the size is checked now."""
        outcome = self.checks.probe(call)
        if outcome.size is not None or outcome.file is not None:
            return Verdict.ready()
        if outcome.failure is not None:
            return self.failed_fetch(outcome)
        return Verdict.skip(outcome.skip_reason or import_rules.UNAVAILABLE)

    def failed_fetch(self, outcome: Outcome) -> Verdict:
        """Retried on later syncs (WAIT), or given up (SKIP)."""
        call_id = outcome.call.id
        verdict, since = after_failure(
            outcome, self.context.config, self.context.sync_time, self._old_failing.get(call_id)
        )
        if since is not None:
            self._failed[call_id] = since
        return verdict

    def settle(self, outcome: Outcome, progress: SyncProgress) -> Verdict:
        """A planned call, once the storage host answered: READY when importable (the
        caller emits it and marks it emitted); otherwise marked here, skipped for good
        (SKIP, with its reason) or watched again on later syncs (WAIT)."""
        call = outcome.call
        if outcome.skip_reason is not None:
            progress.skipped(call)
            self.decide(call, outcome.skip_reason, outcome.skip_size)
            if progress.plan.old.cursor is None and outcome.over_limit_at_download:
                progress.slot_freed()
            return Verdict.skip(outcome.skip_reason)
        if outcome.failure is not None:
            verdict = self.failed_fetch(outcome)
            if verdict.readiness is Readiness.SKIP:
                progress.skipped(call)
                self.decide(call, verdict.reason or import_rules.UNAVAILABLE)
                return verdict
            progress.plan.failing[call.id] = self._failed.get(call.id, self.context.sync_time)
            progress.defer(call)
            if self.makes_decisions and call.id not in self.context.report.retrying:
                self.context.report.retrying.append(call.id)
            return verdict
        self.decide(call, None, outcome.size_bytes)
        return Verdict.ready()

    # Decisions ----------------------------------------------------------------------
    def decide(self, call: Call, rule: str | None, size: int | None = None) -> ImportDecision:
        """`rule`: the verdict's reason, None for an imported call."""
        context = self.context
        decision = import_rules.decide(call, rule, context.config, context.sync_time, size)
        if self.makes_decisions:
            context.decisions[call.id] = decision
        return decision

    def decide_plan(self, plan: SyncPlan) -> list[ImportDecision]:
        """What the plan decided without the storage host: calls skipped by the rules,
        left behind by the first-sync cap, deleted, or waiting for their recording."""
        now, made = self.context.sync_time, []
        for call, reason in plan.skipped:
            known = self.checks.known(call.id)
            made.append(self.decide(call, reason, known.size_bytes if known else None))
        made.extend(self.decide(call, import_rules.LEFT_BEHIND) for call in plan.left_behind_calls)
        for call_id in plan.gone:
            decision = import_rules.decide_deleted(call_id, plan.old.pending.get(call_id, 0), now)
            if self.makes_decisions:
                self.context.decisions[call_id] = decision
            made.append(decision)
        for call in plan.waiting:
            verdict = self.judge(call)
            if verdict.reason == import_rules.RECORDING_NOT_READY:
                made.append(self.decide(call, verdict.reason))
        return made

    def log_import_report(self, plan: SyncPlan) -> None:
        """The import report, made from the sync's decisions, logged once per sync by the
        last stream that makes them (sync/report.py)."""
        context = self.context
        if context.decision_streams_left(self.name):
            return
        report = context.report
        for decision in context.decisions.values():
            if decision.decision == import_rules.IMPORTED:
                report.imported += 1
                if decision.salescaling_agent is not decision.agent:
                    report.imported_by_transfer += 1
            elif decision.rule is not None and decision.decision not in (
                import_rules.WAITING_FOR_RECORDING,
                import_rules.LEFT_BEHIND_BY_FIRST_SYNC,
            ):
                agent = decision.agent
                email = agent.email.strip() if agent and agent.email else None
                report.skip(decision.call_id, decision.rule, email=email, size=decision.size_bytes)
        assert self._progress is not None
        report.waiting = len(self._progress.state().pending)
        report.left_behind = plan.left_behind
        report.left_behind_is_lower_bound = plan.left_behind_lower_bound
        for line in report.lines():
            self.logger.info(line)
