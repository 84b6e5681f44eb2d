"""The sandbox's in-memory Aircall account: its queries, its mutations, its day scenario.

Everything the fake API serves comes from one :class:`SandboxWorld`: users,
Aircall numbers, contacts and calls (seeded by ``generator.py``). It can be
changed while the server runs (new calls, finished calls, new recordings)
through the control API, which is how tests drive incremental syncs, and a
loaded day scenario rewrites it lazily as the sandbox clock passes. Aircall AI
insights are not stored: :meth:`SandboxWorld.insight` computes them per request
(``insights.py``); only a test's per-call overrides of their ready times are kept.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import insights
from .call_index import CallIndex
from .model import (
    BYTES_PER_SECOND,
    CALL_FIELDS,
    FIRST_CALL_ID,
    FIRST_USER_ID,
    FLAG_NAMES,
    RETENTION_SECONDS,
    USER_FIELDS,
    ModelError,
    NewCalls,
    SandboxCall,
    SandboxContact,
    SandboxNumber,
    SandboxUser,
    call_sid,
    comments_from,
    country_of,
    int_param,
    price,
    random_phone,
    tags_from,
)
from .scenario_replay import ScenarioReplay

if TYPE_CHECKING:
    from .scenario import DayScenario, ScheduledCall


class SandboxWorld:
    """The whole fake account plus the sandbox clock; every method is thread-safe.

    The clock is ``time.time() + clock_offset`` so tests can make URLs expire
    or calls age without sleeping.
    """

    def __init__(self, seed: int, start_time: int) -> None:
        self.seed = seed
        self.start_time = start_time
        self.clock_offset = 0
        self.lock = threading.RLock()
        self.users: dict[int, SandboxUser] = {}
        self.removed_user_ids: set[int] = set()
        """Users deleted in Aircall: gone from ``/v2/users``, still the agent of their calls."""
        self.numbers: dict[int, SandboxNumber] = {}
        self.contacts: dict[int, SandboxContact] = {}
        self.index = CallIndex()
        self.calls = self.index.calls
        self.next_call_id = FIRST_CALL_ID
        self.rng = random.Random(f"aircall-sandbox-control:{seed}")
        self.scenario: DayScenario | None = None
        self.scenario_horizon: int | None = None
        self._replay: ScenarioReplay | None = None
        self._scheduled: dict[int, ScheduledCall] = {}
        self.insight_overrides: dict[int, dict[str, int | None]] = {}
        """Per call, the insight ready times a test set (None: never); the rest default."""

    # ----------------------------------------------------------------- clock
    def now(self) -> int:
        """The sandbox's current UNIX time in whole seconds."""
        return int(time.time()) + self.clock_offset

    def account_time(self) -> int:
        """The moment the account shows: the clock, held back to the scenario horizon."""
        now = self.now()
        return now if self.scenario_horizon is None else min(now, self.scenario_horizon)

    # ----------------------------------------------------------------- index
    def index_calls(self, calls: Iterable[SandboxCall], presorted: bool = False) -> None:
        """Add calls to the account (must hold ``lock``)."""
        self.index.add(calls, presorted)

    def new_call_id(self) -> int:
        """Ids only grow, with small gaps, like Aircall's 64-bit call ids."""
        self.next_call_id += self.rng.randint(1, 9)
        return self.next_call_id

    # ----------------------------------------------------------------- reads
    def get_call(self, call_id: int) -> SandboxCall | None:
        with self.lock:
            self._advance()
            return self.calls.get(call_id)

    def query_calls(
        self,
        from_: int | None,
        to: int | None,
        descending: bool,
        offset: int,
        limit: int,
        predicate: Any = None,
    ) -> tuple[int, list[SandboxCall]]:
        """Calls with ``from_ < started_at <= to`` inside the retention, one page of them.

        Returns ``(total, page)``. Ties on ``started_at`` are ordered by id in
        the same direction as the sort. ``predicate`` (a callable) narrows the
        result for ``/v1/calls/search`` and costs a linear scan of the window.
        """
        with self.lock:
            self._advance()
            window = (self.now() - RETENTION_SECONDS, from_, to)
            return self.index.page(window, descending, offset, limit, predicate)

    def sorted_users(self) -> list[SandboxUser]:
        """The account's users (not the deleted ones), by id."""
        with self.lock:
            return [self.users[k] for k in sorted(self.users) if k not in self.removed_user_ids]

    def listed_user(self, user_id: int) -> SandboxUser | None:
        """A user ``GET /v2/users/{id}`` serves: None once deleted."""
        with self.lock:
            return None if user_id in self.removed_user_ids else self.users.get(user_id)

    def salescaling_emails(self) -> list[str]:
        """Normalized emails of the users a Salescaling config would list."""
        return [u.email_normalized for u in self.sorted_users() if u.salescaling]

    def all_calls(self) -> list[SandboxCall]:
        with self.lock:
            self._advance()
            return self.index.ordered()

    # -------------------------------------------------------------- scenario
    def load_scenario(self, scenario: DayScenario) -> None:
        """Schedule a day: its calls appear and change as the sandbox time passes.

        Nothing is applied now: every read brings the account to
        ``min(now, scenario_horizon)`` first, so a test can hold the account at a sync
        time while the clock (URL expiry, retention) keeps running.
        """
        with self.lock:
            self.scenario = scenario
            self._replay = ScenarioReplay(scenario)
            self._scheduled = {c.id: c for c in scenario.all_calls()}
            self.next_call_id = max([self.next_call_id, *(c.id for c in scenario.all_calls())])

    def _advance(self) -> None:
        """Apply the scenario up to the account time (must hold ``lock``)."""
        if self._replay is None:
            return
        self._replay.advance(self.index, self.account_time())

    # ---------------------------------------------------------------- Aircall AI
    def insight_times(self, call: SandboxCall) -> insights.InsightTimes:
        """When each insight of ``call`` is ready: a test's overrides, else the default.

        The default of a scenario call is its schedule's. Any other call gets insights
        only while it has a recording (a recording attached later makes them appear on
        the schedule counted from the hang-up, maybe at once); ``insights.ready_times``
        decides the rest from the seed and the call id. Must hold ``lock``.
        """
        scheduled = self._scheduled.get(call.id)
        if scheduled is not None:
            times = scheduled.insight_times()
        elif call.has_recording and call.ended_at is not None:
            begin = call.answered_at if call.answered_at is not None else call.started_at
            times = insights.ready_times(self.seed, call.id, call.ended_at, call.ended_at - begin)
        else:
            times = insights.NEVER
        overrides = self.insight_overrides.get(call.id)
        return times.replace(overrides) if overrides else times

    def insight(self, call_id: int, resource: str) -> dict[str, Any] | None:
        """The body of ``GET /v1/calls/{id}/<resource>``, or None (404) until it is ready.

        Readiness is judged at :meth:`account_time`, so a scenario held at a horizon
        holds its insights too. A call not done yet has nothing, whatever an override says.
        """
        with self.lock:
            self._advance()
            call = self.calls.get(call_id)
            if call is None or call.ended_at is None:
                return None
            ready_at = self.insight_times(call).get(resource)
            if ready_at is None or ready_at > self.account_time():
                return None
            user = self.users.get(call.user_id) if call.user_id is not None else None
            facts = insights.CallFacts(
                id=call.id,
                direction=call.direction,
                started_at=call.started_at,
                answered_at=call.answered_at,
                ended_at=call.ended_at,
                user_id=call.user_id,
                raw_digits=call.raw_digits,
                language=user.language if user is not None else "en-US",
            )
            agent = user.name.split(" ")[0] if user is not None else "Alex"
            return insights.render(resource, self.seed, facts, ready_at, agent)

    def insight_view(self, call_id: int) -> dict[str, Any]:
        """The control API's view of a call's insights: ready times, readiness, overrides."""
        with self.lock:
            self._advance()
            call = self.calls.get(call_id)
            if call is None:
                raise ModelError(f"unknown call {call_id}", 404)
            at = self.account_time()
            times = self.insight_times(call).as_dict()
            done = call.ended_at is not None
            return {
                "call_id": call_id,
                "at": at,
                "ready_at": times,
                "ready": {k: done and v is not None and v <= at for k, v in times.items()},
                "overrides": dict(self.insight_overrides.get(call_id, {})),
            }

    def set_insight_times(self, call_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Override ready times of a call's insights (absolute sandbox seconds, None = never).

        Keys not given keep their current value (an earlier override or the default).
        """
        unknown = set(changes) - set(insights.RESOURCES)
        if unknown:
            raise ModelError(f"unknown insights {sorted(unknown)}; use {list(insights.RESOURCES)}")
        for key, value in changes.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ModelError(f"{key} must be a UNIX time in seconds or null")
        with self.lock:
            self._advance()
            if call_id not in self.calls:
                raise ModelError(f"unknown call {call_id}", 404)
            self.insight_overrides.setdefault(call_id, {}).update(changes)
            return self.insight_view(call_id)

    def clear_insight_times(self, call_id: int) -> dict[str, Any]:
        """Drop a call's overrides: its insights follow the default schedule again."""
        with self.lock:
            self._advance()
            if call_id not in self.calls:
                raise ModelError(f"unknown call {call_id}", 404)
            self.insight_overrides.pop(call_id, None)
            return self.insight_view(call_id)

    # ---------------------------------------------------------------- writes
    def add_user(
        self, name: str, email: str, salescaling: bool = False, **extra: Any
    ) -> SandboxUser:
        """Create a user (e.g. a new agent appearing between two syncs)."""
        with self.lock:
            user_id = max(self.users, default=FIRST_USER_ID) + 11
            user = SandboxUser(
                id=user_id,
                name=name,
                email=email,
                salescaling=salescaling,
                created_at=self.now(),
                available=True,
                availability_status="available",
                substatus="always_opened",
                state="active",
                time_zone="Europe/Paris",
                language="en-US",
                wrap_up_time=0,
                extension=str(100 + len(self.users)),
                default_number_id=next(iter(self.numbers), None),
            )
            self._apply(user, extra, USER_FIELDS)
            self.users[user.id] = user
            return user

    def update_user(self, user_id: int, changes: Mapping[str, Any]) -> SandboxUser:
        """Change a user in place: Aircall moves no timestamp when it does this."""
        with self.lock:
            user = self.listed_user(user_id)
            if user is None:
                raise ModelError(f"unknown user {user_id}", 404)
            self._apply(user, changes, USER_FIELDS)
            return user

    def delete_user(self, user_id: int) -> SandboxUser:
        """Delete a user as Aircall would: gone from ``/v2/users`` (and its id never given
        again); the calls it took keep it as their agent."""
        with self.lock:
            user = self.listed_user(user_id)
            if user is None:
                raise ModelError(f"unknown user {user_id}", 404)
            self.removed_user_ids.add(user_id)
            return user

    def _pick_user(self, user_id: Any, salescaling_first: bool = True) -> int | None:
        """Resolve an explicit ``user_id`` (None allowed) or pick one deterministically."""
        if user_id is not None:
            if not isinstance(user_id, int) or user_id not in self.users:
                raise ModelError(f"unknown user_id {user_id!r}", 404)
            return user_id
        pool = [u.id for u in self.sorted_users() if u.salescaling or not salescaling_first]
        pool = pool or sorted(self.users)
        return self.rng.choice(pool) if pool else None

    def _recording_number(self) -> int:
        for number in self.numbers.values():
            if number.live_recording_activated:
                return number.id
        return next(iter(self.numbers))

    def add_calls(self, spec: Mapping[str, Any]) -> list[SandboxCall]:
        """Create calls from a control request (see ``control.py`` for the keys)."""
        request = NewCalls.from_spec(spec)
        with self.lock:
            now = self.now()
            user_for_next = self._user_picker(spec)
            contacts = list(self.contacts.values())
            first = now - request.ago
            created = []
            for i in range(request.count):
                offset = (request.spread * i) // (request.count - 1) if request.count > 1 else 0
                started = min(now, first + offset)
                call = self._new_call(request, started, user_for_next(), contacts, now)
                if request.done:
                    self._finish(call, now, request.duration, request.answered)
                    if request.recording:
                        size = request.recording_size
                        if size is None:
                            size = max(1, call.duration * BYTES_PER_SECOND)
                        self._set_recording(call, size, spec)
                created.append(call)
            self.index_calls(created)
            return created

    def _user_picker(self, spec: Mapping[str, Any]) -> Callable[[], int | None]:
        """The agent of each new call: the one asked for, none (an explicit null), or a
        Salescaling user picked call by call (must hold ``lock``)."""
        if "user_id" not in spec:
            return lambda: self._pick_user(None)
        if spec["user_id"] is None:
            return lambda: None
        fixed = self._pick_user(spec["user_id"])
        return lambda: fixed

    def _new_call(
        self,
        request: NewCalls,
        started: int,
        user_id: int | None,
        contacts: list[SandboxContact],
        now: int,
    ) -> SandboxCall:
        """One call of ``request``, not finished yet; its caller is a known contact unless
        the request gives ``raw_digits`` (must hold ``lock``)."""
        number_id = self._recording_number()
        contact = self.rng.choice(contacts) if contacts else None
        raw = request.raw_digits
        if raw is not None:
            raw_digits = raw
        elif contact and contact.phone_numbers:
            raw_digits = contact.phone_numbers[0][2]
        else:
            raw_digits = random_phone(self.rng)[0]
        call_id = self.new_call_id()
        answered_at = started + 4 if request.answered else None
        return SandboxCall(
            id=call_id,
            sid=call_sid(call_id),
            direction=request.direction,
            status=request.first_status,
            started_at=started,
            answered_at=None if answered_at is None else min(answered_at, now),
            ended_at=None,
            duration=0,
            missed_call_reason=None,
            user_id=user_id,
            number_id=number_id,
            contact_id=contact.id if contact and raw is None else None,
            raw_digits=raw_digits,
            country_code_a2=country_of(raw_digits),
        )

    def _finish(self, call: SandboxCall, now: int, duration: int, answered: bool) -> None:
        """Mark a call done, never ending it in the future (must hold ``lock``)."""
        call.status = "done"
        call.ended_at = min(now, call.started_at + duration)
        call.duration = call.ended_at - call.started_at
        if not answered:
            call.answered_at = None
            if call.direction == "inbound":
                call.missed_call_reason = call.missed_call_reason or "agents_did_not_answer"
        elif call.answered_at is None:
            call.answered_at = min(call.ended_at, call.started_at + 4)
        call.cost = price(call.direction, call.duration, call.answered_at is not None)

    def _set_recording(self, call: SandboxCall, size: int, flags: Mapping[str, Any]) -> None:
        if size < 1:
            raise ModelError("recording size must be >= 1")
        call.recording_size = size
        for name in FLAG_NAMES:
            if name in flags:
                setattr(call, name, bool(flags[name]))
        if "lying_actual_size" in flags:
            actual = flags["lying_actual_size"]
            call.lying_actual_size = None if actual is None else int(actual)
        if "fail_next" in flags:
            call.fail_next = int(flags["fail_next"])

    def finish_call(self, call_id: int, spec: Mapping[str, Any]) -> SandboxCall:
        """End an in-progress call; optionally give it a recording."""
        with self.lock:
            call = self.calls.get(call_id)
            if call is None:
                raise ModelError(f"unknown call {call_id}", 404)
            if call.status == "done":
                raise ModelError(f"call {call_id} is already done", 409)
            now = self.now()
            answered = bool(spec.get("answered", call.answered_at is not None))
            duration = int_param(spec, "duration", max(1, now - call.started_at), 0, None)
            self._finish(call, now, duration, answered)
            number = self.numbers.get(call.number_id)
            default_rec = answered and bool(number and number.live_recording_activated)
            if bool(spec.get("recording", default_rec)):
                size = spec.get("recording_size")
                size_i = int(size) if size is not None else max(1, call.duration * BYTES_PER_SECOND)
                self._set_recording(call, size_i, spec)
            return call

    def attach_recording(self, call_id: int, spec: Mapping[str, Any]) -> SandboxCall:
        """Attach or replace a done call's recording (the comm assets became ready)."""
        with self.lock:
            call = self.calls.get(call_id)
            if call is None:
                raise ModelError(f"unknown call {call_id}", 404)
            if call.status != "done":
                raise ModelError(f"call {call_id} is in progress: no recording yet", 409)
            size = spec.get("size", spec.get("recording_size"))
            size_i = int(size) if size is not None else max(1, call.duration * BYTES_PER_SECOND)
            # A new file resets the behaviour flags unless the request sets them.
            for name in FLAG_NAMES:
                setattr(call, name, False)
            call.lying_actual_size = None
            call.fail_next = 0
            self._set_recording(call, size_i, spec)
            return call

    def remove_recording(self, call_id: int) -> SandboxCall:
        with self.lock:
            call = self.calls.get(call_id)
            if call is None:
                raise ModelError(f"unknown call {call_id}", 404)
            call.recording_size = None
            return call

    def delete_call(self, call_id: int) -> SandboxCall:
        """Delete a call as Aircall would: it leaves every list, ``GET /v1/calls/{id}``,
        its insights and its media answer 404. A scenario call cannot be deleted (the
        replay would bring it back): 409."""
        with self.lock:
            self._advance()
            if call_id in self._scheduled:
                raise ModelError(f"call {call_id} belongs to the loaded day scenario", 409)
            call = self.index.remove(call_id)
            if call is None:
                raise ModelError(f"unknown call {call_id}", 404)
            self.insight_overrides.pop(call_id, None)
            return call

    def update_call(self, call_id: int, changes: Mapping[str, Any]) -> SandboxCall:
        """Rewrite fields of a call (Aircall rewrites duration/cost, moves started_at).
        ``tags`` and ``comments`` replace the call's: names or texts (by its agent, now),
        or objects (see ``model.tags_from``, ``model.comments_from``)."""
        with self.lock:
            call = self.calls.get(call_id)
            if call is None:
                raise ModelError(f"unknown call {call_id}", 404)
            started_at = call.started_at
            plain = {k: v for k, v in changes.items() if k not in ("tags", "comments")}
            now = self.now()
            tags = tags_from(changes["tags"], call.user_id, now) if "tags" in changes else None
            comments = (
                comments_from(changes["comments"], call.user_id, now)
                if "comments" in changes
                else None
            )
            self._apply(call, plain, CALL_FIELDS)
            call.tags = call.tags if tags is None else tags
            call.comments = call.comments if comments is None else comments
            self.index.move(call.id, started_at, call.started_at)
            return call

    def annotate_call(self, call_id: int, kind: str, spec: Mapping[str, Any]) -> SandboxCall:
        """A person adds a tag (``kind`` "tags": ``{name, tagged_by_id, tagged_at}``) or a
        comment ("comments": ``{content, posted_by_id, posted_at}``) to a call, by default
        its agent, now: one of Aircall's rewrites of a done call."""
        with self.lock:
            call = self.calls.get(call_id)
            if call is None:
                raise ModelError(f"unknown call {call_id}", 404)
            at = spec.get("tagged_at" if kind == "tags" else "posted_at", self.now())
            key = "tagged_by_id" if kind == "tags" else "posted_by_id"
            by = spec.get(key, call.user_id)
            if kind == "tags":
                call.tags = [*call.tags, *tags_from([{**spec, key: by, "tagged_at": at}], by, at)]
            else:
                call.comments = [
                    *call.comments,
                    *comments_from([{**spec, key: by, "posted_at": at}], by, at),
                ]
            return call

    def consume_fail(self, call: SandboxCall) -> bool:
        """True (and one less to go) when this download must fail with a 503; always true
        while the recording is flagged ``fail_always``."""
        with self.lock:
            if call.fail_always:
                return True
            if call.fail_next > 0:
                call.fail_next -= 1
                return True
            return False

    def expire_urls(self, ids: Iterable[int] | None, serial: int) -> int:
        """Revoke the URLs issued before ``serial`` for ``ids`` (None: every call)."""
        with self.lock:
            targets = (
                self.calls.values()
                if ids is None
                else [self.calls[i] for i in ids if i in self.calls]
            )
            count = 0
            for call in targets:
                call.url_serial_min = serial
                count += 1
            return count

    @staticmethod
    def _apply(target: Any, changes: Mapping[str, Any], allowed: Mapping[str, Any]) -> None:
        for key, value in changes.items():
            if key not in allowed:
                raise ModelError(f"field {key!r} cannot be set")
            kind = allowed[key]
            if value is not None and not isinstance(value, kind):
                raise ModelError(f"field {key!r} has the wrong type")
            setattr(target, key, value)
