"""What a call carries beside what Salescaling's rules read: its tags, the agents'
comments, its teams, the Aircall number, its price and Aircall's own ids.

What Aircall does that is surprising:
- Tags and comments are added by people after the call ended, seconds to hours later
  (a tag "Demo booked", a note): they are rewrites of a done call, like its `cost`,
  which Aircall prices after the call (`"0.0"` first).
- `tagged_at` and `posted_at` are UNIX seconds; a tag's `tagged_by` may be `{}`.
- Numbers are formatted for people (`"+1 617-610-5413"`); see `aircall/phones.py`.
None of it decides an import, so a detail of the wrong type reads as null (or the item
is left out) instead of costing the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from source_aircall_salescaling.aircall.payload import (
    Agent,
    PayloadError,
    _frozen,
    _optional_str,
    person,
)


@dataclass(frozen=True)
class Tag:
    id: int | None
    name: str | None
    tagged_by: Agent | None
    tagged_at: int | str | None  # UNIX seconds as Aircall sends them (or an ISO text)


@dataclass(frozen=True)
class Comment:
    id: int | None
    content: str | None
    posted_by: Agent | None
    posted_at: int | str | None


@dataclass(frozen=True)
class Team:
    id: int | None
    name: str | None


@dataclass(frozen=True)
class AircallNumber:
    id: int | None
    name: str | None
    digits: str | None
    country: str | None


@dataclass(frozen=True)
class CallDetails:
    sid: str | None
    cost: str | None
    pricing_type: str | None
    hangup_cause: str | None
    country_code_a2: str | None
    asset: str | None
    archived: bool | None
    number: AircallNumber | None
    tags: tuple[Tag, ...]
    comments: tuple[Comment, ...]
    teams: tuple[Team, ...]


_Mark = TypeVar("_Mark", Tag, Comment)


def _whole(value: Any) -> int | None:
    return value if type(value) is int else None


def _moment(value: Any) -> int | str | None:
    if type(value) is int or (isinstance(value, str) and value):
        return value
    if isinstance(value, float):
        return int(value)
    return None


def _decimal_text(value: Any) -> str | None:
    """`cost` is a decimal string (`"0.0"`); a number, were Aircall to send one, as text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return _optional_str(value)


def _someone(value: Any, what: str) -> Agent | None:
    try:
        return person(value, what)
    except PayloadError:
        return None


def _items(value: Any) -> list[Mapping[str, Any]] | tuple[()]:
    if not value or type(value) is not list:
        return ()  # most calls: no tags, comments or teams
    return [item for item in value if type(item) is dict or isinstance(item, Mapping)]


def _number(number: Mapping[str, Any] | None) -> AircallNumber | None:
    if number is None:
        return None
    return _frozen(
        AircallNumber,
        {
            "id": _whole(number.get("id")),
            "name": _optional_str(number.get("name")),
            "digits": _optional_str(number.get("digits")),
            "country": _optional_str(number.get("country")),
        },
    )


def _marks(
    cls: type[_Mark],
    items: list[Mapping[str, Any]] | tuple[()],
    what: str,
    text: str,
    by: str,
    at: str,
) -> tuple[_Mark, ...]:
    """Tags and comments alike: an id, a text, who added it and when."""
    if not items:
        return ()
    return tuple(
        _frozen(
            cls,
            {
                "id": _whole(item.get("id")),
                text: _optional_str(item.get(text)),
                by: _someone(item.get(by), f"{what}.{by}"),
                at: _moment(item.get(at)),
            },
        )
        for item in items
    )


def parse_details(raw: Mapping[str, Any], number: Mapping[str, Any] | None) -> CallDetails:
    """The details of a call payload; `number` is its `number` object, already checked."""
    get = raw.get
    archived = get("archived")
    raw_tags, raw_comments, raw_teams = (
        _items(get("tags")),
        _items(get("comments")),
        _items(get("teams")),
    )
    tags = _marks(Tag, raw_tags, "tag", "name", "tagged_by", "tagged_at")
    comments = _marks(Comment, raw_comments, "comment", "content", "posted_by", "posted_at")
    teams = (
        tuple(
            _frozen(Team, {"id": _whole(team.get("id")), "name": _optional_str(team.get("name"))})
            for team in raw_teams
        )
        if raw_teams
        else ()
    )
    return _frozen(
        CallDetails,
        {
            "sid": _optional_str(get("sid")),
            "cost": _decimal_text(get("cost")),
            "pricing_type": _optional_str(get("pricing_type")),
            "hangup_cause": _optional_str(get("hangup_cause")),
            "country_code_a2": _optional_str(get("country_code_a2")),
            "asset": _optional_str(get("asset")),
            "archived": archived if isinstance(archived, bool) else None,
            "number": _number(number),
            "tags": tags,
            "comments": comments,
            "teams": teams,
        },
    )
