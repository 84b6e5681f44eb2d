"""An Aircall AI stream asking again about the calls that wait for their insight
(streams/insights.py), with Aircall's answers stubbed: one behaviour per answer."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_aircall_salescaling.ai_records import INSIGHT_KINDS
from source_aircall_salescaling.aircall.errors import InsightsForbidden
from source_aircall_salescaling.config import parse_config
from source_aircall_salescaling.streams.insights import InsightsStream
from source_aircall_salescaling.sync.ai_asks import AiAsks, slot_requests
from source_aircall_salescaling.sync.context import SyncContext, SyncRequest
from source_aircall_salescaling.sync.waiting import InsightWait

NOW = 1_800_000_000
MINUTE = 60
LOOKBACK = 180 * MINUTE
SUMMARY = {"summary": {"id": 1, "call_id": 1, "created_at": None, "content": "Agreed."}}
FAILED = AirbyteTracedException(
    message="Aircall answered 503 Service Unavailable", failure_type=FailureType.transient_error
)


TRANSCRIPT = {"transcription": {"id": 9, "type": "call", "content": {"utterances": []}}}


class StubClient:
    """`insight` answers from tables: a body, None (404), or an exception to raise; the
    transcription answers `TRANSCRIPT` unless `transcripts` says otherwise."""

    def __init__(self, answers: dict[int, Any], transcripts: dict[int, Any] | None = None) -> None:
        self.answers = answers
        self.transcripts = transcripts or {}
        self.asked: list[int] = []  # asks for the stream's own resource
        self.gate_asked: list[int] = []  # asks for the transcription

    def insight(self, call_id: int, resource: str) -> Any:
        if resource == "transcription":
            self.gate_asked.append(call_id)
            answer = self.transcripts.get(call_id, TRANSCRIPT)
        else:
            self.asked.append(call_id)
            answer = self.answers[call_id]
        if isinstance(answer, Exception):
            raise answer
        return answer


def context_for(client: StubClient, tmp_path: Path, slot_seconds: int = 720) -> SyncContext:
    config = parse_config(
        {"api_id": "i", "api_token": "t", "salescaling_user_emails": ["ana@acme.io"]},
        environ={},
    )
    context = SyncContext(config, logging.getLogger("test"), SyncRequest(), tmp_path, now=NOW)
    context._client = client  # type: ignore[assignment]
    slot = slot_requests(config.requests_per_minute, slot_seconds)
    context.ai_asks = AiAsks(slot, (), lambda: len(client.asked) + len(client.gate_asked))
    return context


def stream_of(name: str, context: SyncContext) -> InsightsStream:
    return InsightsStream(context, next(k for k in INSIGHT_KINDS if k.stream == name))


def summaries(
    answers: dict[int, Any], tmp_path: Path, transcripts: dict[int, Any] | None = None
) -> tuple[InsightsStream, StubClient]:
    client = StubClient(answers, transcripts)
    return stream_of("summaries", context_for(client, tmp_path)), client


def asked_now(stream: InsightsStream) -> list[Any]:
    """The waiting calls asked in this sync (as the stream starts: slot share, then asks)."""
    return list(stream.first_records())


def due_wait(ended_ago: int = 20 * MINUTE) -> InsightWait:
    """A call that ended `ended_ago` seconds before the sync, asked once when it ended:
    its +15 min checkpoint has passed, so it is due."""
    return InsightWait(started_at=NOW - ended_ago - 300, ended=NOW - ended_ago, asked=1)


def test_a_waiting_call_whose_insight_came_is_emitted_and_leaves_the_list(tmp_path: Path) -> None:
    stream, _ = summaries({1: SUMMARY}, tmp_path)
    stream.waiting = {1: due_wait()}
    records = asked_now(stream)
    assert [r["call_id"] for r in records] == [1]
    assert records[0]["content"] == "Agreed."
    assert stream.waiting == {}


def test_a_waiting_call_still_without_insight_waits_with_one_more_ask(tmp_path: Path) -> None:
    stream, _ = summaries({1: None}, tmp_path)
    stream.waiting = {1: due_wait()}
    assert asked_now(stream) == []
    wait = stream.waiting[1]
    assert wait.follow and wait.asked == 1  # the transcription is there: its own schedule
    assert not wait.due(LOOKBACK, NOW) and wait.due(LOOKBACK, NOW + 15 * MINUTE)


def test_a_call_without_its_transcription_is_not_asked_about_the_rest(tmp_path: Path) -> None:
    stream, client = summaries({1: SUMMARY}, tmp_path, transcripts={1: None})
    stream.waiting = {1: due_wait()}
    assert asked_now(stream) == []
    assert client.gate_asked == [1] and client.asked == []
    assert not stream.waiting[1].follow and stream.waiting[1].asked == 2


def test_the_transcription_is_asked_once_a_sync_for_every_ai_stream(tmp_path: Path) -> None:
    client = StubClient({1: None}, transcripts={1: None})
    context = context_for(client, tmp_path)
    streams = [stream_of(name, context) for name in ("summaries", "topics", "playbook_results")]
    for stream in streams:
        stream.waiting = {1: due_wait()}
        assert asked_now(stream) == []
    assert client.gate_asked == [1] and client.asked == []
    assert all(stream.waiting[1].asked == 2 for stream in streams)


def test_a_transcription_found_by_one_stream_lets_the_next_ask_its_own_resource_at_once(
    tmp_path: Path,
) -> None:
    client = StubClient({1: SUMMARY})
    context = context_for(client, tmp_path)
    transcriptions, summary = stream_of("transcriptions", context), stream_of("summaries", context)
    for stream in (transcriptions, summary):
        stream.waiting = {1: due_wait()}
    assert [r["id"] for r in asked_now(transcriptions)] == [9]
    assert [r["content"] for r in asked_now(summary)] == ["Agreed."]
    assert client.gate_asked == [1] and client.asked == [1]


def test_a_call_past_the_syncs_slot_waits_unasked_and_is_counted_as_left_for_later(
    tmp_path: Path,
) -> None:
    client = StubClient({n: SUMMARY for n in range(1, 6)})
    context = context_for(client, tmp_path, slot_seconds=3)  # 3 requests at 60 a minute
    stream = stream_of("summaries", context)
    waits = {n: due_wait(20 * MINUTE + n) for n in range(1, 6)}
    stream.waiting = dict(waits)
    records = asked_now(stream)
    assert len(client.gate_asked) + len(client.asked) == 3
    assert [r["call_id"] for r in records] == [5]  # nearest deadline first
    assert stream.waiting[4].follow and stream.waiting[4].asked == 0  # due on the next sync
    assert {n: stream.waiting[n] for n in (1, 2, 3)} == {n: waits[n] for n in (1, 2, 3)}
    assert stream.left_for_later == 4 and context.ai_asks.left_for_later == 4


def test_a_failed_request_leaves_the_call_waiting_and_spends_its_checkpoint(
    tmp_path: Path,
) -> None:
    stream, client = summaries({1: FAILED}, tmp_path)
    stream.waiting = {1: due_wait()}
    assert asked_now(stream) == []
    assert client.asked == [1] and not stream.waiting[1].due(LOOKBACK, NOW)


def test_a_failed_last_ask_stays_due_after_the_deadline(tmp_path: Path) -> None:
    stream, _ = summaries({1: FAILED}, tmp_path)
    ended = NOW - 170 * MINUTE  # in the lookback's last 15 minutes
    stream.waiting = {1: InsightWait(ended - 300, ended, asked=4, since=ended, follow=True)}
    assert asked_now(stream) == []
    wait = stream.waiting[1]
    assert wait.asked == 4
    assert wait.due(180 * MINUTE, NOW + 15 * MINUTE)


def test_a_call_not_due_is_not_asked(tmp_path: Path) -> None:
    stream, client = summaries({1: SUMMARY}, tmp_path)
    stream.waiting = {1: due_wait(ended_ago=5 * MINUTE)}
    assert asked_now(stream) == []
    assert client.asked == [] and 1 in stream.waiting


def test_a_call_past_the_lookback_and_asked_at_every_checkpoint_is_dropped(
    tmp_path: Path,
) -> None:
    stream, client = summaries({1: SUMMARY}, tmp_path)
    stream.waiting = {1: InsightWait(NOW - 4 * 3600, NOW - 4 * 3600 + 300, asked=5)}
    assert asked_now(stream) == []
    assert stream.waiting == {} and stream.dropped == 1 and client.asked == []


def test_a_403_stops_the_asks_of_the_sync_after_one_request(tmp_path: Path) -> None:
    forbidden = InsightsForbidden("Forbidden access: company is not verified.")
    stream, client = summaries({1: forbidden, 2: SUMMARY}, tmp_path)
    stream.waiting = {1: due_wait(21 * MINUTE), 2: due_wait(20 * MINUTE)}
    assert asked_now(stream) == []
    assert client.asked == [1]
    assert stream.forbidden == "Forbidden access: company is not verified."
    assert set(stream.waiting) == {1, 2}


@pytest.mark.parametrize("answer", [{"unexpected": True}, ["not", "an", "object"]])
def test_an_answer_that_cannot_be_read_leaves_the_call_waiting(answer: Any, tmp_path: Path) -> None:
    stream, _ = summaries({1: answer}, tmp_path)
    stream.waiting = {1: due_wait()}
    assert asked_now(stream) == []
    assert 1 in stream.waiting
