"""A loaded day scenario applied to the account's calls as the sandbox time passes.

Each call not yet settled is rewritten from ``ScheduledCall.state_at`` (one source
of truth with the oracles that read the same schedule); settled calls leave the
list, so a read late in the day costs only the calls still changing. Not
thread-safe on its own: the account holds its lock around :meth:`advance`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import SandboxCall, call_sid, country_of, price

if TYPE_CHECKING:
    from .call_index import CallIndex
    from .scenario import DayScenario, ScheduledCall


class ScenarioReplay:
    """The calls of one scenario still to appear or change, and the time applied last."""

    def __init__(self, scenario: DayScenario) -> None:
        self.scenario = scenario
        self._unsettled = self._schedule()
        self._applied_at: int | None = None

    def _schedule(self) -> list[ScheduledCall]:
        return sorted(self.scenario.all_calls(), key=lambda c: (c.visible_at, c.id))

    def advance(self, index: CallIndex, at: int) -> None:
        """Bring the scenario's calls in ``index`` to their state at ``at``."""
        if at == self._applied_at:
            return
        if self._applied_at is not None and at < self._applied_at:
            self._rewind(index)
        if not self._unsettled:
            return
        self._applied_at = at
        remaining: list[ScheduledCall] = []
        for scheduled in self._unsettled:
            if scheduled.visible_at > at:
                remaining.append(scheduled)
                continue
            _apply(index, scheduled, at)
            if scheduled.settled_at > at:
                remaining.append(scheduled)
        self._unsettled = remaining

    def _rewind(self, index: CallIndex) -> None:
        """Time went back (a test moved the horizon): replay the schedule from scratch."""
        index.drop({c.id for c in self.scenario.all_calls()})
        self._unsettled = self._schedule()


def _apply(index: CallIndex, scheduled: ScheduledCall, at: int) -> None:
    state = scheduled.state_at(at)
    if state is None:  # deleted by the customer: gone from the listing and lookups
        index.remove(scheduled.id)
        return
    call = index.calls.get(scheduled.id)
    if call is None:
        call = SandboxCall(
            id=scheduled.id,
            sid=call_sid(scheduled.id),
            direction=scheduled.direction,
            status=state.status,
            started_at=state.started_at,
            answered_at=state.answered_at,
            ended_at=state.ended_at,
            duration=state.duration,
            missed_call_reason=scheduled.missed_call_reason,
            user_id=scheduled.user_id,
            number_id=scheduled.number_id,
            contact_id=scheduled.contact_id,
            raw_digits=scheduled.raw_digits,
            country_code_a2=country_of(scheduled.raw_digits),
        )
        index.add([call])
    else:
        index.move(call.id, call.started_at, state.started_at)
    call.status = state.status
    call.started_at = state.started_at
    call.answered_at = state.answered_at
    call.ended_at = state.ended_at
    call.duration = state.duration
    call.cost = price(call.direction, state.duration, state.answered_at is not None)
    call.recording_size = state.recording_size
