"""The Aircall client the client unit tests drive, pointed at an API `requests_mock` answers."""

from __future__ import annotations

import logging
from typing import Any

from source_aircall_salescaling.aircall.client import AircallClient
from source_aircall_salescaling.config import parse_config

# A closed port: a request `requests_mock` does not answer fails instead of leaving the box.
API = "http://127.0.0.1:9"


def mocked_client(
    logger_name: str, api_id: str = "id", api_token: str = "token", **client_options: Any
) -> AircallClient:
    """A client of Salescaling user Ana's account, at 1,000 requests a minute."""
    config = parse_config(
        {
            "api_id": api_id,
            "api_token": api_token,
            "salescaling_user_emails": ["ana@example.com"],
            "requests_per_minute": 1000,
        },
        environ={"AIRCALL_API_URL": API},
    )
    return AircallClient(config, logging.getLogger(logger_name), **client_options)
