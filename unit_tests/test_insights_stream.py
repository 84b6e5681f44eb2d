"""An Aircall AI stream asking again about the calls that wait for their insight
(streams/insights.py), with Aircall's answers stubbed: one behaviour per answer."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_aircall_salescaling.aircall.errors import InsightsForbidden
from source_aircall_salescaling.config import parse_config
from source_aircall_salescaling.records import INSIGHT_KINDS
from source_aircall_salescaling.streams.insights import InsightsStream
from source_aircall_salescaling.sync.context import SyncContext, SyncRequest
from source_aircall_salescaling.sync.waiting import InsightWait

NOW = 1_800_000_000
MINUTE = 60
SUMMARY = {"summary": {"id": 1, "call_id": 1, "created_at": None, "content": "Agreed."}}
FAILED = AirbyteTracedException(
    message="Aircall answered 503 Service Unavailable", failure_type=FailureType.transient_error
)


class StubClient:
    """`insight` answers from a table: a body, None (404), or an exception to raise."""

    def __init__(self, answers: dict[int, Any]) -> None:
        self.answers = answers
        self.asked: list[int] = []

    def insight(self, call_id: int, resource: str) -> Any:
        self.asked.append(call_id)
        answer = self.answers[call_id]
        if isinstance(answer, Exception):
            raise answer
        return answer


def summaries(answers: dict[int, Any], tmp_path: Path) -> tuple[InsightsStream, StubClient]:
    config = parse_config(
        {"api_id": "i", "api_token": "t", "salescaling_user_emails": ["ana@acme.io"]},
        environ={},
    )
    context = SyncContext(config, logging.getLogger("test"), SyncRequest(), tmp_path, now=NOW)
    client = StubClient(answers)
    context._client = client  # type: ignore[assignment]
    kind = next(k for k in INSIGHT_KINDS if k.stream == "summaries")
    return InsightsStream(context, kind), client


def due_wait(ended_ago: int = 20 * MINUTE) -> InsightWait:
    """A call that ended `ended_ago` seconds before the sync, asked once when it ended:
    its +15 min checkpoint has passed, so it is due."""
    return InsightWait(started_at=NOW - ended_ago - 300, ended=NOW - ended_ago, asked=1)


def test_a_waiting_call_whose_insight_came_is_emitted_and_leaves_the_list(tmp_path: Path) -> None:
    stream, _ = summaries({1: SUMMARY}, tmp_path)
    stream.waiting = {1: due_wait()}
    records = list(stream.ask_waiting())
    assert [r["call_id"] for r in records] == [1]
    assert records[0]["content"] == "Agreed."
    assert stream.waiting == {}


def test_a_waiting_call_still_without_insight_waits_with_one_more_ask(tmp_path: Path) -> None:
    stream, _ = summaries({1: None}, tmp_path)
    stream.waiting = {1: due_wait()}
    assert list(stream.ask_waiting()) == []
    assert stream.waiting[1].asked == 2


def test_a_failed_request_leaves_the_call_waiting_and_spends_its_checkpoint(
    tmp_path: Path,
) -> None:
    stream, client = summaries({1: FAILED}, tmp_path)
    stream.waiting = {1: due_wait()}
    assert list(stream.ask_waiting()) == []
    assert stream.waiting[1].asked == 2 and client.asked == [1]


def test_a_failed_last_ask_stays_due_after_the_deadline(tmp_path: Path) -> None:
    stream, _ = summaries({1: FAILED}, tmp_path)
    ended = NOW - 170 * MINUTE  # in the lookback's last 15 minutes
    stream.waiting = {1: InsightWait(ended - 300, ended, asked=4)}
    assert list(stream.ask_waiting()) == []
    wait = stream.waiting[1]
    assert wait.asked == 4
    assert wait.due(180 * MINUTE, NOW + 15 * MINUTE)


def test_a_call_not_due_is_not_asked(tmp_path: Path) -> None:
    stream, client = summaries({1: SUMMARY}, tmp_path)
    stream.waiting = {1: due_wait(ended_ago=5 * MINUTE)}
    assert list(stream.ask_waiting()) == []
    assert client.asked == [] and 1 in stream.waiting


def test_a_call_past_the_lookback_and_asked_at_every_checkpoint_is_dropped(
    tmp_path: Path,
) -> None:
    stream, client = summaries({1: SUMMARY}, tmp_path)
    stream.waiting = {1: InsightWait(NOW - 4 * 3600, NOW - 4 * 3600 + 300, asked=5)}
    assert list(stream.ask_waiting()) == []
    assert stream.waiting == {} and stream.dropped == 1 and client.asked == []


def test_a_403_stops_the_asks_of_the_sync_after_one_request(tmp_path: Path) -> None:
    forbidden = InsightsForbidden("Forbidden access: company is not verified.")
    stream, client = summaries({1: forbidden, 2: SUMMARY}, tmp_path)
    stream.waiting = {1: due_wait(21 * MINUTE), 2: due_wait(20 * MINUTE)}
    assert list(stream.ask_waiting()) == []
    assert client.asked == [1]
    assert stream.forbidden == "Forbidden access: company is not verified."
    assert set(stream.waiting) == {1, 2}


@pytest.mark.parametrize("answer", [{"unexpected": True}, ["not", "an", "object"]])
def test_an_answer_that_cannot_be_read_leaves_the_call_waiting(answer: Any, tmp_path: Path) -> None:
    stream, _ = summaries({1: answer}, tmp_path)
    stream.waiting = {1: due_wait()}
    assert list(stream.ask_waiting()) == []
    assert 1 in stream.waiting
