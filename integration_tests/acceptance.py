"""Session set-up for acceptance tests run by Airbyte's tools.

Airbyte's connector acceptance runner imports this module and runs the `connector_setup`
fixture once per session: here is where a connector would start the services its tests
need. This connector's test service is the bundled Aircall sandbox; the standard test
suite of this repository starts it itself (tests/ecosystem/test_standard_suite.py), and
`airbyte-cdk connector test` expects it to be running already with AIRCALL_API_URL set
(see docs/aircall-salescaling.md, "Testing this connector").
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest_plugins = ("connector_acceptance_test.plugin",)


@pytest.fixture(scope="session", autouse=True)
def connector_setup() -> Iterator[None]:
    """Nothing to start or stop: the sandbox's lifetime belongs to the caller."""
    yield
