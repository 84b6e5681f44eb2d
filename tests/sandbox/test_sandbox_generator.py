"""The in-process parts: the data generator and the recording byte generator."""

from __future__ import annotations

import hashlib
import itertools
import time

from aircall_sandbox.generator import generate_world
from aircall_sandbox.model import MIB
from aircall_sandbox.recordings import (
    CHUNK_SIZE,
    recording_chunks,
    recording_range,
    recording_sha256,
)

NOW = 1_790_000_000


def test_generation_is_deterministic_for_a_seed() -> None:
    first = [c.to_control() for c in generate_world(5, calls=200, start_time=NOW).all_calls()]
    second = [c.to_control() for c in generate_world(5, calls=200, start_time=NOW).all_calls()]
    assert first == second


def test_different_seeds_give_different_accounts() -> None:
    a = [c.raw_digits for c in generate_world(1, calls=50, start_time=NOW).all_calls()]
    b = [c.raw_digits for c in generate_world(2, calls=50, start_time=NOW).all_calls()]
    assert a != b


def test_12000_calls_generate_in_well_under_a_second() -> None:
    # CPU time, not wall time: on a machine shared with other work, the wall clock also
    # counts the time other processes had the core.
    started = time.process_time()
    world = generate_world(7, calls=12_000, start_time=NOW)
    assert time.process_time() - started < 1.0
    assert len(world.calls) == 12_000


def test_call_ids_increase_with_started_at_and_some_share_a_second() -> None:
    calls = generate_world(7, calls=300, start_time=NOW).all_calls()
    ids = [c.id for c in calls]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert any(a.started_at == b.started_at for a, b in itertools.pairwise(calls))


def test_calls_lie_within_the_requested_days_and_not_in_the_future() -> None:
    calls = generate_world(7, calls=300, days=14, start_time=NOW).all_calls()
    assert all(NOW - 14 * 86_400 <= c.started_at <= NOW for c in calls)
    assert all(c.ended_at is None or c.ended_at <= NOW for c in calls)


def test_call_mix_covers_every_kind() -> None:
    calls = generate_world(7, calls=300, start_time=NOW).all_calls()
    assert any(c.status in ("initial", "answered") for c in calls)
    assert any(c.direction == "inbound" and c.answered_at is None and c.missed_call_reason
               for c in calls)  # fmt: skip
    assert any(c.voicemail_size and c.recording_size is None for c in calls)
    assert any(c.raw_digits == "anonymous" for c in calls)
    assert any(c.user_id is None for c in calls)
    assert any(c.direction == "outbound" and c.answered_at is None for c in calls)
    recorded = [c.recording_size for c in calls if c.recording_size]
    assert len(recorded) > len(calls) / 3
    assert sum(1 for s in recorded if s > 200 * MIB) >= 2
    assert sum(1 for s in recorded if 200_000 <= s <= 15_000_000) > len(recorded) * 0.9


def test_half_the_users_are_salescaling_and_one_email_is_messy() -> None:
    world = generate_world(7, users=8, calls=10, start_time=NOW)
    users = world.sorted_users()
    assert sum(u.salescaling for u in users) == 4
    assert users[0].email == "  Ana.Silva@Example.com" and users[0].salescaling
    assert "ana.silva@example.com" in world.salescaling_emails()


def test_recording_starts_with_id3_in_64k_chunks() -> None:
    chunks = list(recording_chunks(42, CHUNK_SIZE * 2 + 10, seed=7))
    assert chunks[0].startswith(b"ID3")
    assert [len(c) for c in chunks] == [CHUNK_SIZE, CHUNK_SIZE, 10]


def test_recording_bytes_depend_on_call_and_seed() -> None:
    assert recording_sha256(1, 1000, 7) != recording_sha256(2, 1000, 7)
    assert recording_sha256(1, 1000, 7) != recording_sha256(1, 1000, 8)
    assert recording_sha256(1, 1000, 7) == recording_sha256(1, 1000, 7)


def test_a_range_equals_the_same_slice_of_the_full_file() -> None:
    full = b"".join(recording_chunks(9, 200_000, seed=3))
    part = b"".join(recording_range(9, 3, 65_000, 140_000))
    assert part == full[65_000:140_000]
    assert hashlib.sha256(full).hexdigest() == recording_sha256(9, 200_000, 3)


def test_300_mb_generate_in_under_a_second_of_cpu() -> None:
    started = time.process_time()
    total = sum(len(chunk) for chunk in recording_chunks(77, 300_000_000, seed=1))
    assert total == 300_000_000
    assert time.process_time() - started < 1.0
