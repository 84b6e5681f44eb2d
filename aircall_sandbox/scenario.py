"""A day of an Aircall account as a schedule: what each call looks like at any moment.

A :class:`DayScenario` is generated from a seed and holds, for every call, the
moments its life changes: when it shows up in the listing (Aircall lists some calls
minutes after they started), when it is answered, when it ends, when Aircall rewrites
its ``duration`` or moves its ``started_at`` by +1 s, and when its recording appears
(1 to 50 minutes after hang-up, or never), and when each of its Aircall AI insights
becomes ready (``transcription_at``... ``action_items_at``; see ``insights.py``).
:meth:`ScheduledCall.state_at` answers
"what does Aircall serve for this call at time t"; the sandbox's world applies exactly
that lazily when a request reads the account (``SandboxWorld.load_scenario``), and a
test's oracle asks the same question of the same schedule without any server.

Times are sandbox UNIX seconds. Nothing here knows about syncs: the schedule is the
account, the sync grid is the test's business.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from . import insights

HOUR = 3600
DAY = 86_400


@dataclass(frozen=True, slots=True)
class CallState:
    """What the API serves for a call at one moment (the fields a scenario moves)."""

    status: str
    started_at: int
    answered_at: int | None
    ended_at: int | None
    duration: int
    recording_size: int | None


@dataclass(frozen=True, slots=True)
class ScheduledCall:
    """One call's timeline. ``*_at`` fields are moments; None means "never".

    ``rewrite_at`` replaces ``duration`` by ``rewritten_duration``; ``shift_at`` moves
    ``started_at`` one second later. Both happen only after the call is done, like
    Aircall's settling; neither happens before the call is listed.

    ``transcription_at``, ``summary_at``, ``topics_at``, ``sentiments_at``,
    ``action_items_at`` and the four AI Assist Pro ones (``playbook_result_at``,
    ``evaluations_at``, ``custom_summary_result_at``, ``predicted_csat_at``) are when
    ``GET /v1/calls/{id}/<insight>`` starts answering 200 (None: never, a 404 for good).
    Only calls that get a recording have them, never before the recording appears, and
    they are not part of :attr:`settled_at`: they change other endpoints, not the
    call's record.
    """

    id: int
    direction: str
    user_id: int | None
    number_id: int
    contact_id: int | None
    raw_digits: str
    missed_call_reason: str | None
    started_at: int
    visible_at: int
    answered_at: int | None
    ended_at: int
    recording_at: int | None
    recording_size: int | None
    rewrite_at: int | None = None
    rewritten_duration: int | None = None
    shift_at: int | None = None
    transcription_at: int | None = None
    summary_at: int | None = None
    topics_at: int | None = None
    sentiments_at: int | None = None
    action_items_at: int | None = None
    playbook_result_at: int | None = None
    evaluations_at: int | None = None
    custom_summary_result_at: int | None = None
    predicted_csat_at: int | None = None
    # A customer deletes the call (it leaves the listing, lookups answer 404), or only
    # its recording (``recording`` null again), at these moments.
    deleted_at: int | None = None
    recording_deleted_at: int | None = None

    def insight_times(self) -> insights.InsightTimes:
        """The nine insight ready times as one value."""
        return insights.InsightTimes(
            **{name: getattr(self, f"{name}_at") for name in insights.RESOURCES}
        )

    def insight_ready_at(self, resource: str) -> int | None:
        """When ``resource`` (``insights.RESOURCES``) is first served with 200; None: never."""
        return self.insight_times().get(resource)

    def insight_ready(self, resource: str, t: int) -> bool:
        """Whether ``GET /v1/calls/{id}/<resource>`` answers 200 at account time ``t``."""
        ready_at = self.insight_ready_at(resource)
        return ready_at is not None and t >= ready_at

    def state_at(self, t: int) -> CallState | None:
        """None while the listing does not show the call (not yet, or deleted)."""
        if t < self.visible_at or (self.deleted_at is not None and t >= self.deleted_at):
            return None
        started = self.started_at + (1 if self.shift_at is not None and t >= self.shift_at else 0)
        if t < self.ended_at:
            answered = self.answered_at
            if answered is not None and t < answered:
                answered = None
            status = "answered" if answered is not None else "initial"
            return CallState(status, started, answered, None, 0, None)
        duration = self.ended_at - self.started_at
        if self.rewrite_at is not None and t >= self.rewrite_at:
            assert self.rewritten_duration is not None
            duration = self.rewritten_duration
        has_recording = self.recording_at is not None and t >= self.recording_at
        if self.recording_deleted_at is not None and t >= self.recording_deleted_at:
            has_recording = False
        size = self.recording_size if has_recording else None
        return CallState("done", started, self.answered_at, self.ended_at, duration, size)

    @property
    def settled_at(self) -> int:
        """The moment after which the call never changes again."""
        moments = [self.visible_at, self.ended_at, self.recording_at, self.rewrite_at]
        moments.extend((self.shift_at, self.deleted_at, self.recording_deleted_at))
        return max(m for m in moments if m is not None)

    def changes_after_done(self) -> list[int]:
        """Moments a done call's served record changes (rewrite, shift, recording)."""
        done_seen = max(self.ended_at, self.visible_at)
        moments = (self.rewrite_at, self.shift_at, self.recording_at, self.recording_deleted_at)
        return sorted(m for m in moments if m is not None and m > done_seen)


@dataclass(frozen=True, slots=True)
class DayScenario:
    """A seeded day: ``history`` settled before ``start``, ``calls`` during the day."""

    seed: int
    start: int
    history: tuple[ScheduledCall, ...]
    calls: tuple[ScheduledCall, ...]
    stuck_ids: frozenset[int] = field(default_factory=frozenset)
    """Calls that stay in progress for hours (more than 6 h for some of them)."""

    def all_calls(self) -> tuple[ScheduledCall, ...]:
        return self.history + self.calls


@dataclass(frozen=True, slots=True)
class AccountShape:
    """The parts of the account a scenario needs: who takes calls, on which numbers."""

    user_ids: tuple[int, ...]
    recording_number_ids: tuple[int, ...]
    silent_number_ids: tuple[int, ...]
    """Numbers with recording off: their answered calls never get a file."""
    contact_ids: tuple[int, ...]
    salescaling_user_ids: tuple[int, ...] = ()
    """Whose calls a Salescaling config imports; the long-stuck calls are theirs."""


def generate_day(
    seed: int,
    start: int,
    account: AccountShape,
    first_call_id: int,
    calls: int = 400,
    history: int = 60,
    large_recordings: int = 3,
    large_size: int = 1_572_864,
    deletions: bool = False,
) -> DayScenario:
    """Business-hour arrivals (08:00-19:00 after ``start``), ``history`` settled calls
    in the 36 hours before it, a few long-stuck calls, some late in the listing.

    Recordings are small (20-60 kB) so a day downloads quickly, except
    ``large_recordings`` of ``large_size`` bytes (over a 1 MiB limit). With
    ``deletions``, a customer deletes a few history calls or recordings during the day
    (``_with_deletions``).
    """
    rng = random.Random(f"aircall-sandbox-day:{seed}")
    next_id = first_call_id
    made: list[ScheduledCall] = []
    old: list[ScheduledCall] = []
    stuck: set[int] = set()

    def new_id() -> int:
        nonlocal next_id
        next_id += rng.randint(1, 9)
        return next_id

    history_times = sorted(rng.randint(start - 36 * HOUR, start - 2 * HOUR) for _ in range(history))
    for started in history_times:
        old.append(_one_call(rng, account, new_id(), started, settled=True))
    arrivals = sorted(rng.randint(start + 8 * HOUR, start + 19 * HOUR) for _ in range(calls))
    for i in range(1, len(arrivals)):
        if rng.random() < 0.04:
            arrivals[i] = arrivals[i - 1]  # same second as the previous call
    stuck_slots = set(rng.sample(range(len(arrivals) // 3), min(8, len(arrivals) // 3)))
    for index, started in enumerate(arrivals):
        long_hours = None
        if index in stuck_slots:
            # Half of them more than 6 hours, the rest one to three hours.
            long_hours = rng.uniform(6.2, 8.5) if len(stuck) % 2 == 0 else rng.uniform(1.0, 3.0)
        call = _one_call(rng, account, new_id(), started, settled=False, long_hours=long_hours)
        if long_hours is not None:
            stuck.add(call.id)
        made.append(call)
    eligible = [c for c in made if c.recording_at is not None and c.id not in stuck]
    for call in rng.sample(eligible, min(large_recordings, len(eligible))):
        made[made.index(call)] = _replace(call, recording_size=large_size + rng.randint(0, 4095))
    history_calls = tuple(_with_insights(seed, c) for c in old)
    if deletions:
        history_calls = _with_deletions(seed, start, account, list(history_calls))
    day_calls = tuple(_with_insights(seed, c) for c in made)
    return DayScenario(seed, start, history_calls, day_calls, frozenset(stuck))


# 20 minutes into the day: after the first sync imported the history (a sync every 15
# minutes from the day's start), so that the day sees each removal reported.
DELETED_RECORDING_AT = 20 * 60
DELETED_CALL_AT = 20 * 60 + 1
DELETED_UNIMPORTED_AT = 20 * 60 + 2


def _with_deletions(
    seed: int, start: int, account: AccountShape, history: list[ScheduledCall]
) -> tuple[ScheduledCall, ...]:
    """A customer deletes, during the day, the recording of one history call that a
    Salescaling user recorded, a whole other such call, and a call of someone else's
    (never imported). Drawn apart from the day's random stream, like the insights."""
    rng = random.Random(f"aircall-sandbox-day-deletions:{seed}")
    salescaling = set(account.salescaling_user_ids)
    imported = [c for c in history if c.recording_at is not None and c.user_id in salescaling]
    others = [c for c in history if c.user_id not in salescaling]
    if len(imported) < 2 or not others:
        return tuple(history)
    recording, call = rng.sample(imported, 2)
    unimported = rng.choice(others)
    changes = {
        recording.id: {"recording_deleted_at": start + DELETED_RECORDING_AT},
        call.id: {"deleted_at": start + DELETED_CALL_AT},
        unimported.id: {"deleted_at": start + DELETED_UNIMPORTED_AT},
    }
    return tuple(_replace(c, **changes[c.id]) if c.id in changes else c for c in history)


def _replace(call: ScheduledCall, **changes: int | None) -> ScheduledCall:
    fields = {name: getattr(call, name) for name in ScheduledCall.__slots__}
    fields.update(changes)
    return ScheduledCall(**fields)


def _with_insights(seed: int, call: ScheduledCall) -> ScheduledCall:
    """The call with its Aircall AI ready times, drawn apart from the day's random stream.

    Their own generator (``insights.ready_times``, keyed by seed and call id) leaves
    every other draw of the day as it was. The AI work starts once the recording is
    there (and the call listed), so no insight is ready before the recording.
    """
    if call.recording_at is None:
        return call
    base = max(call.ended_at, call.recording_at, call.visible_at)
    talk = call.ended_at - (call.answered_at if call.answered_at is not None else call.started_at)
    times = insights.ready_times(seed, call.id, base, talk)
    return _replace(call, **{f"{name}_at": value for name, value in times.as_dict().items()})


def _one_call(
    rng: random.Random,
    account: AccountShape,
    call_id: int,
    started: int,
    settled: bool,
    long_hours: float | None = None,
) -> ScheduledCall:
    """One call's life; ``settled`` calls (history) carry no pending change."""
    r = rng.random()
    user_id: int | None = rng.choice(account.user_ids)
    number_id = rng.choice(account.recording_number_ids)
    direction = "inbound" if rng.random() < 0.55 else "outbound"
    contact_id = None
    if account.contact_ids and rng.random() < 0.7:
        contact_id = rng.choice(account.contact_ids)
    raw_digits = "+33 6 " + " ".join(str(rng.randint(10, 99)) for _ in range(4))
    answered: int | None = started + rng.randint(2, 25)
    reason: str | None = None
    recorded = True
    length = min(1800, 20 + int(rng.expovariate(1 / 240)))
    if long_hours is not None:
        direction, length = "inbound", int(long_hours * HOUR)
        user_id = rng.choice(account.salescaling_user_ids or account.user_ids)
    elif r < 0.12:  # missed inbound
        direction, answered, recorded = "inbound", None, False
        reason = rng.choice(("no_available_agent", "agents_did_not_answer", "short_abandoned"))
        length = rng.randint(5, 60)
    elif r < 0.17:  # abandoned in the IVR: no agent
        direction, answered, recorded, user_id = "inbound", None, False, None
        reason, length = "abandoned_in_ivr", rng.randint(3, 40)
    elif r < 0.25 and account.silent_number_ids:  # answered on the number that does not record
        number_id, recorded = rng.choice(account.silent_number_ids), False
    elif r < 0.32:  # outbound nobody picked up
        direction, answered, recorded = "outbound", None, False
        length = rng.randint(5, 45)
    ended = started + length
    if answered is not None and answered > ended:
        answered = ended
    visible = started
    if not settled and rng.random() < 0.10:
        visible = started + rng.randint(60, 480)  # listed minutes after it started
    recording_at: int | None = None
    size: int | None = None
    never = rng.random() < 0.05 and long_hours is None  # a few recordings never appear
    if recorded and not never:
        recording_at = ended + rng.randint(60, 3000)
        size = rng.randint(20_000, 60_000)
    rewrite_at = shift_at = rewritten = None
    if not settled:
        if rng.random() < 0.6:
            rewrite_at = ended + rng.randint(30, 900)
            rewritten = length + rng.randint(1, 6)
        if rng.random() < 0.25:
            shift_at = ended + rng.randint(30, 600)
    else:
        # History is settled: its recording appeared long ago, and nothing moves any more.
        if recording_at is not None:
            recording_at = min(recording_at, started + length + 60)
    return ScheduledCall(
        id=call_id,
        direction=direction,
        user_id=user_id,
        number_id=number_id,
        contact_id=contact_id,
        raw_digits=raw_digits,
        missed_call_reason=reason,
        started_at=started,
        visible_at=visible,
        answered_at=answered,
        ended_at=ended,
        recording_at=recording_at,
        recording_size=size,
        rewrite_at=rewrite_at,
        rewritten_duration=rewritten,
        shift_at=shift_at,
    )


def scenario_to_json(scenario: DayScenario) -> dict[str, object]:
    """The schedule as plain JSON, the body of ``POST /_sandbox/scenario``."""

    def one(call: ScheduledCall) -> dict[str, object]:
        return {name: getattr(call, name) for name in ScheduledCall.__slots__}

    return {
        "seed": scenario.seed,
        "start": scenario.start,
        "history": [one(c) for c in scenario.history],
        "calls": [one(c) for c in scenario.calls],
        "stuck_ids": sorted(scenario.stuck_ids),
    }


def scenario_from_json(body: dict[str, object]) -> DayScenario:
    """Inverse of :func:`scenario_to_json`; a missing or mistyped field raises ValueError."""
    try:
        history = tuple(ScheduledCall(**c) for c in body["history"])  # type: ignore[attr-defined]
        calls = tuple(ScheduledCall(**c) for c in body["calls"])  # type: ignore[attr-defined]
        stuck = frozenset(int(i) for i in body.get("stuck_ids", []))  # type: ignore[attr-defined]
        return DayScenario(int(body["seed"]), int(body["start"]), history, calls, stuck)  # type: ignore[call-overload]
    except (KeyError, TypeError) as error:
        raise ValueError(f"invalid scenario: {error}") from error
