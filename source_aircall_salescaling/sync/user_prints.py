"""The `users` state: what each user's record was at the last sync, in a few bytes.

`/v2/users` has no update cursor (an email, a name, an availability change with no
timestamp moving) and no date filter, so every sync reads every user anyway; telling a
changed user from an unchanged one takes a print of each user's last record. A deleted
user is found the same way (a known id missing from a complete listing), and its
removal record must carry its `created_at`, so that is kept too.

Per user, in id order: the id as a delta from the previous id, `created_at` as a delta
from the previous user's (both zigzag varints: ids and creation times mostly grow
together, so a delta is one to three bytes), and a 6-byte BLAKE2b print of the record.
About 11 bytes a user, 15 characters once in base64: a thousand users take 15 KB of
state. Two different records share a 6-byte print once in 2^48 changes.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

FORMAT = 1  # the first byte: a state in another format is not read (every user re-emitted)
PRINT_BYTES = 6
_NO_DATE = 0  # a user without `created_at`: the zigzag code 0 is kept for it
DELETED_FIELD = "_ab_cdc_deleted_at"


@dataclass(frozen=True)
class KnownUser:
    """A user as the last sync emitted it: `created_at` in UNIX seconds, its print."""

    created_at: int | None
    print: bytes


def user_print(record: Mapping[str, Any]) -> bytes:
    """The print of a `users` record (its deletion mark left out): any field that
    changes, `salescaling_user` included (the configured emails changed), changes it."""
    fields = {key: value for key, value in record.items() if key != DELETED_FIELD}
    text = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(text, digest_size=PRINT_BYTES).digest()


def unix_seconds(iso: str | None) -> int | None:
    """`2026-09-28T10:21:09Z` (what `users` records carry) -> UNIX seconds."""
    if iso is None:
        return None
    try:
        return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None


def pack(users: Mapping[int, KnownUser]) -> str:
    """The state's text for these users (see the module docstring)."""
    out = bytearray([FORMAT])
    previous_id = previous_date = 0
    for user_id in sorted(users):
        user = users[user_id]
        _varint(out, _zigzag(user_id - previous_id))
        if user.created_at is None:
            _varint(out, _NO_DATE)
        else:
            _varint(out, _zigzag(user.created_at - previous_date) + 1)
            previous_date = user.created_at
        out += user.print
        previous_id = user_id
    return base64.b64encode(bytes(out)).decode("ascii")


def unpack(text: Any) -> dict[int, KnownUser] | None:
    """The users of a state's text; None when there is none or it cannot be read (a
    state of an older version: every user is then emitted once more, which also brings
    the fields that version did not have)."""
    if not isinstance(text, str):
        return None
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    if not data or data[0] != FORMAT:
        return None
    users: dict[int, KnownUser] = {}
    position, previous_id, previous_date = 1, 0, 0
    try:
        while position < len(data):
            delta, position = _read_varint(data, position)
            user_id = previous_id + _unzigzag(delta)
            code, position = _read_varint(data, position)
            created_at = None
            if code != _NO_DATE:
                created_at = previous_date + _unzigzag(code - 1)
                previous_date = created_at
            printed = data[position : position + PRINT_BYTES]
            if len(printed) != PRINT_BYTES:
                return None
            position += PRINT_BYTES
            users[user_id] = KnownUser(created_at, printed)
            previous_id = user_id
    except IndexError:
        return None
    return users


def _zigzag(value: int) -> int:
    return value * 2 if value >= 0 else -value * 2 - 1


def _unzigzag(code: int) -> int:
    return code // 2 if code % 2 == 0 else -(code + 1) // 2


def _varint(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7
