"""`airbyte-cdk connector test`, the way a maintainer runs it, passes against the sandbox.

The CLI takes the connector's name from the folder it runs in and accepts only a folder
named `source-...`; a clone of this repository is `source-aircall-salescaling`, but the
checkout under test may be named anything. So the files the CLI reads are copied into a
folder of the right name, a sandbox is started, AIRCALL_API_URL names it, and the CLI runs
there exactly as docs/aircall-salescaling.md ("Testing this connector") says. The image
tests of the suite need a Docker engine and are deselected.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aircall_sandbox.testing import Sandbox
from tests.ecosystem.support import ROOT, SEEDED

CONNECTOR_FILES = (
    "metadata.yaml",
    "acceptance-test-config.yml",
    "pyproject.toml",
    "README.md",
    "integration_tests",
    "source_aircall_salescaling",
)
CLI_ARGS = ["connector", "test", "--pytest-arg=-m", "--pytest-arg=not image_tests"]


@pytest.mark.slow  # the CLI runs its own pytest of the standard tests: 30 to 40 s
def test_airbyte_cdk_connector_test_passes(tmp_path: Path) -> None:
    checkout = tmp_path / "source-aircall-salescaling"
    checkout.mkdir()
    for name in CONNECTOR_FILES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, checkout / name)
    cli = Path(sys.executable).parent / "airbyte-cdk"
    assert cli.exists(), "airbyte-cdk is installed with the connector's dependencies"
    with Sandbox(**SEEDED) as sandbox:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env.update(
            AIRCALL_API_URL=sandbox.api_url,
            AIRBYTE_STAGING_DIRECTORY=str(tmp_path),
        )
        result = subprocess.run(
            [str(cli), *CLI_ARGS, "--pytest-arg=-p", "--pytest-arg=no:cacheprovider"],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = re.search(r"\b(\d+) passed\b", summary)
    # spec, config-matches-spec, check x2, discover, basic read, bad catalog
    assert passed and int(passed.group(1)) >= 7, summary
    assert "failed" not in summary and "error" not in summary, summary
    assert (checkout / "build" / "test-results" / "standard-tests-junit.xml").is_file()
