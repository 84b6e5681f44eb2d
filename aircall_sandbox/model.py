"""The sandbox's in-memory Aircall account and its deterministic generator.

Everything the fake API serves comes from one :class:`SandboxWorld`: users,
Aircall numbers, contacts and calls. The world is generated from a seed so a
test run, a demo and a benchmark see the same account every time, and it can
be changed while the server runs (new calls, finished calls, new recordings)
through the control API, which is how tests drive incremental syncs.

Calls are kept in a dict by id plus a list of ``(started_at, id)`` keys kept
sorted, so a ``from``/``to`` window and a page are found by bisection in
O(log n) even with 100,000 calls.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .scenario import DayScenario, ScheduledCall

DAY = 86_400
RETENTION_SECONDS = 183 * DAY
"""Aircall serves about six months of history; older calls are never listed."""

BYTES_PER_SECOND = 16_000
"""128 kbit/s MP3: recording sizes are derived from call durations with this rate."""

MIB = 1_048_576
FIRST_CALL_ID = 2_100_000_000
FIRST_USER_ID = 1_300_100
FIRST_CONTACT_ID = 870_000_000
FIRST_NUMBER_ID = 510_000

MISSED_REASONS = (
    "out_of_opening_hours",
    "short_abandoned",
    "abandoned_in_classic",
    "no_available_agent",
    "agents_did_not_answer",
)

_FIRST_NAMES = (
    "Bruno", "Chloe", "David", "Elena", "Farid", "Giulia", "Hugo", "Ines", "Jonas",
    "Karin", "Lucas", "Marta", "Nadia", "Oscar", "Paula", "Quentin", "Rosa", "Samir",
    "Tessa", "Ugo", "Vera", "Walter", "Yara", "Zoe", "Amir", "Berta", "Carlos", "Dora",
)  # fmt: skip
_LAST_NAMES = (
    "Martin", "Rossi", "Dubois", "Schmidt", "Garcia", "Novak", "Jensen", "Moreau",
    "Costa", "Keller", "Lambert", "Ferreira", "Weber", "Russo", "Bernard", "Lopez",
    "Meyer", "Fontaine", "Marino", "Vidal", "Hansen", "Petit", "Romano", "Silvestri",
)  # fmt: skip
_COMPANIES = (
    "Acme Corp", "Globex", "Initech", "Umbrella SA", "Hooli", "Vandelay Industries",
    "Stark Trading", "Wayne Logistics", "Soylent Foods", "Tyrell GmbH",
)  # fmt: skip
_TAGS = ("Lead", "Customer", "Follow-up", "Demo booked", "Churn risk", "Support")
_TEAMS = ("Sales", "Support", "Onboarding")
_COMMENTS = ("Call back next week", "Sent pricing", "Wants a demo", "Wrong number")
_TIME_ZONES = ("Europe/Paris", "Europe/Madrid", "America/New_York", "Europe/London")
_LANGUAGES = ("en-US", "fr-FR", "es-ES", "en-GB")
_COUNTRIES = (
    ("+33", "FR", (1, 6, 7)),
    ("+34", "ES", (6, 9)),
    ("+44", "GB", (7, 20)),
    ("+1", "US", (212, 415, 646)),
    ("+49", "DE", (30, 151)),
)


@dataclass(slots=True)
class SandboxUser:
    """An Aircall agent. ``email`` is stored exactly as Aircall returns it."""

    id: int
    name: str
    email: str
    salescaling: bool
    created_at: int
    available: bool
    availability_status: str
    substatus: str
    state: str
    time_zone: str
    language: str
    wrap_up_time: int
    extension: str
    default_number_id: int | None

    @property
    def email_normalized(self) -> str:
        """The trimmed lower-case email: what a Salescaling config would list."""
        return self.email.strip().lower()

    def to_control(self) -> dict[str, Any]:
        """The full model view for the control API (includes the salescaling flag)."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "email_normalized": self.email_normalized,
            "salescaling": self.salescaling,
            "created_at": self.created_at,
            "available": self.available,
            "availability_status": self.availability_status,
            "substatus": self.substatus,
            "state": self.state,
            "time_zone": self.time_zone,
            "language": self.language,
            "wrap_up_time": self.wrap_up_time,
            "extension": self.extension,
            "default_number_id": self.default_number_id,
        }


@dataclass(slots=True)
class SandboxNumber:
    """An Aircall phone number; recording is switched on or off per number."""

    id: int
    name: str
    digits: str
    country: str
    time_zone: str
    live_recording_activated: bool


@dataclass(slots=True)
class SandboxContact:
    """A CRM-ish contact; some have only a company name, some no email."""

    id: int
    first_name: str | None
    last_name: str | None
    company_name: str | None
    phone_numbers: list[tuple[int, str, str]]
    emails: list[tuple[int, str, str]]
    created_at: int


@dataclass(slots=True)
class SandboxCall:
    """One call, with the sandbox-only fields that drive the storage host.

    ``recording_size``/``voicemail_size`` are None when the call has no such
    file. The boolean flags make the storage host misbehave for this call's
    recording (see ``server.py``); ``url_serial_min`` revokes every URL issued
    before it (``expire_recording_urls``).
    """

    id: int
    sid: str
    direction: str
    status: str
    started_at: int
    answered_at: int | None
    ended_at: int | None
    duration: int
    missed_call_reason: str | None
    user_id: int | None
    number_id: int
    contact_id: int | None
    raw_digits: str
    country_code_a2: str | None
    archived: bool = False
    cost: str = "0.0"
    pricing_type: str = "regular"
    recording_size: int | None = None
    voicemail_size: int | None = None
    tags: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    assigned_to_id: int | None = None
    transferred_by_id: int | None = None
    transferred_to_id: int | None = None
    no_content_length: bool = False
    short_body: bool = False
    lying_length: bool = False
    lying_actual_size: int | None = None
    redirect: bool = False
    fail_next: int = 0
    url_serial_min: int = 0

    @property
    def has_recording(self) -> bool:
        """In-progress calls never expose a recording, whatever the model holds."""
        return self.status == "done" and self.recording_size is not None

    @property
    def has_voicemail(self) -> bool:
        return self.status == "done" and self.voicemail_size is not None

    @property
    def served_size(self) -> int:
        """Bytes a full GET of the recording really sends (differs with ``lying_length``)."""
        size = self.recording_size or 0
        if self.lying_length:
            return self.lying_actual_size or size * 2 + MIB
        return size

    def flags(self) -> dict[str, Any]:
        """The storage behaviour flags, as the control API shows and accepts them."""
        return {
            "no_content_length": self.no_content_length,
            "short_body": self.short_body,
            "lying_length": self.lying_length,
            "lying_actual_size": self.lying_actual_size,
            "redirect": self.redirect,
            "fail_next": self.fail_next,
        }

    def to_control(self) -> dict[str, Any]:
        """The full model view (sizes and flags included) for the control API."""
        return {
            "id": self.id,
            "sid": self.sid,
            "direction": self.direction,
            "status": self.status,
            "started_at": self.started_at,
            "answered_at": self.answered_at,
            "ended_at": self.ended_at,
            "duration": self.duration,
            "missed_call_reason": self.missed_call_reason,
            "user_id": self.user_id,
            "number_id": self.number_id,
            "contact_id": self.contact_id,
            "raw_digits": self.raw_digits,
            "country_code_a2": self.country_code_a2,
            "archived": self.archived,
            "cost": self.cost,
            "recording_size": self.recording_size,
            "voicemail_size": self.voicemail_size,
            "served_size": self.served_size if self.recording_size is not None else None,
            "has_recording": self.has_recording,
            "has_voicemail": self.has_voicemail,
            "tags": list(self.tags),
            "teams": list(self.teams),
            "comments": list(self.comments),
            "assigned_to_id": self.assigned_to_id,
            "transferred_by_id": self.transferred_by_id,
            "transferred_to_id": self.transferred_to_id,
            "flags": self.flags(),
        }


class ModelError(ValueError):
    """A control request the model cannot honour; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


FLAG_NAMES = ("no_content_length", "short_body", "lying_length", "redirect")


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
        self.numbers: dict[int, SandboxNumber] = {}
        self.contacts: dict[int, SandboxContact] = {}
        self.calls: dict[int, SandboxCall] = {}
        self._order: list[tuple[int, int]] = []
        self.next_call_id = FIRST_CALL_ID
        self.rng = random.Random(f"aircall-sandbox-control:{seed}")
        self.scenario: DayScenario | None = None
        self.scenario_horizon: int | None = None
        self._unsettled: list[ScheduledCall] = []
        self._applied_at: int | None = None

    # ----------------------------------------------------------------- clock
    def now(self) -> int:
        """The sandbox's current UNIX time in whole seconds."""
        return int(time.time()) + self.clock_offset

    # ----------------------------------------------------------------- index
    def _index_add(self, calls: Iterable[SandboxCall], presorted: bool = False) -> None:
        """Insert calls in the id map and the sorted key list (must hold ``lock``)."""
        keys = []
        for call in calls:
            self.calls[call.id] = call
            keys.append((call.started_at, call.id))
        if presorted and (not self._order or not keys or self._order[-1] <= keys[0]):
            self._order.extend(keys)
        elif len(keys) > 64:
            self._order.extend(keys)
            self._order.sort()
        else:
            for key in keys:
                bisect.insort(self._order, key)

    def _new_call_id(self) -> int:
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
            cutoff = self.now() - RETENTION_SECONDS
            lo = bisect.bisect_left(self._order, (cutoff, -1))
            if from_ is not None:
                lo = max(lo, bisect.bisect_right(self._order, (from_, 2**63)))
            hi = len(self._order)
            if to is not None:
                hi = min(hi, bisect.bisect_right(self._order, (to, 2**63)))
            if hi <= lo:
                return 0, []
            if predicate is not None:
                keys = [k for k in self._order[lo:hi] if predicate(self.calls[k[1]])]
                if descending:
                    keys.reverse()
                page = keys[offset : offset + limit]
                return len(keys), [self.calls[k[1]] for k in page]
            total = hi - lo
            if descending:
                end = hi - offset
                start = max(lo, end - limit)
                keys = self._order[start:end] if end > lo else []
                keys.reverse()
            else:
                start = lo + offset
                keys = self._order[start : min(hi, start + limit)] if start < hi else []
            return total, [self.calls[k[1]] for k in keys]

    def sorted_users(self) -> list[SandboxUser]:
        with self.lock:
            return [self.users[k] for k in sorted(self.users)]

    def salescaling_emails(self) -> list[str]:
        """Normalized emails of the users a Salescaling config would list."""
        return [u.email_normalized for u in self.sorted_users() if u.salescaling]

    def all_calls(self) -> list[SandboxCall]:
        with self.lock:
            self._advance()
            return [self.calls[k[1]] for k in self._order]

    # -------------------------------------------------------------- scenario
    def load_scenario(self, scenario: DayScenario) -> None:
        """Schedule a day: its calls appear and change as the sandbox time passes.

        Nothing is applied now: every read brings the account to
        ``min(now, scenario_horizon)`` first, so a test can hold the account at a sync
        time while the clock (URL expiry, retention) keeps running.
        """
        with self.lock:
            self.scenario = scenario
            self._unsettled = sorted(scenario.all_calls(), key=lambda c: (c.visible_at, c.id))
            self._applied_at = None
            self.next_call_id = max([self.next_call_id, *(c.id for c in self._unsettled)])

    def _advance(self) -> None:
        """Apply the scenario up to the account time (must hold ``lock``).

        Each call not yet settled is rewritten from ``state_at`` (one source of truth
        with the oracles that read the same schedule); settled calls leave the list.
        """
        if self.scenario is None:
            return
        at = self.now() if self.scenario_horizon is None else min(self.now(), self.scenario_horizon)
        if at == self._applied_at:
            return
        if self._applied_at is not None and at < self._applied_at:
            self._rewind()
        if not self._unsettled:
            return
        self._applied_at = at
        remaining: list[ScheduledCall] = []
        for scheduled in self._unsettled:
            if scheduled.visible_at > at:
                remaining.append(scheduled)
                continue
            self._apply_scheduled(scheduled, at)
            if scheduled.settled_at > at:
                remaining.append(scheduled)
        self._unsettled = remaining

    def _rewind(self) -> None:
        """Time went back (a test moved the horizon): replay the schedule from scratch."""
        assert self.scenario is not None
        ids = {c.id for c in self.scenario.all_calls()}
        for call_id in ids:
            self.calls.pop(call_id, None)
        self._order = [key for key in self._order if key[1] not in ids]
        self._unsettled = sorted(self.scenario.all_calls(), key=lambda c: (c.visible_at, c.id))

    def _apply_scheduled(self, scheduled: ScheduledCall, at: int) -> None:
        state = scheduled.state_at(at)
        assert state is not None
        call = self.calls.get(scheduled.id)
        if call is None:
            call = SandboxCall(
                id=scheduled.id,
                sid=_sid(scheduled.id),
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
                country_code_a2=_country_of(scheduled.raw_digits),
            )
            self._index_add([call])
        elif call.started_at != state.started_at:
            index = bisect.bisect_left(self._order, (call.started_at, call.id))
            del self._order[index]
            bisect.insort(self._order, (state.started_at, call.id))
        call.status = state.status
        call.started_at = state.started_at
        call.answered_at = state.answered_at
        call.ended_at = state.ended_at
        call.duration = state.duration
        call.cost = f"{state.duration * 0.002:.3f}"
        call.recording_size = state.recording_size

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
            self._apply(user, extra, _USER_FIELDS)
            self.users[user.id] = user
            return user

    def update_user(self, user_id: int, changes: Mapping[str, Any]) -> SandboxUser:
        """Change a user in place: Aircall moves no timestamp when it does this."""
        with self.lock:
            user = self.users.get(user_id)
            if user is None:
                raise ModelError(f"unknown user {user_id}", 404)
            self._apply(user, changes, _USER_FIELDS)
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
        count = _int(spec, "count", 1, 1, 100_000)
        status = str(spec.get("status", "done"))
        if status not in ("done", "in_progress", "initial", "answered"):
            raise ModelError("status must be done, in_progress, initial or answered")
        done = status == "done"
        direction = str(spec.get("direction", "inbound"))
        if direction not in ("inbound", "outbound"):
            raise ModelError("direction must be inbound or outbound")
        answered = bool(spec.get("answered", status != "initial"))
        want_recording = bool(spec.get("recording", done and answered))
        if want_recording and not done:
            raise ModelError("an in-progress call cannot have a recording", 409)
        duration_default = _int(spec, "duration", 120, 1, 10 * DAY)
        ago = _int(spec, "started_ago_seconds", duration_default + 60 if done else 30, 0, None)
        spread_default = min(count - 1, ago)
        spread = _int(spec, "spread_seconds", spread_default, 0, None)
        size_given = spec.get("recording_size")
        with self.lock:
            now = self.now()
            if "user_id" in spec and spec["user_id"] is None:
                user_id_fixed: int | None = None
                explicit_null = True
            else:
                user_id_fixed = self._pick_user(spec.get("user_id")) if "user_id" in spec else None
                explicit_null = False
            created = []
            contacts = list(self.contacts.values())
            first = now - ago
            for i in range(count):
                offset = (spread * i) // (count - 1) if count > 1 else 0
                started = min(now, first + offset)
                if explicit_null:
                    user_id = None
                elif user_id_fixed is not None:
                    user_id = user_id_fixed
                else:
                    user_id = self._pick_user(None)
                number_id = self._recording_number()
                contact = self.rng.choice(contacts) if contacts else None
                raw = spec.get("raw_digits")
                raw_digits = (
                    str(raw)
                    if raw is not None
                    else (
                        contact.phone_numbers[0][2]
                        if contact and contact.phone_numbers
                        else _phone(self.rng)[0]
                    )
                )
                call = SandboxCall(
                    id=self._new_call_id(),
                    sid="",
                    direction=direction,
                    status="done" if done else ("answered" if answered else "initial"),
                    started_at=started,
                    answered_at=started + 4 if answered else None,
                    ended_at=None,
                    duration=0,
                    missed_call_reason=None,
                    user_id=user_id,
                    number_id=number_id,
                    contact_id=contact.id if contact and raw is None else None,
                    raw_digits=raw_digits,
                    country_code_a2=_country_of(raw_digits),
                )
                call.sid = _sid(call.id)
                if answered and call.answered_at is not None and call.answered_at > now:
                    call.answered_at = now
                if done:
                    self._finish(call, now, duration_default, answered)
                    if want_recording:
                        size = (
                            int(size_given)
                            if size_given is not None
                            else max(1, call.duration * BYTES_PER_SECOND)
                        )
                        self._set_recording(call, size, spec)
                created.append(call)
            self._index_add(created)
            return created

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
        call.cost = f"{call.duration * 0.002:.3f}"

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
            duration = _int(spec, "duration", max(1, now - call.started_at), 0, None)
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

    def update_call(self, call_id: int, changes: Mapping[str, Any]) -> SandboxCall:
        """Rewrite fields of a call (Aircall rewrites duration/cost, moves started_at)."""
        with self.lock:
            call = self.calls.get(call_id)
            if call is None:
                raise ModelError(f"unknown call {call_id}", 404)
            old_key = (call.started_at, call.id)
            self._apply(call, changes, _CALL_FIELDS)
            new_key = (call.started_at, call.id)
            if new_key != old_key:
                index = bisect.bisect_left(self._order, old_key)
                del self._order[index]
                bisect.insort(self._order, new_key)
            return call

    def consume_fail(self, call: SandboxCall) -> bool:
        """True (and one less to go) when this download must fail with a 503."""
        with self.lock:
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


_USER_FIELDS: dict[str, Any] = {
    "name": str, "email": str, "salescaling": bool, "available": bool,
    "availability_status": str, "substatus": str, "state": str, "time_zone": str,
    "language": str, "wrap_up_time": int, "extension": str, "default_number_id": int,
}  # fmt: skip
_CALL_FIELDS: dict[str, Any] = {
    "started_at": int, "answered_at": int, "ended_at": int, "duration": int,
    "missed_call_reason": str, "user_id": int, "raw_digits": str, "archived": bool,
    "cost": str, "tags": list, "teams": list, "comments": list, "status": str,
    "recording_size": int, "voicemail_size": int, "direction": str,
    "assigned_to_id": int, "transferred_by_id": int, "transferred_to_id": int,
    "no_content_length": bool, "short_body": bool, "lying_length": bool,
    "lying_actual_size": int, "redirect": bool, "fail_next": int,
}  # fmt: skip


def _int(spec: Mapping[str, Any], key: str, default: int, low: int, high: int | None) -> int:
    """Read an integer control parameter, refusing junk with a 400."""
    value = spec.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelError(f"{key} must be an integer")
    result = int(value)
    if result < low or (high is not None and result > high):
        raise ModelError(f"{key} out of range")
    return result


def _sid(call_id: int) -> str:
    """A Twilio-like call SID derived from the id (cheap, stable, unique)."""
    return "CA" + hashlib.blake2b(str(call_id).encode(), digest_size=16).hexdigest()


def _phone(rng: random.Random) -> tuple[str, str]:
    """A random international number with its ISO country code."""
    prefix, country, areas = rng.choice(_COUNTRIES)
    area = rng.choice(areas)
    if prefix == "+1":
        return f"+1 {area}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}", country
    rest = " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))
    return f"{prefix} {area} {rest}", country


def _country_of(raw_digits: str) -> str | None:
    if raw_digits == "anonymous":
        return None
    for prefix, country, _ in _COUNTRIES:
        if raw_digits.startswith(prefix + " "):
            return country
    return None


# ---------------------------------------------------------------- generator
def _make_users(world: SandboxWorld, rng: random.Random, count: int) -> None:
    """Users; every other one is a Salescaling user, the first one with a messy email."""
    seen: set[str] = set()
    numbers = [n.id for n in world.numbers.values() if n.live_recording_activated]
    for k in range(count):
        if k == 0:
            first, last = "Ana", "Silva"
        else:
            for _ in range(1000):
                first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
                if f"{first}.{last}".lower() not in seen:
                    break
            else:
                first, last = f"User{k}", "Sandbox"
        key = f"{first}.{last}".lower()
        seen.add(key)
        email = "  Ana.Silva@Example.com" if k == 0 else f"{key}@example.com"
        status = rng.choice(("available", "available", "custom", "unavailable"))
        user = SandboxUser(
            id=FIRST_USER_ID + 11 * k,
            name=f"{first} {last}",
            email=email,
            salescaling=k % 2 == 0,
            created_at=world.start_time - rng.randint(30 * DAY, 900 * DAY),
            available=status == "available",
            availability_status=status,
            substatus="always_opened" if status == "available" else "out_for_lunch",
            state="active",
            time_zone=rng.choice(_TIME_ZONES),
            language=rng.choice(_LANGUAGES),
            wrap_up_time=rng.choice((0, 0, 15, 30)),
            extension=str(100 + k),
            default_number_id=rng.choice(numbers) if numbers else None,
        )
        world.users[user.id] = user


def _make_numbers(world: SandboxWorld) -> None:
    """Three numbers; "Support" has recording off, so its calls never have a file."""
    specs = (
        ("Sales FR", "+33 1 76 36 06 95", "FR", "Europe/Paris", True),
        ("Sales US", "+1 646-555-0142", "US", "America/New_York", True),
        ("Support", "+44 20 3318 0042", "GB", "Europe/London", False),
    )
    for k, (name, digits, country, tz, recording) in enumerate(specs):
        number = SandboxNumber(FIRST_NUMBER_ID + 7 * k, name, digits, country, tz, recording)
        world.numbers[number.id] = number


def _make_contacts(world: SandboxWorld, rng: random.Random, count: int) -> None:
    """Contacts: most are people, about 15% only a company, some without email."""
    for k in range(count):
        contact_id = FIRST_CONTACT_ID + 13 * k
        digits, _ = _phone(rng)
        if rng.random() < 0.15:
            first = last = None
            company: str | None = rng.choice(_COMPANIES)
            emails = []
        else:
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            company = rng.choice(_COMPANIES) if rng.random() < 0.6 else None
            emails = (
                [(contact_id * 10 + 1, "Work", f"{first}.{last}@client{k}.example".lower())]
                if rng.random() < 0.7
                else []
            )
        phones = [(contact_id * 10 + 2, "Work", digits)]
        created = world.start_time - rng.randint(DAY, 700 * DAY)
        world.contacts[contact_id] = SandboxContact(
            contact_id, first, last, company, phones, emails, created
        )


def generate_calls(
    world: SandboxWorld,
    rng: random.Random,
    count: int,
    start: int,
    end: int,
    in_progress: int = 0,
    large: int = 0,
    max_size: int | None = None,
) -> list[SandboxCall]:
    """Generate ``count`` calls with ``start <= started_at <= end`` and index them.

    The mix follows the brief: ~10% missed inbound, ~8% voicemail, ~5% IVR
    missed (no user), ~10% on the recording-off number, ~7% outbound
    unanswered, ~5% anonymous callers, the rest answered and recorded; about
    5% of calls share their ``started_at`` with the previous call. The newest
    ``in_progress`` calls are still running. ``large`` recordings of 150-300 MB
    are spread over the older half (the first two over 200 MiB). ``max_size``
    caps every other recording (used for bulk data where size is irrelevant).
    """
    with world.lock:
        now = world.now()
        done_count = count - in_progress
        done_end = max(start, min(end, now - 600)) if in_progress else end
        times = sorted(rng.randint(start, done_end) for _ in range(done_count))
        for i in range(1, len(times)):
            if rng.random() < 0.05:
                times[i] = times[i - 1]
        live_times = sorted(rng.randint(max(start, now - 300), now) for _ in range(in_progress))
        user_ids = sorted(world.users)
        numbers = list(world.numbers.values())
        rec_numbers = [n.id for n in numbers if n.live_recording_activated] or [numbers[0].id]
        off_numbers = [n.id for n in numbers if not n.live_recording_activated] or rec_numbers
        contacts = list(world.contacts.values())
        calls: list[SandboxCall] = []
        recorded: list[SandboxCall] = []
        rand = rng.random
        for index, started in enumerate(times + live_times):
            live = index >= done_count
            call_id = world._new_call_id()
            r = rand()
            contact = rng.choice(contacts) if contacts and rand() < 0.8 else None
            if contact is not None:
                raw_digits = contact.phone_numbers[0][2]
                country: str | None = _country_of(raw_digits)
            else:
                raw_digits, country = _phone(rng)
            user_id: int | None = rng.choice(user_ids) if user_ids else None
            number_id = rng.choice(rec_numbers)
            direction = "inbound" if rand() < 0.55 else "outbound"
            answered_at: int | None = started + rng.randint(2, 25)
            reason: str | None = None
            recording = True
            voicemail: int | None = None
            duration = min(920, 13 + int(rng.expovariate(1 / 240)))
            if live:
                recording = False
            elif r < 0.10:  # missed inbound
                direction, answered_at, recording = "inbound", None, False
                reason = rng.choice(MISSED_REASONS)
                duration = rng.randint(5, 60)
            elif r < 0.15:  # missed in the IVR: nobody rang
                direction, answered_at, recording, user_id = "inbound", None, False, None
                reason, duration = "abandoned_in_ivr", rng.randint(3, 40)
            elif r < 0.23:  # voicemail
                direction, answered_at, recording = "inbound", None, False
                reason = rng.choice(("agents_did_not_answer", "out_of_opening_hours"))
                duration = rng.randint(20, 90)
                voicemail = (duration - 15) * BYTES_PER_SECOND
            elif r < 0.33:  # answered on the number that does not record
                number_id, recording = rng.choice(off_numbers), False
            elif r < 0.40:  # outbound nobody picked up
                direction, answered_at, recording = "outbound", None, False
                duration = rng.randint(5, 45)
            if direction == "inbound" and contact is None and rand() < 0.4:
                raw_digits, country = "anonymous", None
            call = SandboxCall(
                id=call_id,
                sid=_sid(call_id),
                direction=direction,
                status="done",
                started_at=started,
                answered_at=answered_at,
                ended_at=None,
                duration=0,
                missed_call_reason=reason,
                user_id=user_id,
                number_id=number_id,
                contact_id=contact.id if contact is not None else None,
                raw_digits=raw_digits,
                country_code_a2=country,
                voicemail_size=voicemail,
            )
            if live:
                call.status = "answered" if rand() < 0.6 and started + 5 < now else "initial"
                call.answered_at = min(now, started + 5) if call.status == "answered" else None
            else:
                ended = min(now, started + duration)
                call.ended_at = ended
                call.duration = ended - started
                if call.answered_at is not None and call.answered_at > ended:
                    call.answered_at = ended
                call.cost = f"{call.duration * 0.002:.3f}"
                if recording:
                    size = max(1, call.duration * BYTES_PER_SECOND + rng.randint(0, 4095))
                    call.recording_size = size if max_size is None else min(size, max_size)
                    recorded.append(call)
            if rand() < 0.2:
                call.tags = rng.sample(_TAGS, rng.randint(1, 2))
            if rand() < 0.3:
                call.teams = [rng.choice(_TEAMS)]
            if rand() < 0.05:
                call.comments = [rng.choice(_COMMENTS)]
            if call.answered_at is not None and len(user_ids) > 1 and rand() < 0.03:
                call.transferred_by_id = user_id
                call.transferred_to_id = rng.choice(user_ids)
            calls.append(call)
        older = [c for c in recorded if c.started_at < now - 6 * 3600] or recorded
        older = older[: max(1, len(older) // 2)]
        for rank, call in enumerate(rng.sample(older, min(large, len(older)))):
            low, high = (210_000_000, 300_000_000) if rank < 2 else (150_000_000, 200_000_000)
            size = rng.randint(low, high)
            call.recording_size = size
            call.ended_at = min(now, call.started_at + size // BYTES_PER_SECOND)
            call.duration = call.ended_at - call.started_at
        world._index_add(calls, presorted=True)
        return calls


def generate_world(
    seed: int,
    users: int = 8,
    calls: int = 300,
    days: int = 14,
    start_time: int | None = None,
    large_recordings: int = -1,
) -> SandboxWorld:
    """Build the whole account for a seed; the same arguments give the same data.

    ``start_time`` is "now" for the generator (default: the current time);
    calls are spread over the ``days`` before it. ``large_recordings=-1``
    picks the default: 3 big files (2 over 200 MiB) from 200 calls up, 1 from
    20 calls up, none below.
    """
    if users < 1:
        raise ValueError("at least one user is needed")
    now = int(time.time()) if start_time is None else start_time
    world = SandboxWorld(seed, now)
    world.clock_offset = now - int(time.time())
    rng = random.Random(f"aircall-sandbox:{seed}")
    _make_numbers(world)
    _make_users(world, rng, users)
    _make_contacts(world, rng, max(5, min(2000, calls // 4)))
    if large_recordings < 0:
        large_recordings = 3 if calls >= 200 else (1 if calls >= 20 else 0)
    in_progress = calls // 50
    generate_calls(
        world, rng, calls, now - days * DAY, now, in_progress=in_progress, large=large_recordings
    )
    return world
