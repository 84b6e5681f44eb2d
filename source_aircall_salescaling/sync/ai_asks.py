"""What the Aircall AI streams of one sync share: each call's transcription answer, and
the sync's slot for Aircall AI requests.

The transcription is the gate. Aircall writes every other insight of a call (summary,
topics, sentiments, action items, playbook result, evaluations, custom summary,
predicted CSAT) from its transcription, so a call without one has none of the others
yet: the other streams ask about their own resource only once the transcription is
there. The transcription is asked once per call per sync, whichever AI stream asks
first, and whether or not `transcriptions` itself is selected; the others read the
answer from here:

    sync k:   transcription? 404 ............ (summary, topics... not asked)
    sync k+1: transcription? 200 --> summary? topics? sentiments? ... (same sync)

The slot: a sync of the records connection runs every 15 minutes and its requests are
paced at `requests_per_minute`, so N requests take N / rate minutes. A first sync of
200 calls with nine AI streams would ask up to 1,800 times: 30 minutes at 60 a minute,
past the next sync. So a sync asks Aircall AI only while its requests so far (the
listing, lookups and users pages included) fit in about 12 minutes of the pace
(`AIRCALL_AI_SLOT_SECONDS`, 720 unless set), shared fairly: each AI stream, when it
starts, may use what is left divided among it and the selected AI streams still to
come. A call whose ask does not fit waits in its stream's state, its checkpoint
unspent, and is asked on the next sync: nothing lost, nothing twice.

    sync start        listing, users...     AI asks, stream by stream       slot end
    |-----------------|---------------------|-------------------------------|  (calls
                                                                               left wait)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

SLOT_ENVIRONMENT = "AIRCALL_AI_SLOT_SECONDS"
DEFAULT_SLOT_SECONDS = 12 * 60


class Asked(Enum):
    FOUND = "found"
    NOT_THERE = "not there"  # 404 or 400: not generated (yet)
    FAILED = "failed"  # any other failure: asked again later
    FORBIDDEN = "forbidden"  # 403: not available to the company


@dataclass(frozen=True)
class Answer:
    """Aircall's answer to one AI request; `message`: Aircall's 403 text, or what failed."""

    status: Asked
    body: Any = None
    message: str | None = None


def slot_seconds(environ: Mapping[str, str] | None = None) -> int:
    """The slot from the environment: whole seconds above 0, else the default."""
    raw = (os.environ if environ is None else environ).get(SLOT_ENVIRONMENT, "")
    try:
        value = int(raw)
    except ValueError:
        return DEFAULT_SLOT_SECONDS
    return value if value > 0 else DEFAULT_SLOT_SECONDS


def slot_requests(requests_per_minute: int, seconds: int) -> int:
    """How many requests the slot holds at the pace."""
    return max(1, seconds * requests_per_minute // 60)


class AiAsks:
    def __init__(
        self, slot: int, selected: tuple[str, ...], requests_so_far: Callable[[], int]
    ) -> None:
        self.slot = slot
        self.selected = selected  # the selected AI streams, in the order the sync reads them
        self.requests_so_far = requests_so_far  # the sync's Aircall API requests
        self.started: list[str] = []
        self.transcriptions: dict[int, Answer] = {}
        self.left_for_later = 0  # asks that did not fit, over every AI stream

    def share(self, stream: str) -> int:
        """The asks `stream` may make in this sync: what is left of the slot, divided
        among it and the selected AI streams still to come."""
        if stream not in self.started:
            self.started.append(stream)
        to_come = [name for name in self.selected if name not in self.started]
        left = max(0, self.slot - self.requests_so_far())
        return left // (1 + len(to_come))
