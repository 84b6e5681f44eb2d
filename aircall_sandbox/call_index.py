"""The account's calls by id plus their ``(started_at, id)`` keys kept sorted.

A ``from``/``to`` window and a page are found by bisection in O(log n) even with
100,000 calls; only ``/v1/calls/search`` (a predicate) scans the window. Not
thread-safe on its own: :class:`~aircall_sandbox.account.SandboxWorld` holds its
lock around every call.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable

from .model import SandboxCall

_AFTER_EVERY_ID = 2**63
"""An id above any call id: ``(t, _AFTER_EVERY_ID)`` sorts after every call started at ``t``."""


class CallIndex:
    """Calls by id (``calls``) and the sorted key list the windows are cut from."""

    def __init__(self) -> None:
        self.calls: dict[int, SandboxCall] = {}
        self._order: list[tuple[int, int]] = []

    def add(self, calls: Iterable[SandboxCall], presorted: bool = False) -> None:
        """Insert calls; ``presorted`` calls newer than every indexed one are appended."""
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

    def move(self, call_id: int, old_started_at: int, new_started_at: int) -> None:
        """Re-sort a call whose ``started_at`` changed (Aircall moves it on rewrites)."""
        if old_started_at == new_started_at:
            return
        index = bisect.bisect_left(self._order, (old_started_at, call_id))
        del self._order[index]
        bisect.insort(self._order, (new_started_at, call_id))

    def remove(self, call_id: int) -> SandboxCall | None:
        """Take one call out (Aircall deleted it): gone from ``calls`` and every window."""
        call = self.calls.pop(call_id, None)
        if call is not None:
            index = bisect.bisect_left(self._order, (call.started_at, call_id))
            del self._order[index]
        return call

    def drop(self, ids: set[int]) -> None:
        for call_id in ids:
            self.calls.pop(call_id, None)
        self._order = [key for key in self._order if key[1] not in ids]

    def ordered(self) -> list[SandboxCall]:
        return [self.calls[k[1]] for k in self._order]

    def page(
        self,
        window: tuple[int, int | None, int | None],
        descending: bool,
        offset: int,
        limit: int,
        predicate: Callable[[SandboxCall], bool] | None = None,
    ) -> tuple[int, list[SandboxCall]]:
        """``(total, page)`` of the calls in ``window``, ``(cutoff, from_, to)``.

        The window holds ``cutoff <= started_at`` and ``from_ < started_at <= to``.
        Ties on ``started_at`` are ordered by id in the same direction as the sort.
        """
        cutoff, from_, to = window
        lo = bisect.bisect_left(self._order, (cutoff, -1))
        if from_ is not None:
            lo = max(lo, bisect.bisect_right(self._order, (from_, _AFTER_EVERY_ID)))
        hi = len(self._order)
        if to is not None:
            hi = min(hi, bisect.bisect_right(self._order, (to, _AFTER_EVERY_ID)))
        if hi <= lo:
            return 0, []
        if predicate is not None:
            keys = [k for k in self._order[lo:hi] if predicate(self.calls[k[1]])]
            if descending:
                keys.reverse()
            page = keys[offset : offset + limit]
            return len(keys), [self.calls[k[1]] for k in page]
        if descending:
            end = hi - offset
            start = max(lo, end - limit)
            keys = self._order[start:end] if end > lo else []
            keys.reverse()
        else:
            start = lo + offset
            keys = self._order[start : min(hi, start + limit)] if start < hi else []
        return hi - lo, [self.calls[k[1]] for k in keys]
