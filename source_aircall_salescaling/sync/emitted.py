"""The calls a stream emitted within the import window, packed small for its state.

The removal re-check (`sync/recheck.py`) needs, per stream, which calls it emitted and
when each started (to know which slice of the window holds it, and to report a deleted
call with its cursor `started_at` unchanged). At 10,000 calls a day and a 14-day window
that is up to 140,000 calls in each of 8 streams, and the platform saves a connection's
whole state in one request (under 512 KiB in all). So:

- one stream keeps each `started_at` to the second (`exact`: `recordings`, else
  `import_decisions`, else `calls`, the first selected); the others keep it rounded up
  to the minute, which is enough to place a call in a slice (slices start and end on
  whole minutes), and take the exact second from the exact list when they report;
- the list is written as two columns (id steps, then start steps) of variable-length
  integers, deflated, in base 85: about 1.5 bytes a call exact, under 1 byte to the
  minute, instead of 26 as JSON.

Even so, 12 lists of 42,000 calls (10,000 calls a day, a third imported) come to about
600 KiB, almost all of it call ids, and ids do not pack much smaller (Aircall's ids
count every company's calls: the steps between one company's calls are random). So the
ids are kept once per sync: a stream whose calls are some of the imported ones (an
Aircall AI stream; `import_decisions`, unless it keeps the exact starts) writes its list
as a difference from the full list (`FULL_LISTS`) that another stream saved earlier in
the same sync (`pack_relative`; `recordings`' where it is selected, else the first
saved, see `EmittedLists.save`):

    base list (sorted ids):   101  104  107  112  118  121        saved by `recordings`
    bits: emitted or not:       1    1    0    1    1    1        one bit a call
    extra (not in the base,   109 (with its start to the minute)
    or new in it this sync)
    upto: 121 (the base's newest id when written), the base list's fingerprint

That is 42,000 bits (5 KiB, a few bytes when the stream emitted them all) instead of
47 KiB. Read back against the same base list (the fingerprint matches), it is exact
(`RelativeList.exact`). Against another one (the sync died between the base's checkpoint
and the AI stream's, a destination committed one stream's state and not the other's,
the base stream was deselected), the bits mean nothing any more, so the list is read
as a superset: every call of the base list, and of the calls the base reported removed
(its `removed`), up to `upto`, plus `extra` (with the base's list gone, every other full
list stands in for it). No removal is then lost; at worst a deletion record goes out for
an imported call whose insight the stream never emitted, a key the destination does not
have.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache

GRAIN_SECONDS = 60
EXACT, MINUTES, RELATIVE = "x", "m", "r"
FULL_LISTS = (EXACT, MINUTES)
FINGERPRINT_BYTES = 8


def to_the_minute(started: int) -> int:
    """`started` rounded up to a whole minute: a call that started in `(m - 60, m]` is
    kept at `m`, so that it is inside a slice `(low, high]` of whole minutes exactly when
    its real start is."""
    return -(-started // GRAIN_SECONDS) * GRAIN_SECONDS


def pack_emitted(emitted: Mapping[int, int], exact: bool) -> str:
    """A full list: it needs no other stream's to be read."""
    body = _columns(emitted, exact)
    return (EXACT if exact else MINUTES) + _encode(body)


def unpack_emitted(value: object) -> tuple[dict[int, int], bool]:
    """The calls of a full list and whether their starts are exact; anything
    `pack_emitted` did not write raises ValueError."""
    if not isinstance(value, str) or not is_full_list(value):
        raise ValueError(f"not a packed list of calls: {str(value)[:40]!r}")
    exact = value[0] == EXACT
    body = _decode(value)
    emitted, position = _read_columns(body, 0, exact)
    if position != len(body):
        raise ValueError("trailing bytes in a packed list of calls")
    return emitted, exact


@lru_cache(maxsize=2)
def _base_calls(base: str) -> Mapping[int, int]:
    """A base list's calls, read only: each Aircall AI stream of a sync writes and reads
    its list against the same base, which is then unpacked once."""
    return unpack_emitted(base)[0]


def is_full_list(value: object) -> bool:
    return isinstance(value, str) and value[:1] in FULL_LISTS


def fingerprint(packed: str) -> bytes:
    """Which version of a full list a relative one was written against."""
    return hashlib.blake2b(packed.encode(), digest_size=FINGERPRINT_BYTES).digest()


@dataclass(frozen=True)
class RelativeList:
    """A relative list as written: read it with `exact` beside the very list it was
    written against (`written_beside`), else as a `superset`."""

    base_stream: str
    base_fingerprint: bytes
    upto: int  # the base's newest id when it was written
    bits: bytes  # one per call of the base, in id order: emitted or not
    extra: dict[int, int]  # emitted, not in the base: id -> start to the minute

    def written_beside(self, base: object) -> bool:
        """Whether `base` is the very list this one was written against."""
        return is_full_list(base) and fingerprint(str(base)) == self.base_fingerprint

    def exact(self, base: str) -> dict[int, int]:
        """The calls (id -> start) as written, read beside the list it was written against."""
        base_calls = _base_calls(base)
        calls = dict(self.extra)
        for index, call_id in enumerate(sorted(base_calls)):
            if self.bits[index >> 3] >> (index & 7) & 1:
                calls[call_id] = base_calls[call_id]
        return calls

    def superset(self, known: Mapping[int, int]) -> dict[int, int]:
        """Read beside anything else: the `known` calls (another version of the base and
        the calls its stream reported removed since) up to `upto`, and the extra ones."""
        calls = {call_id: start for call_id, start in known.items() if call_id <= self.upto}
        calls.update(self.extra)
        return calls


def pack_relative(
    emitted: Mapping[int, int], base_stream: str, base: str, base_before: Collection[int]
) -> str:
    """`emitted` as a difference from `base`, the full list `base_stream` saved in this
    sync. `base_before`: the calls of that stream's list as the sync started. A call that
    was not in it (one emitted by this sync) is kept in `extra` too, so that the list read
    beside the older version (a destination that committed this state and not the base
    stream's newer one) still holds it."""
    base_calls = _base_calls(base)
    order = sorted(base_calls)
    bits = bytearray((len(order) + 7) // 8)
    for index, call_id in enumerate(order):
        if call_id in emitted:
            bits[index >> 3] |= 1 << (index & 7)
    extra = {i: s for i, s in emitted.items() if i not in base_calls or i not in base_before}
    name = base_stream.encode()
    head = bytearray([len(name)]) + name + fingerprint(base)
    _varint(head, order[-1] if order else 0)
    _varint(head, len(bits))
    return RELATIVE + _encode(bytes(head) + bytes(bits) + _columns(extra, exact=False))


def unpack_relative(value: object) -> RelativeList:
    """What `pack_relative` wrote; anything else raises ValueError."""
    if not isinstance(value, str) or value[:1] != RELATIVE:
        raise ValueError(f"not a relative list of calls: {str(value)[:40]!r}")
    body = _decode(value)
    try:
        size = body[0]
        name = body[1 : 1 + size].decode()
    except (IndexError, UnicodeDecodeError):
        raise ValueError("unreadable base of a relative list of calls") from None
    position = 1 + size + FINGERPRINT_BYTES
    mark = body[1 + size : position]
    upto, position = _read_varint(body, position)
    length, position = _read_varint(body, position)
    bits = body[position : position + length]
    if len(bits) != length:
        raise ValueError("truncated relative list of calls")
    extra, position = _read_columns(body, position + length, exact=False)
    if position != len(body):
        raise ValueError("trailing bytes in a relative list of calls")
    return RelativeList(name, mark, upto, bits, extra)


def _encode(body: bytes) -> str:
    return base64.b85encode(zlib.compress(body, 9)).decode()


def _decode(value: str) -> bytes:
    try:
        return zlib.decompress(base64.b85decode(value[1:]))
    except (zlib.error, ValueError) as error:
        raise ValueError(str(error)) from None


def _columns(emitted: Mapping[int, int], exact: bool) -> bytes:
    """The count, the id steps, then the start steps, as variable-length integers."""
    ids = bytearray()
    starts = bytearray()
    previous_id = previous_start = 0
    for call_id, started in sorted(emitted.items()):
        unit = started if exact else to_the_minute(started) // GRAIN_SECONDS
        _varint(ids, call_id - previous_id)
        _varint(starts, _zigzag(unit - previous_start))
        previous_id, previous_start = call_id, unit
    return len(emitted).to_bytes(4, "big") + bytes(ids) + bytes(starts)


def _read_columns(body: bytes, position: int, exact: bool) -> tuple[dict[int, int], int]:
    if len(body) < position + 4:
        raise ValueError("truncated packed list of calls")
    count, position = int.from_bytes(body[position : position + 4], "big"), position + 4
    ids: list[int] = []
    previous = 0
    for _ in range(count):
        step, position = _read_varint(body, position)
        previous += step
        ids.append(previous)
    emitted: dict[int, int] = {}
    unit = 0
    for call_id in ids:
        step, position = _read_varint(body, position)
        unit += _unzigzag(step)
        emitted[call_id] = unit if exact else unit * GRAIN_SECONDS
    return emitted, position


def _zigzag(number: int) -> int:
    return number * 2 if number >= 0 else -number * 2 - 1


def _unzigzag(number: int) -> int:
    return number // 2 if number % 2 == 0 else -(number + 1) // 2


def _varint(out: bytearray, number: int) -> None:
    if number < 0:
        raise ValueError("call ids are packed in increasing order")
    while True:
        low, number = number & 0x7F, number >> 7
        out.append(low | (0x80 if number else 0))
        if not number:
            return


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    number = shift = 0
    while True:
        if position >= len(data):
            raise ValueError("truncated packed list of calls")
        byte = data[position]
        position += 1
        number |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return number, position
