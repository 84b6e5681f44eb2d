"""Paths and the seeded sandbox's parameters, shared by the ecosystem tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from airbyte_cdk.models import AirbyteMessage, AirbyteMessageSerializer

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "integration_tests"

# The world that integration_tests/sample_config.json and expected_records.jsonl describe:
# the sandbox's defaults (seed 7, 8 users, 300 calls over 14 days), without its rate limit
# so that the many reads of the standard suite do not wait for the limiter.
SEEDED: dict[str, Any] = {"seed": 7, "users": 8, "calls": 300, "days": 14, "rate_limit": 0}


def load_json(name: str) -> Any:
    """A JSON file of integration_tests/."""
    return json.loads((INTEGRATION / name).read_text())


def as_dicts(messages: Iterable[AirbyteMessage]) -> list[dict[str, Any]]:
    """Airbyte messages as the JSON objects the protocol sends."""
    return [AirbyteMessageSerializer.dump(message) for message in messages]
