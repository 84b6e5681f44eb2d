"""Sync semantics as a property: a hypothesis state machine drives the sandbox (calls
start, finish, get their recording late) and the connector (syncs that pass their state
along, syncs killed with SIGKILL), and checks the rules "Across syncs" of
docs/aircall-salescaling.md after every step and at the end.

Invariants:
- window: no record of a sync started before `T - import_window_days`;
- first-sync cap: the first sync emits exactly the newest `first_sync_max_calls` ready
  calls (and eligible recordings);
- exactly once: no `recordings` call id is committed twice (a record is committed when a
  STATE of its stream follows it; a killed run's records after its last state are
  replayed by the next run, as Airbyte expects);
- nothing lost: once every call has finished and a last sync ran, the union of all
  records is exactly the calls that were among the newest N at the first sync or became
  ready after it (done, or given a recording within the lookback), and every recording
  file is complete.

New calls start after the previous sync began (Aircall lists a call from the moment it
starts ringing); recordings are attached to calls that ended within the lookback.
"""

from __future__ import annotations

import calendar
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, ConnectorRun, catalog
from tests.oracle import DAY, done_calls, eligible_calls, newest, users_by_id
from tests.reliability.support import FIGURES, Sequence, committed_ids, incomplete_final_files

CAP = 5
WINDOW_DAYS = 2
LOOKBACK_MINUTES = 60
RECORDING_BYTES = 20_000
CATALOG = catalog(["calls", "recordings"], include_files=True)
NODE = "tests/reliability/test_sync_properties.py::TestSyncSequence::runTest"


def epoch(iso: str) -> int:
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


class SyncSequence(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.sandbox = Sandbox(
            seed=41, users=4, calls=40, days=3, rate_limit=0, large_recordings=0
        ).start()
        self.workdir = Path(tempfile.mkdtemp(prefix="reliability-property-"))
        self.connector = Connector(self.sandbox.api_url, self.workdir)
        self.config = self.sandbox.config(
            first_sync_max_calls=CAP,
            import_window_days=WINDOW_DAYS,
            lookback_minutes=LOOKBACK_MINUTES,
            requests_per_minute=1000,
        )
        self.users = users_by_id(self.sandbox.users())
        self.emails = self.config["salescaling_user_emails"]
        self.sequence = Sequence()
        self.last_sync_began = 0
        self.first_newest: dict[str, set[int]] = {}
        self.ready_at_first: dict[str, set[int]] = {}
        self.syncs = self.kills = 0

    # ------------------------------------------------------------------ helpers
    def _ready(self, calls: list[dict[str, Any]], now: int) -> dict[str, list[Mapping[str, Any]]]:
        """Calls ready for each stream: done (`calls`); done, of a Salescaling user, with a
        recording within the size limit (`recordings`); all in the window."""
        return {
            "calls": done_calls(calls, now, WINDOW_DAYS),
            "recordings": eligible_calls(calls, self.users.values(), self.emails, now, WINDOW_DAYS),
        }

    def _read(self, kill_after: int | None) -> ConnectorRun:
        began = int(time.time())
        if kill_after is None:
            run = self.connector.run("read", self.config, CATALOG, state=self.sequence.state)
        else:
            run = self.connector.run(
                "read",
                self.config,
                CATALOG,
                self.sequence.state,
                300,
                kill_after_records=kill_after,
                kill_counts=("RECORD", "STATE"),
            )
        self.sequence.take(run)
        self.last_sync_began = began
        if run.returncode == 0:
            self.syncs += 1
        else:
            assert run.killed, f"read failed: {run.errors()} {run.stderr[-1500:]}"
            self.kills += 1  # after its `kill_after`-th record or state message
        for stream in ("calls", "recordings"):
            for record in run.records(stream):
                assert epoch(record["started_at"]) > began - WINDOW_DAYS * DAY, record
        eligible = {int(c["id"]) for c in self._ready(self.sandbox.calls(), began)["recordings"]}
        assert set(run.ids("recordings")) <= eligible
        return run

    def _start_after_last_sync(self) -> int:
        """Seconds ago a new call may start: not before the last sync began."""
        while self.sandbox.now() <= self.last_sync_began:
            time.sleep(0.05)  # wait for the next second: a call cannot start in the past
        return self.sandbox.now() - self.last_sync_began - 1

    def _user(self, salescaling: bool) -> int:
        return next(u for u, user in self.users.items() if user["salescaling"] is salescaling)

    # -------------------------------------------------------------------- steps
    @initialize()
    def first_sync(self) -> None:
        calls, now = self.sandbox.calls(), self.sandbox.now()
        ready = self._ready(calls, now)
        self.ready_at_first = {k: {int(c["id"]) for c in v} for k, v in ready.items()}
        self.first_newest = {k: newest(v, CAP) for k, v in ready.items()}
        run = self._read(None)
        assert run.returncode == 0
        for stream in ("calls", "recordings"):
            assert set(run.ids(stream)) == self.first_newest[stream], stream

    @rule(
        change=st.sampled_from(["calls start", "a call finishes", "a recording appears late"]),
        data=st.data(),
    )
    def the_account_changes(self, change: str, data: st.DataObject) -> None:
        """One rule for every change of the Aircall account, so that about every other
        step is a sync."""
        if change == "calls start":
            self.calls_start(
                data.draw(st.integers(1, 3), label="count"),
                data.draw(st.sampled_from(["in_progress", "done_recorded", "done_unrecorded"])),
                data.draw(st.booleans(), label="salescaling user"),
            )
        elif change == "a call finishes":
            self.a_call_finishes(data, data.draw(st.booleans(), label="with a recording"))
        else:
            self.a_recording_appears_late(data)

    def calls_start(self, count: int, kind: str, salescaling: bool) -> None:
        ago = self._start_after_last_sync()
        spec: dict[str, Any] = {"user_id": self._user(salescaling), "started_ago_seconds": ago}
        if kind == "in_progress":
            spec.update(status="in_progress", spread_seconds=0)
        else:
            spec.update(
                status="done",
                duration=1,
                recording=kind == "done_recorded",
                recording_size=RECORDING_BYTES,
                spread_seconds=min(ago, count - 1),
            )
        self.sandbox.add_calls(count, **spec)

    def a_call_finishes(self, data: st.DataObject, recording: bool) -> None:
        live = [c["id"] for c in self.sandbox.calls() if c["status"] != "done"]
        if live:
            call_id = data.draw(st.sampled_from(live), label="call that finishes")
            self.sandbox.finish_call(call_id, recording=recording, recording_size=RECORDING_BYTES)

    def a_recording_appears_late(self, data: st.DataObject) -> None:
        now = self.sandbox.now()
        waiting = [
            c["id"]
            for c in self.sandbox.calls()
            if c["status"] == "done"
            and not c["has_recording"]
            and c["ended_at"] > now - (LOOKBACK_MINUTES - 10) * 60
        ]
        if waiting:
            call_id = data.draw(st.sampled_from(waiting), label="call given a recording")
            self.sandbox.attach_recording(call_id, size=RECORDING_BYTES)

    @rule(kill_after=st.sampled_from([2, None, 1, None, 3]))
    def sync(self, kill_after: int | None) -> None:
        """A sync from the last state; or one SIGKILLed after `kill_after` RECORD or STATE
        messages, answers then taking 20 ms so that the kill lands mid-sync."""
        if kill_after is None:
            assert self._read(None).returncode == 0
            return
        self.sandbox.set_faults(latency_ms=20)
        try:
            self._read(kill_after)
        finally:
            self.sandbox.clear_faults()

    # --------------------------------------------------------------- invariants
    @invariant()
    def recordings_are_committed_exactly_once(self) -> None:
        committed = [i for run in self.sequence.runs for i in committed_ids(run, "recordings")]
        assert len(committed) == len(set(committed)), committed

    def teardown(self) -> None:
        try:
            if self.sequence.runs:
                self._nothing_lost_at_the_end()
        finally:
            self.sandbox.stop()
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _nothing_lost_at_the_end(self) -> None:
        for call in self.sandbox.calls():
            if call["status"] != "done":
                self.sandbox.finish_call(call["id"], recording=True, recording_size=RECORDING_BYTES)
        for _ in range(3):  # the last sync, or a killed one's completion
            if self._read(None).returncode == 0:
                break
        calls, now = self.sandbox.calls(), self.sandbox.now()
        ready = self._ready(calls, now)
        for stream in ("calls", "recordings"):
            became_ready = {int(c["id"]) for c in ready[stream]} - self.ready_at_first[stream]
            must = (self.first_newest[stream] | became_ready) & {
                int(c["id"]) for c in ready[stream]
            }
            emitted = set(self.sequence.ids(stream))
            FIGURES[NODE].update(records_expected=len(must), records_lost=len(must - emitted))
            assert emitted == must, f"{stream}: lost {must - emitted}, extra {emitted - must}"
        assert incomplete_final_files(self.connector.staging, self.sandbox) == []
        FIGURES[NODE].update(property_syncs=self.syncs, kills_survived=self.kills)


SyncSequence.TestCase.settings = settings(
    max_examples=4,
    stateful_step_count=5,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestSyncSequence = SyncSequence.TestCase


def test_calls_that_start_while_a_sync_runs_arrive_with_the_next_sync(tmp_path: Path) -> None:
    """Aircall lists with `to = T` (inclusive) and whole seconds: a call that starts in the
    sync's own second T, after the listing was answered, is not in that listing, and the
    next sync must still emit it. One call is added for every second the first sync ran
    (so one of them starts in second T, whatever T was): the next sync emits them all."""
    with Sandbox(seed=43, users=4, calls=30, days=2, rate_limit=0, large_recordings=0) as sandbox:
        connector = Connector(sandbox.api_url, tmp_path)
        config = sandbox.config(first_sync_max_calls=CAP)
        began = int(time.time())
        first = connector.run("read", config, CATALOG)
        ended = int(time.time())
        assert first.returncode == 0
        agent = next(u["id"] for u in sandbox.users() if u["salescaling"])
        late = [
            sandbox.add_calls(
                1,
                status="done",
                duration=1,
                recording=True,
                recording_size=RECORDING_BYTES,
                user_id=agent,
                started_ago_seconds=sandbox.now() - second,
            )[0]["id"]
            for second in range(began, ended + 1)
        ]
        second = connector.run("read", config, CATALOG, state=first.states())
        assert second.returncode == 0
        assert set(late) <= set(second.ids("calls"))
        assert set(late) <= set(second.ids("recordings"))
