"""Console entry point: `source-aircall-salescaling spec|check|discover|read ...`."""

from __future__ import annotations

import gc
import sys
from collections.abc import Mapping
from typing import Any

from airbyte_cdk.entrypoint import PRINT_BUFFER, AirbyteEntrypoint
from airbyte_cdk.models import ConnectorSpecification
from airbyte_cdk.sources.utils.schema_helpers import split_config

from source_aircall_salescaling.config import parse_config
from source_aircall_salescaling.source import SourceAircallSalescaling


class SalescalingEntrypoint(AirbyteEntrypoint):
    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Mapping[str, Any]) -> None:
        """The CDK's JSON-schema check says "500 is greater than the maximum of 180"
        without naming the field; the connector's own validation (the same rules) names
        it, so it runs first. The schema check then catches anything else."""
        connector_config, _ = split_config(config)
        parse_config(connector_config)
        AirbyteEntrypoint.validate_connection(source_spec, config)


def run() -> None:
    # Everything imported so far (airbyte-cdk: some 130,000 objects) lives until exit:
    # out of the garbage collector's sight, each collection during a sync is cheaper.
    gc.freeze()
    entrypoint = SalescalingEntrypoint(SourceAircallSalescaling())
    arguments = entrypoint.parse_args(sys.argv[1:])
    with PRINT_BUFFER:
        for message in entrypoint.run(arguments):
            print(f"{message}\n", end="")
