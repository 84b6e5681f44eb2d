"""The scale model: requests and duration of a 100,000-call, 14-day first sync.

Computed from the package's own window splitting over a uniform account, not run.
"""

from __future__ import annotations

import math

from source_aircall_salescaling.aircall.windows import TimeWindow, windows_newest_first

from .kit import PAGE, REQUESTS_SLACK, Bench, calls_in, count_requests
from .table import Row, Section

SCALE_CALLS = 100_000
SCALE_DAYS = 14
SCALE_RPM = 120


def measure(bench: Bench) -> None:
    """Requests from the package's own window splitting (`windows_newest_first`) over
    a synthetic uniform account; duration = requests / requests per minute."""
    span = SCALE_DAYS * 86_400
    start = 1_800_000_000 - span
    started = [start + 1 + (i * span) // SCALE_CALLS for i in range(SCALE_CALLS)]
    window = TimeWindow(start, start + span)
    leaves, pages = 0, 0
    for leaf in windows_newest_first(window, lambda part: calls_in(started, part)):
        leaves += 1
        pages += max(1, math.ceil(calls_in(started, leaf) / PAGE))
    counts = count_requests(started, window)
    total = counts + pages + 1
    bound = counts + math.ceil(SCALE_CALLS / PAGE) + 1
    relisted = bench.relisted_seconds if bench.relisted_seconds is not None else 3600
    per_15 = math.ceil(SCALE_CALLS / span * (900 + relisted) / PAGE) + 1
    bench.sections.append(
        Section(
            f"scale model: {SCALE_CALLS:,} calls uniform over {SCALE_DAYS} days, "
            f"{SCALE_RPM} requests/min",
            [
                Row(
                    "first sync, whole window",
                    f"{total:,} requests, {total / SCALE_RPM:.1f} min "
                    f"(at 60/min {total / 60:.1f} min)",
                    f"<= {bound:,} + {REQUESTS_SLACK}",
                    total <= bound + REQUESTS_SLACK,
                ),
                Row(
                    "every 15 minutes after that",
                    f"{per_15} requests, {per_15 / SCALE_RPM * 60:.1f} s",
                    "",
                    None,
                ),
            ],
        )
    )
    bench.notes.append(
        f"scale model: {counts} count requests (windows split under the 10,000 cap) + "
        f"{pages:,} pages in {leaves} windows + 1 users page; a 15-minute sync lists "
        f"15 min of new calls plus the {relisted / 60:.0f} min before the cursor that "
        f"the connector lists again ({'measured above' if bench.relisted_seconds is not None else 'assumed'})."
    )
