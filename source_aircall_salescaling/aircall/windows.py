"""Time windows over `started_at`, and how to split them under Aircall's 10,000 cap.

Aircall filters `/v1/calls` on `started_at` with a half-open window:

    from < started_at <= to          (from exclusive, to inclusive)

and refuses any page whose *position* passes 10,000 results (`page * per_page > 10000`
answers 400 even when fewer calls exist). The only way to read more is to narrow the
window. A window is therefore halved until each part holds fewer than 10,000 calls:

    (from ............................................ to]      count >= 10,000
    (from ................ mid]  (mid ................... to]   halves, no gap, no overlap
                                  (mid ..... m2]  (m2 .... to]  and again, newest first

Halves are produced newest first, because every reader here pages newest first (the
first sync keeps only the most recent calls, so it must be able to stop early).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

RESULT_CAP = 10_000


@dataclass(frozen=True, order=True)
class TimeWindow:
    """The calls with `start < started_at <= end` (UNIX seconds)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window ends before it starts: {self}")

    @property
    def seconds(self) -> int:
        return self.end - self.start

    def contains(self, started_at: int) -> bool:
        return self.start < started_at <= self.end

    def split(self) -> tuple[TimeWindow, TimeWindow]:
        """(older, newer): two windows that together cover exactly this one."""
        middle = self.start + self.seconds // 2
        return TimeWindow(self.start, middle), TimeWindow(middle, self.end)


def windows_newest_first(
    window: TimeWindow, count: Callable[[TimeWindow], int], cap: int = RESULT_CAP
) -> Iterator[TimeWindow]:
    """Lazily yield windows that cover `window` exactly, newest first, each under `cap`.

    `count` is asked only for windows that are about to be read, so a reader that stops
    early never pays for counting the older part. A single second holding `cap` calls or
    more cannot be split further; it is yielded as it is (and the reader says so).
    """
    if window.seconds <= 1 or count(window) < cap:
        yield window
        return
    older, newer = window.split()
    yield from windows_newest_first(newer, count, cap)
    yield from windows_newest_first(older, count, cap)
