"""Bad input: configs that break the spec, and Aircall payloads that break the API docs.

A bad config fails `check` (FAILED, a message naming the field) and `read` (non-zero
exit, an error trace naming the field, no record). A call the connector cannot read is
skipped with a warning naming it, and the rest of its page still arrives; a page that
cannot be read at all stops the sync with a clear error, never a silent short listing.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from aircall_sandbox.testing import Sandbox
from tests.harness import Connector, ConnectorRun, catalog
from tests.oracle import done_calls
from tests.reliability.proxy import ApiProxy
from tests.reliability.support import count

STREAMS = catalog(["users", "calls", "recordings"], include_files=False)

# name -> (field the message must name, overrides of a good config)
BAD_CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "api_id-a-number": ("api_id", {"api_id": 123}),
    "api_token-empty": ("api_token", {"api_token": ""}),
    "emails-a-string": ("salescaling_user_emails", {"salescaling_user_emails": "ana@example.com"}),
    "emails-empty-list": ("salescaling_user_emails", {"salescaling_user_emails": []}),
    "emails-not-an-email": (
        "salescaling_user_emails",
        {"salescaling_user_emails": ["ana.example.com"]},
    ),
    "window-a-string": ("import_window_days", {"import_window_days": "14"}),
    "window-181-days": ("import_window_days", {"import_window_days": 181}),
    "first-sync-cap-0": ("first_sync_max_calls", {"first_sync_max_calls": 0}),
    "size-limit-true": ("max_recording_size_mb", {"max_recording_size_mb": True}),
    "pace-1001-per-minute": ("requests_per_minute", {"requests_per_minute": 1001}),
    "lookback-minus-1": ("lookback_minutes", {"lookback_minutes": -1}),
    "lookback-2.5": ("lookback_minutes", {"lookback_minutes": 2.5}),
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=61, users=6, calls=80, days=3, rate_limit=0, large_recordings=0) as running:
        yield running


# ------------------------------------------------------------------- configs
@pytest.fixture(scope="module")
def config_runs(
    sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], ConnectorRun]:
    """Every bad config through `check` and `read`, four processes at a time."""
    jobs = [(name, verb) for name in BAD_CONFIGS for verb in ("check", "read")]

    def run(job: tuple[str, str]) -> ConnectorRun:
        name, verb = job
        config = sandbox.config(**BAD_CONFIGS[name][1])
        connector = Connector(sandbox.api_url, tmp_path_factory.mktemp("config"))
        if verb == "check":
            return connector.run("check", config, timeout=120)
        return connector.run("read", config, STREAMS, timeout=120)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(jobs, pool.map(run, jobs), strict=True))


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_check_fails_on_a_bad_config_naming_the_field(
    node: str, name: str, config_runs: dict[tuple[str, str], ConnectorRun]
) -> None:
    field = BAD_CONFIGS[name][0]
    count(node, inputs_tried=1)
    status = config_runs[(name, "check")].connection_status()
    assert status["status"] == "FAILED"
    assert field in status["message"], status["message"]


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_read_fails_on_a_bad_config_with_an_error_naming_the_field(
    node: str, name: str, config_runs: dict[tuple[str, str], ConnectorRun]
) -> None:
    field = BAD_CONFIGS[name][0]
    run = config_runs[(name, "read")]
    count(node, inputs_tried=1)
    assert run.returncode != 0
    assert not run.of_type("RECORD")
    messages = [str(e.get("message")) for e in run.errors()]
    assert any(field in m for m in messages), messages
    assert all(e.get("failure_type") == "config_error" for e in run.errors())
    assert "Traceback" not in run.stderr


# ------------------------------------------------------------------ payloads
def _drop(key: str) -> Any:
    def change(call: dict[str, Any]) -> dict[str, Any]:
        call.pop(key, None)
        return call

    return change


def _set(key: str, value: Any) -> Any:
    def change(call: dict[str, Any]) -> dict[str, Any]:
        call[key] = value
        return call

    return change


def _set_user_id(value: Any) -> Any:
    def change(call: dict[str, Any]) -> dict[str, Any]:
        call["user"] = {**(call.get("user") or {}), "id": value}
        return call

    return change


# name -> how a call on the first page is damaged; every one of them is skipped
SKIPPED = {
    "id-a-string": lambda call: _set("id", str(call["id"]))(call),
    "id-a-float": lambda call: _set("id", float(call["id"]))(call),
    "started_at-missing": _drop("started_at"),
    "started_at-a-string": lambda call: _set("started_at", str(call["started_at"]))(call),
    "status-null": _set("status", None),
    "direction-unknown": _set("direction", "sideways"),
    "user-a-string": _set("user", "Ana Silva"),
    "user-a-list": _set("user", []),
    "contact-a-string": _set("contact", "Acme"),
    "number-an-integer": _set("number", 510000),
    "user-id-a-string": _set_user_id("1300100"),
}
# nulls Aircall does send (an IVR call has no agent, an unknown caller no contact)
NULLS_ALLOWED = {
    "user-null": ("user", _set("user", None)),
    "contact-null": ("contact", _set("contact", None)),
    "number-null": ("internal_number", _set("number", None)),
}
NOT_CALLS = {"entry-null": None, "entry-a-string": "call"}


@pytest.fixture(scope="module")
def damaged(
    sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ConnectorRun, dict[str, int], set[int]]:
    """One read through a proxy that damages some of the newest calls (all on the first
    page) and one user; returns the run, damaged call ids by kind, and every done call."""
    now = sandbox.now()
    ready = sorted(done_calls(sandbox.calls(), now, 14), key=lambda c: (c["started_at"], c["id"]))
    newest = [int(c["id"]) for c in reversed(ready)]
    kinds = [*SKIPPED, *NULLS_ALLOWED, *NOT_CALLS]
    targets = dict(zip(kinds, newest[1 : 1 + len(kinds)], strict=True))
    by_id = {call_id: kind for kind, call_id in targets.items()}

    def damage(calls: list[Any]) -> list[Any]:
        result = []
        for call in calls:
            kind = by_id.get(call["id"]) if isinstance(call, dict) else None
            if kind in SKIPPED:
                call = SKIPPED[kind](call)
            elif kind in NULLS_ALLOWED:
                call = NULLS_ALLOWED[kind][1](call)
            elif kind in NOT_CALLS:
                call = NOT_CALLS[kind]
            result.append(call)
        return result

    def damage_users(users: list[Any]) -> list[Any]:
        users[0] = {**users[0], "id": str(users[0]["id"])}
        return users

    with ApiProxy(sandbox.api_url, sandbox.storage_url) as proxy:
        proxy.on_calls = damage
        proxy.on_users = damage_users
        connector = Connector(proxy.url, tmp_path_factory.mktemp("damaged"))
        config = sandbox.config(first_sync_max_calls=1000)
        run = connector.run("read", config, STREAMS)
    return run, targets, set(newest)


@pytest.mark.parametrize("kind", list(SKIPPED))
def test_a_call_that_cannot_be_read_is_skipped_with_a_warning_naming_it(
    node: str, kind: str, damaged: tuple[ConnectorRun, dict[str, int], set[int]]
) -> None:
    run, targets, _ = damaged
    call_id = targets[kind]
    count(node, inputs_tried=1)
    assert run.returncode == 0, run.errors()
    assert call_id not in run.ids("calls") and call_id not in run.ids("recordings")
    assert any(str(call_id) in line for line in run.logs("WARN")), run.logs("WARN")


@pytest.mark.parametrize("kind", list(NOT_CALLS))
def test_a_page_entry_that_is_not_a_call_is_skipped_with_a_warning(
    node: str, kind: str, damaged: tuple[ConnectorRun, dict[str, int], set[int]]
) -> None:
    run, targets, _ = damaged
    count(node, inputs_tried=1)
    assert targets[kind] not in run.ids("calls")
    shown = {"entry-null": "NoneType", "entry-a-string": "str"}[kind]
    assert any("call entry" in line and shown in line for line in run.logs("WARN"))


@pytest.mark.parametrize("kind", list(NULLS_ALLOWED))
def test_a_null_agent_contact_or_number_is_emitted_with_that_field_null(
    node: str, kind: str, damaged: tuple[ConnectorRun, dict[str, int], set[int]]
) -> None:
    run, targets, _ = damaged
    field = NULLS_ALLOWED[kind][0]
    count(node, inputs_tried=1)
    records = {r["id"]: r for r in run.records("calls")}
    assert targets[kind] in records, "the call was dropped"
    assert records[targets[kind]].get(field) is None  # the protocol output leaves nulls out


def test_the_rest_of_a_page_with_damaged_calls_still_arrives(
    node: str, damaged: tuple[ConnectorRun, dict[str, int], set[int]]
) -> None:
    run, targets, every_done = damaged
    unreadable = {targets[k] for k in (*SKIPPED, *NOT_CALLS)}
    expected = every_done - unreadable
    emitted = set(run.ids("calls"))
    count(node, records_expected=len(expected), records_lost=len(expected - emitted))
    assert emitted == expected


def test_a_user_that_cannot_be_read_is_skipped_and_the_others_arrive(
    sandbox: Sandbox, damaged: tuple[ConnectorRun, dict[str, int], set[int]]
) -> None:
    run, _, _ = damaged
    users = sorted(u["id"] for u in sandbox.users())
    assert sorted(run.ids("users")) == users[1:]
    assert any(str(users[0]) in line for line in run.logs("WARN"))


# -------------------------------------------------------- pages that break
def broken_page_run(sandbox: Sandbox, workdir: Path, change: Any) -> ConnectorRun:
    with ApiProxy(sandbox.api_url, sandbox.storage_url) as proxy:
        proxy.on_page = change
        return Connector(proxy.url, workdir).run(
            "read", sandbox.config(first_sync_max_calls=1000), catalog(["calls"])
        )


def test_a_page_without_its_calls_list_stops_the_sync_with_a_clear_error(
    node: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    run = broken_page_run(sandbox, tmp_path, lambda page: {**page, "calls": None})
    count(node, inputs_tried=1)
    assert run.returncode != 0 and run.ids("calls") == []
    texts = [f"{e.get('message')} {e.get('internal_message')}" for e in run.errors()]
    assert any("'calls'" in text for text in texts), texts
    assert "Traceback" not in run.stderr


def test_a_page_without_its_meta_does_not_end_the_listing_silently(
    node: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    every_done = {int(c["id"]) for c in done_calls(sandbox.calls(), sandbox.now(), 14)}
    assert len(every_done) > 50, "the listing must take two pages"
    run = broken_page_run(
        sandbox, tmp_path, lambda page: {k: v for k, v in page.items() if k != "meta"}
    )
    count(node, inputs_tried=1)
    if run.returncode == 0:
        emitted = set(run.ids("calls"))
        count(node, records_expected=len(every_done), records_lost=len(every_done - emitted))
        assert emitted == every_done, f"exit 0 with {len(every_done - emitted)} calls missing"
    else:
        assert any("meta" in str(e) for e in run.errors()), run.errors()
