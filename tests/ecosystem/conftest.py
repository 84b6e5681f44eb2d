"""Shared set-up of the ecosystem tests: the sandbox, as Airbyte's tools expect to find it.

Airbyte's standard tests run the connector in this process, so the sandbox's address and a
staging directory for recording files go into `os.environ` for as long as a module needs them.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from aircall_sandbox.testing import Sandbox
from tests.ecosystem.support import SEEDED


@functools.cache
def docker_engine_available() -> bool:
    """A docker CLI alone is not enough: image tests need a daemon that answers."""
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "image_tests: needs a Docker engine (Airbyte standard tests)"
    )
    config.addinivalue_line(
        "markers", "requires_creds: needs real credentials (Airbyte standard tests)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The CDK skips its image tests only when the docker CLI is missing. Here they run
    when a daemon answers and an image is named with `--connector-image` (`make
    image-test` builds one on a stand-in base and passes it): without that, the CDK
    would build from the pinned base image, which cannot be pulled here, and `make test`
    must not build images."""
    image_tests = [item for item in items if item.get_closest_marker("image_tests")]
    if not image_tests:
        return
    reason = None
    if not docker_engine_available():
        reason = "no Docker engine answers `docker info`"
    elif not config.getoption("--connector-image", default=None):
        reason = "no --connector-image given: `make image-test` builds the image and runs these"
    if reason is not None:
        skip = pytest.mark.skip(reason=reason)
        for item in image_tests:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def seeded_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The seeded sandbox, with the in-process connector pointed at it."""
    staging = tmp_path_factory.mktemp("staging")
    with Sandbox(**SEEDED) as sandbox, pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRCALL_API_URL", sandbox.api_url)
        patch.setenv("AIRBYTE_STAGING_DIRECTORY", str(staging))
        yield sandbox
