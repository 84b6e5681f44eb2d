"""The package declares exactly what it imports.

An import that is only there because another dependency happens to pull it in (orjson
comes with airbyte-cdk) breaks the day that dependency drops it; a declared dependency that
nothing imports is weight in every image.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

from tests.ecosystem.support import ROOT

PACKAGE = ROOT / "source_aircall_salescaling"


def imported_top_level_modules(folder: Path) -> set[str]:
    modules: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def third_party_distributions(modules: set[str]) -> set[str]:
    by_module = packages_distributions()
    own = {PACKAGE.name}
    found: set[str] = set()
    for module in modules - own - set(sys.stdlib_module_names):
        distributions = by_module.get(module)
        assert distributions, f"'{module}' is imported but no installed distribution provides it"
        found.update(name.lower() for name in distributions)
    return found


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {Requirement(line).name.lower() for line in project["dependencies"]}


def test_every_imported_distribution_is_declared() -> None:
    imported = third_party_distributions(imported_top_level_modules(PACKAGE))
    assert imported - declared_distributions() == set()


def test_every_declared_dependency_is_imported() -> None:
    imported = third_party_distributions(imported_top_level_modules(PACKAGE))
    assert declared_distributions() - imported == set()
