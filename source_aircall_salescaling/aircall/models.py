"""Aircall payloads parsed into the records that pass between the layers.

Aircall sends every call timestamp as integer UNIX seconds (UTC) and has no `updated_at`.
A payload that lacks what a record needs raises `PayloadError` naming the call, so that
the reader can skip that one call with a warning instead of dropping the page.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pendulum

from source_aircall_salescaling.aircall.call_details import CallDetails, parse_details
from source_aircall_salescaling.aircall.payload import (
    Agent,
    PayloadError,
    _agent,
    _frozen,
    _int,
    _object,
    _optional_int,
    _optional_str,
    person,
    person_or_none,
)

__all__ = ["Agent", "Call", "CallDetails", "Contact", "PayloadError", "User", "parse_call"]


@dataclass(frozen=True)
class Contact:
    id: int | None
    name: str | None
    phone: str | None


@dataclass(frozen=True)
class Call:
    """One Aircall call, as far as Salescaling needs it."""

    id: int
    direction: str
    aircall_status: str  # initial | answered | done
    missed_call_reason: str | None
    started_at: int
    answered_at: int | None
    ended_at: int | None
    duration: int
    has_voicemail: bool
    recording_url: str | None
    external_number: str | None
    internal_number: str | None
    agent: Agent | None
    contact: Contact | None
    recording_enabled: bool | None = None  # the number's `live_recording_activated`
    # A transferred call stays one call: `agent` answered first, `transferred_to` took it
    # over; both spoke on the one recording (import_rules.salescaling_agent).
    transferred_by: Agent | None = None
    transferred_to: Agent | None = None
    assigned_to: Agent | None = None
    details: CallDetails | None = None  # tags, comments, teams, number, cost, ...

    @property
    def is_done(self) -> bool:
        return self.aircall_status == "done"

    @property
    def status(self) -> str:
        """Aircall's `status` says nothing about the outcome (`done` covers answered and
        missed calls); Salescaling's status is derived from the other fields."""
        if self.has_voicemail:
            return "voicemail"
        if self.answered_at is not None:
            return "answered"
        return "missed" if self.direction == "inbound" else "failed"


@dataclass(frozen=True)
class User:
    id: int
    name: str | None
    email: str | None
    created_at: str | None
    available: bool | None
    availability_status: str | None
    time_zone: str | None
    language: str | None
    extension: str | None = None
    state: str | None = None
    substatus: str | None = None
    default_number_id: int | None = None
    wrap_up_time: int | None = None


_ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"
_CLOCK = tuple(f"{hour:02d}:{minute:02d}:" for hour in range(24) for minute in range(60))
_SECONDS = tuple(f"{second:02d}Z" for second in range(60))


@functools.lru_cache(maxsize=1024)
def _iso_day(days: int) -> str:
    return time.strftime("%Y-%m-%dT", time.gmtime(days * 86_400))


def iso_utc(timestamp: int | None) -> str | None:
    """UNIX seconds -> `2026-09-28T10:21:09Z`, what `time.strftime` writes. Three fields of
    every call record go through here, twice for `calls` (its print, then its record): the
    date comes from a cache of days and the time of day from two tables, half the cost of
    `gmtime` + `strftime` (themselves three times faster than a datetime)."""
    if timestamp is None:
        return None
    if type(timestamp) is not int:  # a float, a bool: the plain way
        return time.strftime(_ISO_UTC, time.gmtime(timestamp))
    days, seconds = divmod(timestamp, 86_400)
    minutes, second = divmod(seconds, 60)
    return _iso_day(days) + _CLOCK[minutes] + _SECONDS[second]


def parse_call(raw: Any) -> Call:
    """A call from `/v1/calls`; `PayloadError` names the call when it cannot be read."""
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise PayloadError(f"a call entry is {type(raw).__name__}, not an object")
    get = raw.get
    call_id = get("id")
    try:
        identifier = _int(call_id, "id")
        direction = get("direction")
        if direction != "inbound" and direction != "outbound":
            raise PayloadError(f"direction is {direction!r}")
        status = get("status")
        if not isinstance(status, str):
            raise PayloadError(f"status is {status!r}")
        started_at = _int(get("started_at"), "started_at")
        answered_at = _optional_int(get("answered_at"), "answered_at")
        ended_at = _optional_int(get("ended_at"), "ended_at")
        duration = get("duration")
        if duration is None:
            duration = 0 if ended_at is None else max(0, ended_at - started_at)
        duration = _int(duration, "duration")
        raw_digits = _optional_str(get("raw_digits"))
        number = _object(get("number"), "number")
        missed_call_reason = _optional_str(get("missed_call_reason"))
        has_voicemail = bool(get("voicemail"))
        recording_url = _optional_str(get("recording"))
        agent = _agent(_object(get("user"), "user"))
        contact = _contact(_object(get("contact"), "contact"))
        transferred_to = person(get("transferred_to"), "transferred_to")  # decides imports
        # Who transferred or was assigned decides nothing: a malformed one is read as
        # none rather than costing the call (as tags and comments are, in call_details).
        transferred_by = person_or_none(get("transferred_by"), "transferred_by")
        assigned_to = person_or_none(get("assigned_to"), "assigned_to")
        details = parse_details(raw, number)
    except PayloadError as error:
        raise PayloadError(f"call {call_id!r}: {error}") from None
    return _frozen(
        Call,
        {
            "id": identifier,
            "direction": direction,
            "aircall_status": status,
            "missed_call_reason": missed_call_reason,
            "started_at": started_at,
            "answered_at": answered_at,
            "ended_at": ended_at,
            "duration": duration,
            "has_voicemail": has_voicemail,
            "recording_url": recording_url,
            "external_number": None if raw_digits in (None, "anonymous") else raw_digits,
            "internal_number": _internal_number(number),
            "agent": agent,
            "contact": contact,
            "recording_enabled": _recording_enabled(number),
            "transferred_by": transferred_by,
            "transferred_to": transferred_to,
            "assigned_to": assigned_to,
            "details": details,
        },
    )


def _internal_number(number: Mapping[str, Any] | None) -> str | None:
    return None if number is None else _optional_str(number.get("digits"))


def _recording_enabled(number: Mapping[str, Any] | None) -> bool | None:
    flag = None if number is None else number.get("live_recording_activated")
    return flag if isinstance(flag, bool) else None


def _contact(contact: Mapping[str, Any] | None) -> Contact | None:
    if contact is None:
        return None
    first = _optional_str(contact.get("first_name"))
    last = _optional_str(contact.get("last_name"))
    person = f"{first} {last}" if first and last else first or last
    phones = contact.get("phone_numbers")
    phone = None
    if isinstance(phones, list):
        for entry in phones:
            if (type(entry) is dict or isinstance(entry, Mapping)) and _optional_str(
                entry.get("value")
            ):
                phone = _optional_str(entry.get("value"))
                break
    return _frozen(
        Contact,
        {
            "id": _optional_int(contact.get("id"), "contact.id"),
            "name": person or _optional_str(contact.get("company_name")),
            "phone": phone,
        },
    )


def parse_user(raw: Any) -> User:
    if not isinstance(raw, Mapping):
        raise PayloadError(f"a user entry is {type(raw).__name__}, not an object")
    try:
        identifier = _int(raw.get("id"), "id")
    except PayloadError as error:
        raise PayloadError(f"user {raw.get('id')!r}: {error}") from None
    available = raw.get("available")
    return User(
        id=identifier,
        name=_optional_str(raw.get("name")),
        email=_optional_str(raw.get("email")),
        created_at=_iso_from_aircall(raw.get("created_at")),
        available=available if isinstance(available, bool) else None,
        availability_status=_optional_str(raw.get("availability_status")),
        time_zone=_optional_str(raw.get("time_zone")),
        language=_optional_str(raw.get("language")),
        extension=_text_or_number(raw.get("extension")),
        state=_optional_str(raw.get("state")),
        substatus=_optional_str(raw.get("substatus")),
        default_number_id=_lenient_int(raw.get("default_number_id")),
        wrap_up_time=_lenient_int(raw.get("wrap_up_time")),
    )


def _lenient_int(value: Any) -> int | None:
    """A user's optional number: anything but an integer reads as none (a user is never
    skipped for a detail)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text_or_number(value: Any) -> str | None:
    """`extension` is a string in Aircall's answers; a number is read as its digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _optional_str(value)


def _iso_from_aircall(value: Any) -> str | None:
    """`2026-09-28T10:21:09.000Z` -> `2026-09-28T10:21:09Z` (sortable as text); a time
    without a zone is UTC, a date alone is its midnight, anything else (a duration, a
    time of day, not ISO 8601) is no date. `exact=True`: pendulum would otherwise read a
    time of day as today's."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = pendulum.parse(value, exact=True)
    except ValueError:  # pendulum's ParserError is one
        return None
    if not isinstance(moment, pendulum.DateTime):
        if not isinstance(moment, pendulum.Date):
            return None
        moment = pendulum.datetime(moment.year, moment.month, moment.day)
    return moment.in_timezone("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def aircall_time(value: Any) -> str | None:
    """A timestamp of an Aircall AI payload, which the docs do not pin down: UNIX seconds
    (like calls) or ISO 8601 (like users), as `YYYY-MM-DDTHH:MM:SSZ`; anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return iso_utc(int(value))
    return _iso_from_aircall(value)
