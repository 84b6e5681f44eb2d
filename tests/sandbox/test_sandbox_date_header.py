"""The sandbox stamps its answers' `Date` with its own clock, as Aircall stamps them with
its own: moving the sandbox's clock (the simulated day does) moves the Date too."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from aircall_sandbox.testing import Sandbox


def test_the_date_header_follows_the_sandbox_clock(sandbox: Sandbox) -> None:
    sandbox.set_clock_offset(7_200)

    answer = sandbox.api_get("/v1/ping")

    stamped = int(parsedate_to_datetime(answer.headers["Date"]).timestamp())
    assert abs(stamped - sandbox.now()) <= 1
