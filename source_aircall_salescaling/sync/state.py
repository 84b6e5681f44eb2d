"""The saved state of `calls` and `recordings`: the small state that makes a sequence of
syncs exact.

Aircall calls have no `updated_at`: a call appears at `started_at` while it rings, is
`done` some seconds after it ends, gets its recording minutes later, and Aircall may
still rewrite it (`duration`, `started_at` +1 s) after that. So the state of `calls` and
`recordings` is

    {"cursor": "2026-11-23T10:15:00Z",         the newest sync time so far (never back)
     "since": 1763888100,                      `seen` knows every call decided after this
     "pending": {"2100000123": 1763892000},    calls not ready yet -> started_at
     "seen": {"2100000130": 1763891900, ...},  calls decided (emitted, or skipped for
                                               good) that started after `since`
     "prints": {"2100000130": 88412, ...},     `calls` only: a short hash of the record
                                               emitted, for the calls in `seen`
     "relist_from": 1763887000,                `calls`: the oldest done call that ended
                                               within the lookback (at most 2 h), - 1 s,
                                               when there is one
     "failing": {"2100000123": 1763893000},    `recordings`: pending calls whose transfer
                                               failed -> first failure (given up a day on)
     "ends": {"2100000123": 1763892060},       pending done calls (waiting for their
                                               recording) -> when they ended
     "overdue": [2100000123]}                  pending calls whose lookup by id was due
                                               but not made (the per-sync cap, a failure)

(`pending` and `seen` are saved packed, as text, once they hold more than `PACK_OVER`
calls: see `pack_calls`; a packed `pending` carries `ends` in its entries, to the minute.)

A done call waiting for its recording is not listed back to: once out of the re-listed
range it is fetched by id on a spaced schedule counted from its end (see
`sync/plan.py`), which is why its end is kept:

    ended      + overlap (listed, or fetched every sync)     end + lookback: decided
    |-----------|..ask.........................ask..............ask| dropped or imported

How a sync uses it, and why it is exact: see `sync/plan.py`; which state is saved after
each batch: `SyncProgress.state` in `sync/progress.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pendulum

from source_aircall_salescaling.aircall.models import Call, iso_utc
from source_aircall_salescaling.config import ConfigError

STARTED_AT_DRIFT_SECONDS = 1  # Aircall may move a call's started_at by a second
# A `pending` or `seen` map larger than this is saved packed (see `pack_calls`).
PACK_OVER = 400
CURSOR_FORMAT = "YYYY-MM-DD[T]HH:mm:ss[Z]"  # what `iso_utc` writes, and only that


def pack_calls(entries: Mapping[int, int], ends: Mapping[int, int] | None = None) -> str:
    """`{call id: started_at}` as short text, for the states that hold thousands of calls
    (10,000 calls a day waiting for their recording with a 24-hour lookback): sorted by
    id, each entry is the difference of its id and of its started_at from the entry
    before, in base 36, `id:started` joined by commas. About 4 to 7 bytes a call instead
    of 26 as JSON. A call with an end in `ends` gets a third part, `id:started:minutes`:
    how long after its start it ended, in whole minutes rounded up (so the end read
    back is at most 59 s late), 2 bytes more for a call under 36 minutes."""
    parts: list[str] = []
    previous_id = previous_started = 0
    for call_id, started in sorted(entries.items()):
        part = f"{base36(call_id - previous_id)}:{base36(started - previous_started)}"
        end = ends.get(call_id) if ends else None
        if end is not None:
            part += ":" + base36(max(0, -(-(end - started) // 60)))
        parts.append(part)
        previous_id, previous_started = call_id, started
    return ",".join(parts)


def unpack_calls(text: str) -> dict[int, int]:
    """The inverse of `pack_calls` (the calls only); text it did not write raises
    ValueError."""
    return unpack_calls_and_ends(text)[0]


def unpack_calls_and_ends(text: str) -> tuple[dict[int, int], dict[int, int]]:
    """The inverse of `pack_calls`: the calls, and the ends it carried (to the minute)."""
    entries: dict[int, int] = {}
    ends: dict[int, int] = {}
    call_id = started = 0
    for part in text.split(",") if text else []:
        steps = part.split(":")
        if len(steps) not in (2, 3):
            raise ValueError(f"unreadable packed entry {part!r}")
        call_id += int(steps[0], 36)
        started += int(steps[1], 36)
        entries[call_id] = started
        if len(steps) == 3:
            ends[call_id] = started + 60 * int(steps[2], 36)
    return entries, ends


def pack_ids(ids: Iterable[int]) -> str:
    """Call ids as short text: sorted, each the difference from the one before in base 36."""
    parts: list[str] = []
    previous = 0
    for call_id in sorted(ids):
        parts.append(base36(call_id - previous))
        previous = call_id
    return ",".join(parts)


def unpack_ids(text: str) -> set[int]:
    """The inverse of `pack_ids`."""
    ids: set[int] = set()
    call_id = 0
    for part in text.split(",") if text else []:
        call_id += int(part, 36)
        ids.add(call_id)
    return ids


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    sign, number = ("-", -number) if number < 0 else ("", number)
    out = ""
    while True:
        number, digit = divmod(number, 36)
        out = digits[digit] + out
        if number == 0:
            return sign + out


@dataclass(frozen=True)
class CallCursor:
    """The state of the `calls` and `recordings` streams (see the module docstring)."""

    cursor: int | None = None
    pending: Mapping[int, int] = field(default_factory=dict)
    seen: Mapping[int, int] = field(default_factory=dict)
    since: int | None = None  # None: a state written before `since` was saved
    prints: Mapping[int, int] = field(default_factory=dict)
    relist_from: int | None = None  # `calls`: the oldest call that may still change, - 1 s
    failing: Mapping[int, int] = field(default_factory=dict)  # pending id -> first failure
    ends: Mapping[int, int] = field(default_factory=dict)  # pending done id -> ended_at
    overdue: frozenset[int] = frozenset()  # pending ids whose due lookup was not made

    def edge(self, overlap: int) -> int:
        """`seen` knows every call decided that started after this moment."""
        assert self.cursor is not None
        return self.since if self.since is not None else self.cursor - overlap

    def lower_bound(self, window_start: int, overlap: int) -> int:
        """Listing starts after this moment (exclusive, like Aircall's `from`)."""
        if self.cursor is None:
            return window_start
        edge = self.edge(overlap)
        return max(window_start, min(edge, self.relist_from if self.relist_from else edge))

    def handles(self, call: Call, overlap: int) -> bool:
        """Whether this sync decides about `call` (else an earlier sync already did)."""
        if self.cursor is None or call.id in self.pending:
            return True
        return call.id not in self.seen and call.started_at > self.edge(overlap)

    def to_state(self) -> dict[str, Any]:
        if self.cursor is None:
            return {}
        state: dict[str, Any] = {"cursor": iso_utc(self.cursor)}
        if self.since is not None:
            state["since"] = self.since
        if len(self.pending) > PACK_OVER:
            state["pending"] = pack_calls(self.pending, self.ends)
        else:
            state["pending"] = _calls_state(self.pending)
            if self.ends:
                state["ends"] = {str(key): value for key, value in sorted(self.ends.items())}
        state["seen"] = _calls_state(self.seen)
        if self.prints:
            state["prints"] = {str(key): value for key, value in sorted(self.prints.items())}
        if self.relist_from is not None:
            state["relist_from"] = self.relist_from
        if self.failing:
            state["failing"] = {str(key): value for key, value in sorted(self.failing.items())}
        if self.overdue:
            state["overdue"] = (
                pack_ids(self.overdue) if len(self.overdue) > PACK_OVER else sorted(self.overdue)
            )
        return state

    @staticmethod
    def from_state(state: Mapping[str, Any] | None, stream: str) -> CallCursor:
        """Read a state; one this connector did not write fails naming the stream."""
        if not state:
            return CallCursor()
        try:
            moment = pendulum.from_format(state["cursor"], CURSOR_FORMAT, tz="UTC")
            raw_pending = state.get("pending", {})
            if isinstance(raw_pending, str):
                pending, ends = unpack_calls_and_ends(raw_pending)
            else:
                pending = _calls_from_state(raw_pending)
                ends = {int(k): int(v) for k, v in dict(state.get("ends", {})).items()}
            raw_overdue = state.get("overdue", [])
            overdue = frozenset(
                unpack_ids(raw_overdue)
                if isinstance(raw_overdue, str)
                else (int(call_id) for call_id in raw_overdue)
            )
            seen = _calls_from_state(state.get("seen", {}))
            prints = {int(k): int(v) for k, v in dict(state.get("prints", {})).items()}
            failing = {int(k): int(v) for k, v in dict(state.get("failing", {})).items()}
            raw_since, relist_from = state.get("since"), state.get("relist_from")
            for name, value in (("since", raw_since), ("relist_from", relist_from)):
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    raise TypeError(f"'{name}' is {value!r}")
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(
                f"The saved state of stream '{stream}' cannot be read ({error!r}); reset the "
                "stream in Airbyte to start it again."
            ) from None
        return CallCursor(
            moment.int_timestamp,
            pending,
            seen,
            raw_since,
            prints,
            relist_from,
            failing,
            {k: v for k, v in ends.items() if k in pending},
            frozenset(k for k in overdue if k in pending),
        )


def _calls_state(entries: Mapping[int, int]) -> dict[str, int] | str:
    if len(entries) > PACK_OVER:
        return pack_calls(entries)
    return {str(key): value for key, value in sorted(entries.items())}


def _calls_from_state(value: Any) -> dict[int, int]:
    if isinstance(value, str):
        return unpack_calls(value)
    return {int(k): int(v) for k, v in dict(value).items()}
