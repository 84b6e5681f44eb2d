"""Reliability and security tests: the connector runs against the sandbox on loopback
(in the test process; as a process where a test kills it or reads all a process writes:
tests/harness.py); see docs/reliability.md for what is tested and the figures."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.reliability.support import FIGURES

_OUTCOMES: dict[str, str] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        outcome = "xfailed" if hasattr(report, "wasxfail") else report.outcome
        _OUTCOMES[report.nodeid] = outcome


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures docs/reliability.md quotes, from this run."""
    if not FIGURES:
        return
    by_outcome: dict[str, Counter[str]] = {}
    for node, figures in FIGURES.items():
        outcome = _OUTCOMES.get(node, "unknown")
        by_outcome.setdefault(outcome, Counter()).update(figures)
    terminalreporter.section("reliability figures")
    for outcome, figures in sorted(by_outcome.items()):
        faults = {
            k.removeprefix("faults_"): v for k, v in figures.items() if k.startswith("faults_")
        }
        others = {k: v for k, v in figures.items() if not k.startswith("faults_")}
        terminalreporter.write_line(
            f"{outcome} tests: faults injected {sum(faults.values())} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(faults.items()) if v)}); "
            + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(others.items()))
        )


@pytest.fixture
def node(request: pytest.FixtureRequest) -> str:
    """The test's id, under which it counts its figures."""
    return str(request.node.nodeid)
