"""metadata.yaml: what Airbyte's registry and tools read, consistent with the package.

Checks the keys Airbyte's registry reads, that the image tag is the package version, that the
Dockerfile builds FROM the base image metadata.yaml declares (pinned by digest), and that
the spec and the docs agree with it.
"""

from __future__ import annotations

import json
import re
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from airbyte_cdk.models.connector_metadata import ConnectorLanguage, MetadataFile

from tests.ecosystem.support import ROOT

BASE_IMAGE = (
    "docker.io/airbyte/python-connector-base:4.0.2"
    "@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73"
)
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")


@pytest.fixture(scope="module")
def metadata() -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "metadata.yaml").read_text())
    assert raw["metadataSpecVersion"] == "1.0"
    data: dict[str, Any] = raw["data"]
    return data


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and continued lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        pairs.append((instruction.upper(), rest.strip()))
    return pairs


def test_identity_keys(metadata: dict[str, Any]) -> None:
    assert metadata["name"]
    assert metadata["connectorType"] == "source"
    assert metadata["connectorSubtype"] == "api"
    assert str(uuid.UUID(metadata["definitionId"])) == metadata["definitionId"]
    assert metadata["definitionId"] == "9b84650b-6f6d-45cc-b38c-01a721181d22"  # never changes
    assert metadata["dockerRepository"] == "airbyte/source-aircall-salescaling"
    assert metadata["githubIssueLabel"] == "source-aircall-salescaling"
    assert metadata["releaseStage"] in {"alpha", "beta", "generally_available", "custom"}
    assert metadata["supportLevel"] in {"community", "certified", "archived"}
    assert set(metadata["tags"]) >= {"language:python", "cdk:python"}


def test_image_tag_is_the_package_version(metadata: dict[str, Any]) -> None:
    version = pyproject()["project"]["version"]
    assert SEMVER.match(str(metadata["dockerImageTag"]))
    assert str(metadata["dockerImageTag"]) == version


def test_license_matches_the_package(metadata: dict[str, Any]) -> None:
    assert metadata["license"] == pyproject()["project"]["license"]


def test_documentation_url_is_the_spec_s_and_the_page_exists(metadata: dict[str, Any]) -> None:
    spec = json.loads((ROOT / "source_aircall_salescaling" / "spec.json").read_text())
    assert metadata["documentationUrl"].startswith("https://")
    assert metadata["documentationUrl"] == spec["documentationUrl"]
    assert metadata["documentationUrl"].endswith("/docs/aircall-salescaling.md")
    assert (ROOT / "docs" / "aircall-salescaling.md").is_file()


def test_base_image_is_pinned_and_is_the_dockerfile_s(metadata: dict[str, Any]) -> None:
    base_image = metadata["connectorBuildOptions"]["baseImage"]
    assert base_image == BASE_IMAGE
    assert re.search(r"@sha256:[0-9a-f]{64}$", base_image)
    steps = dockerfile_instructions(ROOT / "Dockerfile")
    froms = [args for op, args in steps if op == "FROM"]
    assert froms == ["${BASE_IMAGE}"]
    # The build argument, declared before FROM, defaults to the pinned base image.
    assert steps[0] == ("ARG", f"BASE_IMAGE={base_image}")


def test_dockerfile_follows_airbyte_s_python_image_convention() -> None:
    steps = dockerfile_instructions(ROOT / "Dockerfile")
    ops = [op for op, _ in steps]
    last = dict(steps)  # Docker obeys the last ENTRYPOINT
    runs = " ".join(a for op, a in steps if op == "RUN")
    assert "pip install --no-cache-dir -c constraints.txt ." in runs
    assert "-e " not in runs and "--editable" not in runs
    users = [a for op, a in steps if op == "USER"]
    assert users == ["airbyte"]  # the base image's non-root user, for everything that runs
    assert ops.index("USER") > max(i for i, op in enumerate(ops) if op == "RUN")
    assert 'AIRBYTE_ENTRYPOINT="source-aircall-salescaling"' in [
        a for op, a in steps if op == "ENV"
    ]
    assert last["ENTRYPOINT"] == '["source-aircall-salescaling"]'
    assert pyproject()["project"]["scripts"]["source-aircall-salescaling"] == (
        "source_aircall_salescaling.run:run"
    )


def test_image_labels_name_the_image_and_its_version(metadata: dict[str, Any]) -> None:
    labels = " ".join(a for op, a in dockerfile_instructions(ROOT / "Dockerfile") if op == "LABEL")
    found = dict(re.findall(r'([\w.]+)="([^"]*)"', labels))
    assert found == {
        "io.airbyte.name": metadata["dockerRepository"],
        "io.airbyte.version": str(metadata["dockerImageTag"]),
    }


def test_file_transfer_and_hosts(metadata: dict[str, Any]) -> None:
    assert metadata["supportsFileTransfer"] is True
    hosts = metadata["allowedHosts"]["hosts"]
    assert "api.aircall.io" in hosts
    assert "*.amazonaws.com" in hosts  # pre-signed recording URLs
    assert len(hosts) == 2


def test_registries(metadata: dict[str, Any]) -> None:
    overrides = metadata["registryOverrides"]
    assert set(overrides) == {"cloud", "oss"}
    assert all(isinstance(o["enabled"], bool) for o in overrides.values())
    pypi = metadata["remoteRegistries"]["pypi"]
    assert pypi == {"enabled": False, "packageName": pyproject()["project"]["name"]}


def test_suggested_streams_are_the_connector_s(metadata: dict[str, Any]) -> None:
    assert metadata["suggestedStreams"]["streams"] == ["users", "calls", "recordings"]


def test_the_cdk_reads_it_as_a_python_connector() -> None:
    parsed = MetadataFile.from_file(ROOT / "metadata.yaml")
    assert parsed.data.language is ConnectorLanguage.PYTHON
    assert parsed.data.connectorBuildOptions is not None
    assert parsed.data.connectorBuildOptions.baseImage == BASE_IMAGE
