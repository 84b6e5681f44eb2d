"""Console entry point: `source-aircall-salescaling spec|check|discover|read ...`."""

from __future__ import annotations

import sys

from airbyte_cdk.entrypoint import launch

from source_aircall_salescaling.source import SourceAircallSalescaling


def run() -> None:
    launch(SourceAircallSalescaling(), sys.argv[1:])
