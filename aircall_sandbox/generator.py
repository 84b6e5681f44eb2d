"""The deterministic generator of the sandbox's account: users, numbers, contacts, calls.

The world is generated from a seed so a test run, a demo and a benchmark see the
same account every time. Every draw comes from one ``random.Random`` in a fixed
order: reordering two draws changes every account after them, so the steps
below keep the order they had when the expected figures of the tests were set.
"""

from __future__ import annotations

import random
import time
import zlib
from dataclasses import dataclass

from .account import SandboxWorld
from .model import (
    BYTES_PER_SECOND,
    DAY,
    FIRST_CONTACT_ID,
    FIRST_NUMBER_ID,
    FIRST_USER_ID,
    MISSED_REASONS,
    SandboxCall,
    SandboxComment,
    SandboxContact,
    SandboxNumber,
    SandboxTag,
    SandboxUser,
    call_sid,
    country_of,
    price,
    random_phone,
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
_COMMENTS = (
    "Call back next week",
    "Sent pricing:\n- 15 seats\n- annual plan",
    "Wants a demo",
    "Wrong number",
)
_TIME_ZONES = ("Europe/Paris", "Europe/Madrid", "America/New_York", "Europe/London")
_LANGUAGES = ("en-US", "fr-FR", "es-ES", "en-GB")


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
        digits, _ = random_phone(rng)
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


@dataclass(frozen=True, slots=True)
class _Pools:
    """What every generated call draws from: users, numbers by recording, contacts."""

    user_ids: list[int]
    recording_numbers: list[int]
    silent_numbers: list[int]
    contacts: list[SandboxContact]

    @classmethod
    def of(cls, world: SandboxWorld) -> _Pools:
        numbers = list(world.numbers.values())
        recording = [n.id for n in numbers if n.live_recording_activated] or [numbers[0].id]
        silent = [n.id for n in numbers if not n.live_recording_activated] or recording
        return cls(sorted(world.users), recording, silent, list(world.contacts.values()))


@dataclass(slots=True)
class _Draft:
    """One call's drawn facts before it becomes a :class:`SandboxCall`."""

    direction: str
    answered_after: int
    duration: int
    user_id: int | None
    number_id: int
    answered: bool = True
    reason: str | None = None
    recording: bool = True
    voicemail: int | None = None


def _start_times(
    rng: random.Random, count: int, start: int, end: int, now: int, in_progress: int
) -> list[int]:
    """Sorted start times, done calls first; ~5% share the previous call's second."""
    done_end = max(start, min(end, now - 600)) if in_progress else end
    times = sorted(rng.randint(start, done_end) for _ in range(count - in_progress))
    for i in range(1, len(times)):
        if rng.random() < 0.05:
            times[i] = times[i - 1]
    live = sorted(rng.randint(max(start, now - 300), now) for _ in range(in_progress))
    return times + live


def _draw_outcome(rng: random.Random, r: float, draft: _Draft, pools: _Pools) -> None:
    """Turn an answered, recorded call into the outcome ``r`` picks (see ``generate_calls``)."""
    if r < 0.10:  # missed inbound
        draft.direction, draft.answered, draft.recording = "inbound", False, False
        draft.reason = rng.choice(MISSED_REASONS)
        draft.duration = rng.randint(5, 60)
    elif r < 0.15:  # missed in the IVR: nobody rang
        draft.direction, draft.answered, draft.recording = "inbound", False, False
        draft.user_id = None
        draft.reason, draft.duration = "abandoned_in_ivr", rng.randint(3, 40)
    elif r < 0.23:  # voicemail
        draft.direction, draft.answered, draft.recording = "inbound", False, False
        draft.reason = rng.choice(("agents_did_not_answer", "out_of_opening_hours"))
        draft.duration = rng.randint(20, 90)
        draft.voicemail = (draft.duration - 15) * BYTES_PER_SECOND
    elif r < 0.33:  # answered on the number that does not record
        draft.number_id, draft.recording = rng.choice(pools.silent_numbers), False
    elif r < 0.40:  # outbound nobody picked up
        draft.direction, draft.answered, draft.recording = "outbound", False, False
        draft.duration = rng.randint(5, 45)


def _draw_call(
    rng: random.Random, pools: _Pools, call_id: int, started: int, live: bool
) -> tuple[SandboxCall, _Draft]:
    """Draw one call's caller, agent, number and outcome (the draws keep their order)."""
    r = rng.random()
    contact = rng.choice(pools.contacts) if pools.contacts and rng.random() < 0.8 else None
    country: str | None
    if contact is not None:
        raw_digits = contact.phone_numbers[0][2]
        country = country_of(raw_digits)
    else:
        raw_digits, country = random_phone(rng)
    draft = _Draft(
        user_id=rng.choice(pools.user_ids) if pools.user_ids else None,
        number_id=rng.choice(pools.recording_numbers),
        direction="inbound" if rng.random() < 0.55 else "outbound",
        answered_after=rng.randint(2, 25),
        duration=min(920, 13 + int(rng.expovariate(1 / 240))),
    )
    if live:
        draft.recording = False
    else:
        _draw_outcome(rng, r, draft, pools)
    if draft.direction == "inbound" and contact is None and rng.random() < 0.4:
        raw_digits, country = "anonymous", None
    call = SandboxCall(
        id=call_id,
        sid=call_sid(call_id),
        direction=draft.direction,
        status="done",
        started_at=started,
        answered_at=started + draft.answered_after if draft.answered else None,
        ended_at=None,
        duration=0,
        missed_call_reason=draft.reason,
        user_id=draft.user_id,
        number_id=draft.number_id,
        contact_id=contact.id if contact is not None else None,
        raw_digits=raw_digits,
        country_code_a2=country,
        voicemail_size=draft.voicemail,
    )
    return call, draft


def _run_live(rng: random.Random, call: SandboxCall, now: int) -> None:
    """A call still running: ringing, or answered five seconds in."""
    call.status = "answered" if rng.random() < 0.6 and call.started_at + 5 < now else "initial"
    call.answered_at = min(now, call.started_at + 5) if call.status == "answered" else None


def _end(
    rng: random.Random, call: SandboxCall, draft: _Draft, now: int, max_size: int | None
) -> None:
    """End a call (never in the future) and size its recording when it has one."""
    ended = min(now, call.started_at + draft.duration)
    call.ended_at = ended
    call.duration = ended - call.started_at
    if call.answered_at is not None and call.answered_at > ended:
        call.answered_at = ended
    call.cost = price(call.direction, call.duration, call.answered_at is not None)
    if draft.recording:
        size = max(1, call.duration * BYTES_PER_SECOND + rng.randint(0, 4095))
        call.recording_size = size if max_size is None else min(size, max_size)


def _later(call: SandboxCall, salt: int) -> int:
    """When a person annotated the call: seconds to minutes after it ended. Derived from
    the id, not drawn: a new draw would change every call generated after this one."""
    return (call.ended_at or call.started_at) + zlib.crc32(f"{call.id}:{salt}".encode()) % 900


def _annotate(rng: random.Random, call: SandboxCall, user_ids: list[int]) -> None:
    """Tags, teams, comments, and a transfer for ~3% of the answered calls. One tag in
    four has no known author (Aircall's ``tagged_by: {}``)."""
    if rng.random() < 0.2:
        call.tags = [
            SandboxTag(name, None if (call.id + k) % 4 == 0 else call.user_id, _later(call, k))
            for k, name in enumerate(rng.sample(_TAGS, rng.randint(1, 2)))
        ]
    if rng.random() < 0.3:
        call.teams = [rng.choice(_TEAMS)]
    if rng.random() < 0.05:
        call.comments = [SandboxComment(rng.choice(_COMMENTS), call.user_id, _later(call, 9))]
    if call.answered_at is not None and len(user_ids) > 1 and rng.random() < 0.03:
        call.transferred_by_id = call.user_id
        call.transferred_to_id = rng.choice(user_ids)


def _make_large(rng: random.Random, recorded: list[SandboxCall], now: int, large: int) -> None:
    """Give ``large`` of the older half's recordings 150-300 MB (the first two over 200 MiB)."""
    older = [c for c in recorded if c.started_at < now - 6 * 3600] or recorded
    older = older[: max(1, len(older) // 2)]
    for rank, call in enumerate(rng.sample(older, min(large, len(older)))):
        low, high = (210_000_000, 300_000_000) if rank < 2 else (150_000_000, 200_000_000)
        size = rng.randint(low, high)
        call.recording_size = size
        call.ended_at = min(now, call.started_at + size // BYTES_PER_SECOND)
        call.duration = call.ended_at - call.started_at


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
        pools = _Pools.of(world)
        done_count = count - in_progress
        calls: list[SandboxCall] = []
        for index, started in enumerate(_start_times(rng, count, start, end, now, in_progress)):
            live = index >= done_count
            call, draft = _draw_call(rng, pools, world.new_call_id(), started, live)
            if live:
                _run_live(rng, call, now)
            else:
                _end(rng, call, draft, now, max_size)
            _annotate(rng, call, pools.user_ids)
            calls.append(call)
        recorded = [c for c in calls if c.recording_size is not None]
        _make_large(rng, recorded, now, large)
        world.index_calls(calls, presorted=True)
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
