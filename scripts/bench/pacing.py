"""The pacing part: a 12,000-call read against the sandbox's token bucket at each rate.

What the sandbox received and when: requests per second as sent, answers 429 (target 0),
requests against the lower bound, and the read's time against the bound over the rate.
"""

from __future__ import annotations

import math
from bisect import bisect_left

from aircall_sandbox.testing import Sandbox
from source_aircall_salescaling.aircall.windows import TimeWindow
from tests.harness import catalog

from .kit import CALLS, PAGE, REQUESTS_SLACK, Bench, calls_in, config_window, count_requests
from .table import Row, Section

PACING_RATES = (60, 120, 600)
PACING_BURST = 2
SPAN_SECONDS = 10.0


def measure(bench: Bench, rates: tuple[int, ...] = PACING_RATES) -> None:
    """One 12,000-call read per rate against a token bucket at that rate (burst 2),
    the connector paced at the same rate: what the sandbox received, when."""
    rows: list[Row] = []
    for rate in rates:
        with Sandbox(
            seed=7,
            calls=0,
            rate_limit=rate,
            rate_bucket_burst=PACING_BURST,
            large_recordings=0,
        ) as sandbox:
            sandbox.add_bulk_calls(CALLS, days=10)
            config = sandbox.config(requests_per_minute=rate, first_sync_max_calls=1_000_000)
            connector = bench.connector(sandbox, f"pacing-{rate}")
            startup = bench.spec(connector)
            sandbox.clear_log()
            result = bench.run(connector, "read", config, catalog({"calls": "full_refresh"}))
            log = sandbox.requests_log("api")
            times = sorted(int(c["started_at"]) for c in sandbox.calls())
        listing = [e for e in log if e["path"] == "/v1/calls"]
        end = int(listing[0]["query"]["to"])
        window = TimeWindow(end - config_window(config), end)
        bound = count_requests(times, window) + max(1, math.ceil(calls_in(times, window) / PAGE))
        sent = sorted(float(e["t"]) for e in log)
        refused = sum(1 for e in log if e["status"] == 429)
        busiest = most_in_span(sent, SPAN_SECONDS) / SPAN_SECONDS
        mean = (len(sent) - 1) / (sent[-1] - sent[0]) if len(sent) > 1 else 0.0
        read_seconds = result.seconds - startup.wall
        ideal = bound * 60 / rate
        rows.append(
            Row(
                f"{rate}/min: requests, answers 429",
                f"{len(log)} requests (bound {bound}), {refused} x 429",
                f"<= {bound} + {REQUESTS_SLACK}, 0 x 429",
                refused == 0 and len(log) <= bound + REQUESTS_SLACK,
            )
        )
        rows.append(
            Row(
                f"{rate}/min: requests/s as sent",
                f"max {busiest:.2f}/s in any {SPAN_SECONDS:.0f} s, mean {mean:.2f}/s "
                f"(the rate: {rate / 60:.2f}/s)",
                "",
                None,
            )
        )
        rows.append(
            Row(
                f"{rate}/min: read time past start-up vs bound / rate",
                f"{read_seconds:.1f} s vs {ideal:.1f} s: {(read_seconds / ideal - 1) * 100:+.1f}%",
                "",
                None,
            )
        )
    bench.sections.append(
        Section(
            f"pacing: {CALLS:,} calls read against a token bucket (burst {PACING_BURST}) "
            "at the configured rate",
            rows,
        )
    )


def most_in_span(sent: list[float], span: float) -> int:
    """The most requests in any `span` seconds ([t, t + span) from each request, `sent`
    sorted): a window that starts anywhere else holds no more than one that starts at a
    request."""
    return max((bisect_left(sent, t + span) - i for i, t in enumerate(sent)), default=0)
