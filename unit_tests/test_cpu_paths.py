"""The per-record fast paths (docs/performance.md, "CPU per record") give what the plain
ways gave: the same timestamps, the same calls, the same states after every batch."""

from __future__ import annotations

import dataclasses
import time
from bisect import bisect_right
from urllib.parse import urlsplit

import pytest
import requests
from airbyte_cdk.sources.streams.call_rate import APIBudget
from hypothesis import given, settings
from hypothesis import strategies as st

from source_aircall_salescaling.aircall.client import AircallSession
from source_aircall_salescaling.aircall.models import Agent, Call, Contact, iso_utc, parse_call
from source_aircall_salescaling.import_rules import Verdict
from source_aircall_salescaling.records import record_print
from source_aircall_salescaling.sync.plan import batches
from source_aircall_salescaling.sync.progress import SyncProgress
from source_aircall_salescaling.sync.state import STARTED_AT_DRIFT_SECONDS, CallCursor
from tests.builders import a_call
from unit_tests.cursor_kit import T, call, listed_at, plan

# iso_utc: a cache of days and two tables instead of gmtime + strftime ----------------


@given(st.integers(-62_135_596_800, 253_402_300_799))
def test_iso_utc_writes_what_strftime_writes(timestamp: int) -> None:
    assert iso_utc(timestamp) == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


@pytest.mark.parametrize("timestamp", [0, 59, 60, 3_599, 3_600, 86_399, 86_400, -1, -86_401])
def test_iso_utc_at_the_edges_of_minutes_hours_and_days(timestamp: int) -> None:
    assert iso_utc(timestamp) == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def test_iso_utc_of_a_float_is_its_whole_second() -> None:
    assert iso_utc(59.9) == "1970-01-01T00:00:59Z"  # type: ignore[arg-type]


# parse_call: instances made without the dataclasses' frozen __init__ ------------------


def test_a_parsed_call_is_the_call_its_constructor_makes() -> None:
    payload = (a_call(7).started(T - 60).answered(T - 59).ended(T).by("ana@example.com")).payload()
    payload["contact"] = {"id": 4, "first_name": "Berta", "phone_numbers": [{"value": "+1"}]}
    parsed = parse_call(payload)
    assert parsed.agent is not None and parsed.contact is not None
    fields = {f.name: getattr(parsed, f.name) for f in dataclasses.fields(Call)}
    fields["agent"] = Agent(**dataclasses.asdict(parsed.agent))
    fields["contact"] = Contact(**dataclasses.asdict(parsed.contact))
    built = Call(**fields)
    assert parsed == built
    assert hash(parsed) == hash(built)
    assert repr(parsed) == repr(built)
    assert vars(parsed) == vars(built)  # every field set, none more


def test_a_parsed_call_is_still_frozen() -> None:
    parsed = parse_call(a_call(7).started(T - 60).ended(T).by("ana@example.com").payload())
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.duration = 1  # type: ignore[misc]
    assert parsed.agent is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.agent.email = "x@example.com"  # type: ignore[misc]


def test_a_contact_name_is_first_and_last_name_else_either_else_the_company() -> None:
    def name(**contact: object) -> str | None:
        payload = a_call(7).started(T - 60).ended(T).payload()
        payload["contact"] = {"id": 1, **contact}
        parsed = parse_call(payload)
        assert parsed.contact is not None
        return parsed.contact.name

    assert name(first_name="Ana", last_name="Silva", company_name="ACME") == "Ana Silva"
    assert name(first_name="Ana", last_name="", company_name="ACME") == "Ana"
    assert name(first_name=None, last_name="Silva") == "Silva"
    assert name(first_name="", last_name=None, company_name="ACME") == "ACME"
    assert name(first_name=None, last_name=None, company_name=None) is None


# SyncProgress.state after each batch of a first sync: found by bisection --------------


def _seen_by_walking_every_call(
    progress: SyncProgress, plan_settled: dict[int, int]
) -> dict[int, int]:
    """The first sync's `seen` after a batch, the way it was computed before: every
    settled call, filtered."""
    last = progress.handled[-1].started_at
    since = last - STARTED_AT_DRIFT_SECONDS
    if progress.plan.stopped_at is not None:
        since = max(since, progress.plan.stopped_at)
    return {
        call_id: started
        for call_id, started in sorted(plan_settled.items(), key=lambda item: (item[1], item[0]))
        if since < started <= last
        and (call_id not in progress.to_emit or progress.decided(call_id))
        and call_id not in progress.plan.watch
    }


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(T - 300, T), min_size=1, max_size=60),
    st.integers(1, 7),
)
def test_first_sync_state_after_each_batch_holds_the_calls_up_to_the_last_handled(
    started: list[int], batch_size: int
) -> None:
    # Every third call is never imported (settled, not emitted: newer ones must not reach
    # the state before their batch), every fifth still in progress (pending).
    calls = [call(i, moment, done=i % 5 != 0) for i, moment in enumerate(started, start=1)]

    def judge(c: Call) -> Verdict:
        if not c.is_done:
            return Verdict.wait("in progress")
        return Verdict.skip("never") if c.id % 3 == 0 else Verdict.ready()

    sync = plan(listed_at(calls, T), judge=judge, fingerprint=record_print)
    progress = SyncProgress(sync)
    for batch in batches(sync.emit, batch_size):
        for c in batch:
            progress.emitted(c)
        state: CallCursor = progress.state()
        expected = _seen_by_walking_every_call(progress, sync.settled)
        assert dict(state.seen) == expected
        emitted = progress.emitted_ids
        assert dict(state.prints) == {
            k: record_print(c) for c in sync.emit if (k := c.id) in expected and k in emitted
        }
        last = progress.handled[-1].started_at
        assert bisect_right(sorted(state.seen.values()), last) == len(state.seen)


# SyncPlan.print_of: a print is computed when a state needs it -------------------------


def test_a_first_sync_computes_the_prints_of_the_calls_its_states_keep_only() -> None:
    calls = [
        call(i, T - 4 * 3_600 + 40 * i, ended_at=T - 4 * 3_600 + 40 * i + 30) for i in range(1, 301)
    ]
    computed: list[int] = []

    def counting_print(c: Call) -> int:
        computed.append(c.id)
        return record_print(c)

    sync = plan(listed_at(calls, T), fingerprint=counting_print, changes_for=3_600)
    assert computed == []  # none at planning time
    progress = SyncProgress(sync)
    states = []
    for batch in batches(sync.emit, 50):
        for c in batch:
            progress.emitted(c)
        states.append(progress.state())
    progress.finished = True
    states.append(progress.state())
    kept = set().union(*(set(state.prints) for state in states))
    assert len(computed) == len(set(computed)) == len(kept) < len(calls)  # each once
    by_id = {c.id: c for c in calls}
    for state in states:
        assert dict(state.prints) == {k: record_print(by_id[k]) for k in state.prints}
    # The final state keeps a print for each call it keeps in `seen`: the overlap, and the
    # calls that ended within the hour (`changes_for`), which Aircall may still rewrite.
    final = states[-1]
    assert set(final.prints) == set(final.seen)
    assert set(final.prints) >= {c.id for c in calls if c.ended_at and c.ended_at + 3_600 > T}


# AircallSession: the environment's proxy settings read once per host ---------------------


def _session() -> AircallSession:
    return AircallSession(APIBudget(policies=[]))


def test_the_environment_is_read_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    real = requests.sessions.get_environ_proxies

    def counting(url: str, no_proxy: str | None = None) -> dict[str, str]:
        reads.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counting)
    session = _session()
    for page in range(1, 4):
        session.merge_environment_settings(
            f"https://api.example/v1/calls?page={page}", {}, None, None, None
        )
    session.merge_environment_settings("https://other.example/v1/ping", {}, None, None, None)
    assert [urlsplit(url).netloc for url in reads] == ["api.example", "other.example"]


def test_the_proxy_of_the_environment_is_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    session, plain = _session(), requests.Session()
    for url in ("https://api.example/v1/calls", "https://internal.example/v1/calls"):
        for _ in range(2):
            ours = session.merge_environment_settings(url, {}, None, None, None)
            assert ours == plain.merge_environment_settings(url, {}, None, None, None)
    proxies = session.merge_environment_settings("https://api.example/x", {}, None, None, None)[
        "proxies"
    ]
    assert proxies["https"] == "http://proxy.example:3128"


def test_settings_given_with_a_request_are_merged_as_requests_merges_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    session, plain = _session(), requests.Session()
    url = "https://api.example/v1/calls"
    given_proxies = {"https": "http://mine.example:8080"}
    assert session.merge_environment_settings(
        url, dict(given_proxies), True, None, None
    ) == plain.merge_environment_settings(url, dict(given_proxies), True, None, None)
    assert session.merge_environment_settings(url, {}, None, None, None)["verify"] == (
        "/etc/ssl/bundle.pem"
    )


def test_a_caller_changing_the_settings_it_got_changes_no_later_request() -> None:
    session = _session()
    url = "https://api.example/v1/calls"
    session.merge_environment_settings(url, {}, None, None, None)["proxies"]["https"] = "x"
    assert session.merge_environment_settings(url, {}, None, None, None)["proxies"] == {}
