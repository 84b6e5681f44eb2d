"""The image's install, without Docker: what the Dockerfile copies is enough to build the
package, the built wheel carries the spec and the stream schemas, and the installed console
script answers `spec` and `discover` from another directory.

No Docker engine runs here (nor in CI), so the test does what the image build does: it
takes exactly the files of the Dockerfile's COPY lines, builds a wheel from them (not an
editable install), installs it into a fresh directory and runs `source-aircall-salescaling`
from there, with the repository neither on the path nor the working directory. The
dependencies come from this virtualenv (the image pins the same ones, constraints.txt).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.ecosystem.support import ROOT, load_json
from tests.harness import ALL_STREAMS

PACKAGE = "source_aircall_salescaling"
SCRIPT = "source-aircall-salescaling"


def copy_lines() -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY of the Dockerfile."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    copies = []
    for line in text.splitlines():
        words = line.split()
        if words and words[0].upper() == "COPY":
            args = [w for w in words[1:] if not w.startswith("--")]
            copies.append((args[:-1], args[-1]))
    return copies


def build_context(target: Path) -> Path:
    """The files the Dockerfile copies, laid out as in its WORKDIR."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for sources, destination in copy_lines():
        for source in sources:
            origin = ROOT / source
            if destination.endswith("/"):
                place = target / destination / Path(source).name
            else:
                place = target / destination
            place.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_dir():
                shutil.copytree(origin, place, ignore=ignore)
            else:
                shutil.copy2(origin, place)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build the wheel from the Dockerfile's files and install it into a bare directory."""
    base = tmp_path_factory.mktemp("image")
    context = build_context(base / "context")
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(context)],
        check=True,
        cwd=base,
    )
    (wheel,) = dist.glob("*.whl")
    site = base / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        cwd=base,
    )
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return {"wheel": wheel, "site": site, "cwd": elsewhere, "base": base}


def run_installed(
    installed: dict[str, Path], *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "AIRCALL_API_URL", "AIRBYTE_STAGING_DIRECTORY"}
    }
    environment.update(PYTHONPATH=str(installed["site"]), **env)
    return subprocess.run(
        list(args),
        cwd=installed["cwd"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def messages(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_dockerignore_lets_every_copied_file_through() -> None:
    allowed = {
        line.strip().lstrip("!").rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip().startswith("!")
    }
    sources = [source for sources, _ in copy_lines() for source in sources]
    assert sources, "the Dockerfile copies nothing"
    assert {s.rstrip("/") for s in sources} <= allowed


def test_the_wheel_carries_the_spec_and_every_schema(installed: dict[str, Path]) -> None:
    with zipfile.ZipFile(installed["wheel"]) as wheel:
        names = set(wheel.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = wheel.read(entry_points).decode()
    schemas = sorted(p.name for p in (ROOT / PACKAGE / "schemas").glob("*.json"))
    assert schemas == sorted(f"{stream}.json" for stream in ALL_STREAMS)
    for name in ["spec.json", "py.typed", *(f"schemas/{s}" for s in schemas)]:
        assert f"{PACKAGE}/{name}" in names, f"{name} is not in the wheel"
    assert f"{SCRIPT} = {PACKAGE}.run:run" in scripts
    assert not any(n.startswith(("tests/", "unit_tests/", "aircall_sandbox/")) for n in names)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: dict[str, Path]) -> None:
    result = run_installed(
        installed, sys.executable, "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(installed["site"])


def test_console_script_spec_from_another_directory(installed: dict[str, Path]) -> None:
    script = installed["site"] / "bin" / SCRIPT
    result = run_installed(installed, str(script), "spec")
    assert result.returncode == 0, result.stderr
    specs = [m for m in messages(result.stdout) if m["type"] == "SPEC"]
    assert len(specs) == 1
    packaged = json.loads((ROOT / PACKAGE / "spec.json").read_text())
    assert specs[0]["spec"]["connectionSpecification"] == packaged["connectionSpecification"]
    assert specs[0]["spec"]["documentationUrl"] == packaged["documentationUrl"]


def test_console_script_discover_loads_every_schema(installed: dict[str, Path]) -> None:
    config = installed["base"] / "config.json"
    config.write_text(json.dumps(load_json("sample_config.json")))
    script = installed["site"] / "bin" / SCRIPT
    # discover reads no API; an unused loopback address makes sure of it.
    result = run_installed(
        installed,
        str(script),
        "discover",
        "--config",
        str(config),
        AIRCALL_API_URL="http://127.0.0.1:9",
    )
    assert result.returncode == 0, result.stderr
    (catalog,) = [m["catalog"] for m in messages(result.stdout) if m["type"] == "CATALOG"]
    streams = {s["name"]: s for s in catalog["streams"]}
    assert list(streams) == list(ALL_STREAMS)
    for name, stream in streams.items():
        packaged = json.loads((ROOT / PACKAGE / "schemas" / f"{name}.json").read_text())
        assert stream["json_schema"]["properties"] == packaged["properties"]
    assert streams["recordings"].get("is_file_based") is False  # files go by delivery_method
