"""The `calls`/`recordings` state: its round trip through JSON, its packing, and its size
for 10,000 calls a day.

See the docstrings of `source_aircall_salescaling/sync/` (state, plan, progress) and
docs/aircall-salescaling.md, "Import rules", "Across syncs".
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from source_aircall_salescaling.aircall.models import iso_utc
from source_aircall_salescaling.config import ConfigError, parse_config
from source_aircall_salescaling.import_rules import STALE_IN_PROGRESS_SECONDS, eligible
from source_aircall_salescaling.sync.plan import relist_overlap
from source_aircall_salescaling.sync.state import CallCursor, pack_calls, unpack_calls
from unit_tests.cursor_kit import DAY, T, a_listed_call, call, finish, plan

# State round trip ----------------------------------------------------------------------


def test_state_of_a_first_sync_that_emitted_nothing_is_empty() -> None:
    assert CallCursor().to_state() == {}


@pytest.mark.parametrize("state", [None, {}])
def test_no_state_means_a_first_sync(state: dict[str, Any] | None) -> None:
    assert CallCursor.from_state(state, "calls").cursor is None


def test_state_names_the_cursor_as_a_utc_date_time() -> None:
    state = CallCursor(cursor=T, pending={12: T - 5}, seen={3: T - 60}).to_state()

    assert state == {"cursor": iso_utc(T), "pending": {"12": T - 5}, "seen": {"3": T - 60}}
    assert state["cursor"] == "2027-01-15T08:00:00Z"


@given(
    cursor=st.integers(0, 4_000_000_000),
    pending=st.dictionaries(st.integers(1, 2**63 - 1), st.integers(0, 4_000_000_000), max_size=20),
    seen=st.dictionaries(st.integers(1, 2**63 - 1), st.integers(0, 4_000_000_000), max_size=20),
)
def test_state_round_trips_through_json(
    cursor: int, pending: dict[int, int], seen: dict[int, int]
) -> None:
    original = CallCursor(cursor=cursor, pending=pending, seen=seen)

    restored = CallCursor.from_state(json.loads(json.dumps(original.to_state())), "calls")

    assert restored == original


GARBAGE_STATES: list[Any] = [
    {"cursor": 1_800_000_000},
    {"cursor": "yesterday"},
    {"cursor": "2027-01-15 08:00:00"},
    {"pending": {"1": 5}},
    {"cursor": "2027-01-15T08:00:00Z", "pending": {"one": 5}},
    {"cursor": "2027-01-15T08:00:00Z", "pending": {"1": "soon"}},
    {"cursor": "2027-01-15T08:00:00Z", "pending": {"1": None}},
    {"cursor": "2027-01-15T08:00:00Z", "pending": [1, 2]},
    {"cursor": "2027-01-15T08:00:00Z", "seen": 5},
    {"cursor": "2027-01-15T08:00:00Z", "seen": "12"},
    {"cursor": "2027-01-15T08:00:00Z", "seen": {"x": 1}},
    {"cursor": "2027-01-15T08:00:00Z", "seen": [1, 2]},
    "garbage",
    ["cursor"],
]


@pytest.mark.parametrize("state", GARBAGE_STATES)
def test_state_this_connector_did_not_write_fails_naming_the_stream(state: Any) -> None:
    with pytest.raises(ConfigError) as raised:
        CallCursor.from_state(state, "recordings")

    assert "recordings" in raised.value.message


# State size ----------------------------------------------------------------------------

KIB = 1024
CALLS_A_DAY = 10_000


def state_after_a_day(lookback_minutes: int, with_recordings: bool) -> dict[str, Any]:
    """The `recordings` state (as Airbyte stores it) after a sync that lists a day of
    10,000 calls, all by Salescaling users, the newest still in progress; either every
    call has its recording, or none has one yet (every call inside the lookback waits)."""
    config = parse_config(
        {
            "api_id": "id",
            "api_token": "token",
            "salescaling_user_emails": ["ana@example.com"],
            "lookback_minutes": lookback_minutes,
        },
        environ={},
    )
    recording = "https://storage.example/r.mp3" if with_recordings else None
    calls = []
    for n in range(CALLS_A_DAY):
        started = T - DAY + (n * DAY) // CALLS_A_DAY
        listed = a_listed_call(2_100_000_000 + n, started, done=started < T - 300)
        of_ana = listed.by("ana@example.com", user_id=7, name="Ana")
        calls.append((of_ana.with_recording(url=recording) if recording else of_ana).parsed())
    sync = plan(
        calls,
        cap=10 * CALLS_A_DAY,
        judge=lambda c: eligible(c, config, T),
        horizon=STALE_IN_PROGRESS_SECONDS + config.lookback_seconds,
        overlap=relist_overlap(config.lookback_seconds),
    )
    return finish(sync).to_state()


def size(state: dict[str, Any]) -> int:
    return len(json.dumps(state).encode())


@pytest.mark.parametrize("lookback_minutes", [0, 60, 120])
@pytest.mark.parametrize("with_recordings", [True, False], ids=["recorded", "not-recorded"])
def test_state_for_ten_thousand_calls_a_day_stays_under_64_kib(
    lookback_minutes: int, with_recordings: bool
) -> None:
    state = state_after_a_day(lookback_minutes, with_recordings)

    assert size(state) < 64 * KIB


def test_state_size_check_covers_a_state_that_remembers_the_last_hour() -> None:
    state = state_after_a_day(60, with_recordings=True)

    calls_an_hour = CALLS_A_DAY // 24
    assert len(state["seen"]) + len(state["pending"]) >= calls_an_hour - 5


def test_state_for_ten_thousand_calls_a_day_stays_under_64_kib_at_the_largest_lookback() -> None:
    state = state_after_a_day(1440, with_recordings=False)

    assert size(state) < 64 * KIB


def test_a_large_state_is_packed_and_reads_back_the_same() -> None:
    pending = {2_100_000_000 + 347 * n: T - DAY + 9 * n for n in range(CALLS_A_DAY)}
    original = CallCursor(cursor=T, pending=pending, seen={5: T - 10}, since=T - 3_601)

    saved = json.loads(json.dumps(original.to_state()))

    assert isinstance(saved["pending"], str)
    assert saved["seen"] == {"5": T - 10}
    assert CallCursor.from_state(saved, "recordings") == original
    assert size(saved) < 64 * KIB


@given(
    entries=st.dictionaries(
        st.integers(1, 2**63 - 1), st.integers(0, 4_000_000_000), min_size=401, max_size=600
    )
)
@settings(max_examples=20, deadline=None)
def test_packed_calls_round_trip(entries: dict[int, int]) -> None:
    assert unpack_calls(pack_calls(entries)) == entries


@pytest.mark.parametrize("lookback_minutes", [0, 15, 60, 120, 1440])
def test_calls_state_with_its_prints_for_ten_thousand_calls_a_day_stays_under_64_kib(
    lookback_minutes: int,
) -> None:
    lookback = lookback_minutes * 60
    calls = [
        call(2_100_000_000 + n, T - DAY + (n * DAY) // CALLS_A_DAY, done=True)
        for n in range(CALLS_A_DAY)
    ]
    sync = plan(
        calls,
        cap=10 * CALLS_A_DAY,
        overlap=relist_overlap(lookback),
        fingerprint=lambda c: c.duration,
        changes_for=min(lookback, 2 * 3_600),
    )

    state = finish(sync).to_state()

    assert size(state) < 64 * KIB
    assert len(state.get("prints", {})) >= min(lookback, 2 * 3_600) * CALLS_A_DAY // DAY - 5
