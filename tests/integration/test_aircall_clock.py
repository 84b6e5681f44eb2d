"""The connector's clock an hour ahead of Aircall's (libfaketime, as in the simulated
day): the sync time is Aircall's `Date`, so a late recording is still waited for, and
nothing is decided early (issue 18).

    sandbox (Aircall)   call ends    sync 1      recording      sync 2 (+20 min)
                        |------------|-----------|--------------|
    connector's clock   ........................ +1 h: the lookback (1 h) looks over

Needs Debian's `faketime` (`make day` installs it); skipped, saying so, without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aircall_sandbox.testing import Sandbox
from tests.day.simulation import libfaketime
from tests.harness import Connector, ConnectorRun, catalog

AHEAD = 3_600
LATER = 20 * 60
RECORDINGS = catalog(["recordings"], include_files=False)

pytestmark = pytest.mark.skipif(
    libfaketime() is None, reason="libfaketime is missing (Debian's faketime package)"
)


def connector_ahead(sandbox: Sandbox, workdir: Path, sandbox_offset: int) -> Connector:
    """The connector with its clock an hour ahead of the sandbox's."""
    library = libfaketime()
    assert library is not None
    return Connector(
        sandbox.api_url,
        workdir,
        extra_env={"LD_PRELOAD": library, "FAKETIME": f"{sandbox_offset + AHEAD:+d}s"},
        process=True,  # libfaketime moves the clock of a process it is loaded into
    )


def waiting_call(sandbox: Sandbox) -> dict[str, Any]:
    """A Salescaling user's call that ended 5 minutes ago, its recording not there yet."""
    user = next(u for u in sandbox.users() if u["salescaling"])
    return sandbox.add_calls(
        1, status="done", recording=False, started_ago_seconds=420, duration=120,
        user_id=user["id"],
    )[0]  # fmt: skip


def first_sync(sandbox: Sandbox, workdir: Path) -> ConnectorRun:
    run = connector_ahead(sandbox, workdir, 0).run(
        "read", sandbox.config(lookback_minutes=60), RECORDINGS
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def test_a_connector_clock_an_hour_ahead_loses_no_late_recording(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    call = waiting_call(sandbox)
    first = first_sync(sandbox, tmp_path)
    sandbox.set_clock_offset(LATER)
    sandbox.attach_recording(call["id"])

    second = connector_ahead(sandbox, tmp_path, LATER).run(
        "read", sandbox.config(lookback_minutes=60), RECORDINGS, state=first.states()
    )

    assert call["id"] not in first.ids("recordings")
    assert second.ids("recordings").count(call["id"]) == 1


def test_a_connector_clock_an_hour_ahead_decides_nothing_early(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    call = waiting_call(sandbox)

    first = first_sync(sandbox, tmp_path)

    recordings = next(
        s for s in first.states() if s["stream"]["stream_descriptor"]["name"] == "recordings"
    )
    assert str(call["id"]) in recordings["stream"]["stream_state"]["pending"]


def test_a_connector_clock_an_hour_ahead_logs_the_skew(sandbox: Sandbox, tmp_path: Path) -> None:
    first = first_sync(sandbox, tmp_path)

    skew = [line for line in first.logs() if "s behind this machine's" in line]
    assert len(skew) == 1 and "Aircall's clock is 3" in skew[0]  # 3600 s, give or take 1
