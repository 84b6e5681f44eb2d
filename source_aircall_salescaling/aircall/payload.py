"""What every Aircall payload parser shares: the error that names the object, the agent
summary Aircall embeds in calls, and the readers of single values.

Aircall embeds an agent (`user`, `transferred_to`, a tag's `tagged_by`, ...) as a full
user object, as `null`, as `{}` (a tag whose author is gone), or leaves the key out (the
webhook form of a call): all three mean "no agent" and read as None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from source_aircall_salescaling.config import normalize_email


class PayloadError(ValueError):
    """An Aircall object this connector cannot read; the message names it."""


_Frozen = TypeVar("_Frozen")


@dataclass(frozen=True)
class Agent:
    id: int | None
    name: str | None
    email: str | None

    @property
    def normalized_email(self) -> str | None:
        return normalize_email(self.email) if self.email else None


def _int(value: Any, what: str) -> int:
    if type(value) is int:  # the common case first: bool is a subclass of int, not int
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{what} is {value!r}, not an integer")
    return value


def _optional_int(value: Any, what: str) -> int | None:
    return None if value is None else _int(value, what)


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _object(value: Any, what: str) -> Mapping[str, Any] | None:
    # `type(...) is dict` first: what orjson gives, and isinstance(..., Mapping) is an
    # abstract-class check, ten times slower, on three objects of every call.
    if value is None or type(value) is dict:
        return value
    if not isinstance(value, Mapping):
        raise PayloadError(f"{what} is {type(value).__name__}, not an object")
    return value


def _frozen(cls: type[_Frozen], fields: dict[str, Any]) -> _Frozen:
    """An instance of a frozen dataclass, every field given, without its `__init__`: the
    generated one sets each field through `object.__setattr__` (dataclasses.py,
    `_field_assign` when frozen), which made up a third of `parse_call`. The instance is
    the same (fields in its `__dict__`, eq, hash, repr, still frozen)."""
    instance = object.__new__(cls)
    instance.__dict__.update(fields)
    return instance


def _agent(user: Mapping[str, Any] | None, what: str = "user") -> Agent | None:
    """An embedded user object; `{}` (and one with no id, name or email) is no agent."""
    if not user:
        return None
    identifier = _optional_int(user.get("id"), f"{what}.id")
    name = _optional_str(user.get("name"))
    email = _optional_str(user.get("email"))
    if identifier is None and name is None and email is None:
        return None
    return _frozen(Agent, {"id": identifier, "name": name, "email": email})


def person(value: Any, what: str) -> Agent | None:
    """An embedded user object as given (null, `{}`, absent or a user), read as `_agent`."""
    if value is None:  # most calls: no transfer, no assignee
        return None
    return _agent(_object(value, what), what)


def person_or_none(value: Any, what: str) -> Agent | None:
    """`person`, with a malformed object read as no one."""
    try:
        return person(value, what)
    except PayloadError:
        return None
