"""One listing of calls per sync, shared by `calls` and `recordings`.

Both streams need the same calls, newest first, down to their own lower bound; the
listing pages Aircall once (lazily, down to the lowest bound any selected stream needs)
and replays what it already fetched to the second stream, so selecting both streams
costs the requests of one.
"""

from __future__ import annotations

from collections.abc import Iterator

from source_aircall_salescaling.aircall.client import AircallClient
from source_aircall_salescaling.aircall.models import Call
from source_aircall_salescaling.aircall.windows import TimeWindow


class CallListing:
    def __init__(self, client: AircallClient, window: TimeWindow) -> None:
        self.window = window
        self._client = client
        self._source: Iterator[Call] | None = None
        self._fetched: list[Call] = []
        self._by_id: dict[int, Call] = {}
        self._exhausted = False
        self._failure: BaseException | None = None

    def newest_first(self) -> Iterator[Call]:
        position = 0
        while True:
            if position < len(self._fetched):
                yield self._fetched[position]
                position += 1
                continue
            if self._failure is not None:
                # The listing broke for the first stream: the second must fail too, not
                # take the calls fetched so far for the whole window.
                raise self._failure
            if self._exhausted:
                return
            if self._source is None:
                self._source = self._client.calls_newest_first(self.window)
            try:
                call = next(self._source, None)
            except BaseException as error:
                self._failure = error
                raise
            if call is None:
                self._exhausted = True
                return
            self._fetched.append(call)
            self._by_id[call.id] = call

    def fetched(self, call_id: int) -> Call | None:
        """A call this sync's listing already brought (as fresh as a lookup by id), if any."""
        return self._by_id.get(call_id)
