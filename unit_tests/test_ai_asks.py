"""The sync's slot for Aircall AI requests (sync/ai_asks.py): how it is shared between
the AI streams, and read from the environment."""

from __future__ import annotations

from source_aircall_salescaling.sync.ai_asks import (
    DEFAULT_SLOT_SECONDS,
    AiAsks,
    slot_requests,
    slot_seconds,
)

NINE = (
    "transcriptions", "summaries", "topics", "sentiments", "action_items",
    "playbook_results", "evaluations", "custom_summaries", "predicted_csat",
)  # fmt: skip


def test_the_default_slot_holds_twelve_minutes_of_requests_at_the_pace() -> None:
    assert slot_requests(40, slot_seconds({})) == 480
    assert slot_requests(60, DEFAULT_SLOT_SECONDS) == 720


def test_a_slot_from_the_environment_must_be_whole_seconds_above_zero() -> None:
    assert slot_seconds({"AIRCALL_AI_SLOT_SECONDS": "30"}) == 30
    for bad in ("0", "-5", "1.5", "soon"):
        assert slot_seconds({"AIRCALL_AI_SLOT_SECONDS": bad}) == DEFAULT_SLOT_SECONDS


def test_each_stream_gets_what_is_left_divided_among_it_and_the_streams_to_come() -> None:
    spent = [0]
    asks = AiAsks(480, NINE, lambda: spent[0])
    assert asks.share("transcriptions") == 480 // 9
    spent[0] = 53
    assert asks.share("summaries") == (480 - 53) // 8


def test_the_listing_and_other_requests_of_the_sync_count_against_the_slot() -> None:
    asks = AiAsks(480, NINE, lambda: 300)
    assert asks.share("transcriptions") == 180 // 9
    assert AiAsks(480, NINE, lambda: 600).share("transcriptions") == 0
