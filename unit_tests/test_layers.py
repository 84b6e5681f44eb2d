"""Imports in the package point down only.

    run.py                                 (top: the process entry point)
    source.py                              the CDK source: streams of one sync
    streams/                               the CDK streams
    sync/                                  plan, state, progress, report of one sync
    records.py  ai_records.py              Salescaling's record shapes
    import_rules.py  recordings/           Salescaling's rules; the recording downloader
    aircall/                               the API: client, payload models, windows
    config.py  output.py                   (bottom: settings, and how messages go out)

A module may import only modules of a lower layer, or of its own layer when that layer is
a package that keeps an order of its own (no import cycle within it, checked below).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "source_aircall_salescaling"
NAME = PACKAGE.name

LAYERS: dict[str, int] = {
    "config": 0,
    "output": 0,
    "aircall": 1,
    "import_rules": 2,
    "recordings": 2,
    "records": 3,
    "ai_records": 3,
    "sync": 4,
    "streams": 5,
    "source": 6,
    "run": 7,
}


def layer_of(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def package_modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).with_suffix("")
        parts = [p for p in relative.parts if p != "__init__"]
        if parts:
            modules[".".join(parts)] = path
    return modules


def imports_of(path: Path) -> set[str]:
    """The package's modules that `path` imports, as dotted names inside the package;
    `from source_aircall_salescaling import import_rules` counts as `import_rules`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == NAME:
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(NAME):
            found.add(node.module[len(NAME) + 1 :])
        elif isinstance(node, ast.Import):
            found.update(
                alias.name[len(NAME) + 1 :]
                for alias in node.names
                if alias.name.startswith(NAME + ".")
            )
    return {name for name in found if name}


MODULES = package_modules()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_only_modules_below_it(module: str) -> None:
    upward = sorted(
        target for target in imports_of(MODULES[module]) if layer_of(target) > layer_of(module)
    )
    assert upward == [], f"{module} imports modules above it: {upward}"


def test_every_module_has_a_layer() -> None:
    assert sorted({name.split(".")[0] for name in MODULES} - set(LAYERS)) == []


def test_no_import_cycle_within_a_layer() -> None:
    graph = {module: imports_of(path) & set(MODULES) for module, path in MODULES.items()}
    done: set[str] = set()

    def cycle_from(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for target in sorted(graph[module]):
            found = cycle_from(target, [*path, module])
            if found:
                return found
        done.add(module)
        return None

    cycles = [found for module in sorted(graph) if (found := cycle_from(module, []))]
    assert cycles == []
