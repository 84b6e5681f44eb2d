"""Console entry point: `source-aircall-salescaling spec|check|discover|read ...`."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from airbyte_cdk.entrypoint import PRINT_BUFFER, AirbyteEntrypoint
from airbyte_cdk.models import AirbyteMessage, ConnectorSpecification
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader, split_config

from source_aircall_salescaling.ai_records import INSIGHT_KINDS
from source_aircall_salescaling.config import api_url_from_environment, parse_config
from source_aircall_salescaling.output import RecordLines
from source_aircall_salescaling.source import SourceAircallSalescaling

STREAMS = (
    "users",
    "calls",
    "recordings",
    *(kind.stream for kind in INSIGHT_KINDS),
    "import_decisions",
)


class SalescalingEntrypoint(AirbyteEntrypoint):
    def __init__(self, source: SourceAircallSalescaling, lines: RecordLines | None = None) -> None:
        super().__init__(source)
        self.lines = lines

    def read(
        self, source_spec: ConnectorSpecification, config: Any, catalog: Any, state: list[Any]
    ) -> Iterable[AirbyteMessage]:
        """The CDK's read, each RECORD given every schema field (output.py) before
        `AirbyteEntrypoint.run` serializes it."""
        messages = super().read(source_spec, config, catalog, state)
        if self.lines is None:
            yield from messages
            return
        fill = self.lines.fill
        for message in messages:
            yield fill(message)

    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Mapping[str, Any]) -> None:
        """The CDK's JSON-schema check says "500 is greater than the maximum of 180"
        without naming the field; the connector's own validation (the same rules) names
        it, so it runs first. The schema check then catches anything else."""
        connector_config, _ = split_config(config)
        parse_config(connector_config)
        AirbyteEntrypoint.validate_connection(source_spec, config)


def record_lines() -> RecordLines:
    """Driven by the stream schemas shipped in the package (the ones discover declares)."""
    loader = ResourceSchemaLoader("source_aircall_salescaling")
    schemas = {stream: loader.get_schema(stream) for stream in STREAMS}
    links: dict[str, str] = {}

    def call_link(call_id: int) -> str:
        # Read when the first file record goes out: by then `read` has validated it.
        if "api" not in links:
            links["api"] = api_url_from_environment()
        return f"{links['api']}/v1/calls/{int(call_id)}"

    return RecordLines(schemas, call_link)


def run() -> None:
    # Everything imported so far (airbyte-cdk: some 130,000 objects) lives until exit:
    # out of the garbage collector's sight, each collection during a sync is cheaper.
    gc.freeze()
    # A page of calls parses into some 2,000 objects, and the listing keeps every call of
    # the sync: at the default threshold (700) the young generation was collected three
    # times a page, 5% of the CPU of a 12,000-call read (docs/performance.md). Nearly
    # everything is freed by reference counting anyway; cycles wait a little longer.
    gc.set_threshold(10_000, 10, 10)
    launch(SourceAircallSalescaling(), sys.argv[1:])
    # The process ends here. What the sync kept (every call listed, its plan and state)
    # is frozen too, so that the collection Python runs at exit does not walk it all
    # (0.07 s of CPU after a 12,000-call read; docs/performance.md).
    gc.freeze()


def launch(source: SourceAircallSalescaling, args: list[str]) -> None:
    """The CDK's `launch` (airbyte_cdk/entrypoint.py) with this connector's entrypoint and
    printed lines (output.py): one verb, its messages printed through the CDK's print
    buffer. The process-wide settings (the garbage collector's) stay in `run`."""
    lines = record_lines()
    entrypoint = SalescalingEntrypoint(source, lines)
    arguments = entrypoint.parse_args(args)
    with PRINT_BUFFER:
        # sys.stdout is the CDK's print buffer now; one write a line (print() makes two).
        write = sys.stdout.write
        for message in entrypoint.run(arguments):
            line, urgent = lines.complete(message)
            write(f"{line}\n")
            if urgent:
                PRINT_BUFFER.flush()
