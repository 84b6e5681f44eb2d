"""What a stream emitted within the window, and the records that report a removal.

A stream keeps, in its state, the calls it emitted that Salescaling imported
(`sync/emitted.py`): `recordings` its records, an Aircall AI stream the calls
whose insight it emitted (a call whose insight never came is not there),
`import_decisions` the calls it decided `imported`, `calls` the done calls of
Salescaling users with a recording. When the sync's slice of the re-check
(`sync/recheck.py`) finds one of them deleted in Aircall, or without its recording, the
stream reports it once and forgets it:

- `import_decisions`: a `removed_in_aircall` decision;
- `recordings` and the Aircall AI streams: the record once more, with its primary key,
  its cursor `started_at` unchanged (a deduplicating destination keeps the row with the
  newest cursor: an older or null one would lose to the old row) and
  `_ab_cdc_deleted_at` set to the sync's time; every other field null;
- `calls`: the same for a deleted call; a call whose recording alone was deleted is
  emitted again as Aircall lists it now, `has_recording` false.

Airbyte destinations that deduplicate on the primary key then delete the row, when the
stream's schema declares `_ab_cdc_deleted_at`. In Airbyte's own Postgres destination
(airbytehq/airbyte, `airbyte-integrations/connectors/destination-postgres/src/main/
kotlin/io/airbyte/integrations/destination/postgres/sql/PostgresDirectLoadSqlGenerator.kt`,
`upsertTable` and `cdcDelete`): the newest record of each key is picked (cursor, then
`_airbyte_extracted_at`), and a `DELETE ... WHERE _ab_cdc_deleted_at IS NOT NULL AND
(cursor newer, or the same cursor extracted later)` removes the row, while inserts and
updates skip deletion records. So the cursor must stay as it was: the same `started_at`,
extracted later, wins; a null cursor would not (docs/removals.md).

In file mode no such record goes out (a file-mode record must bring a file): the
records connection carries the signal (docs/removals.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from source_aircall_salescaling.aircall.models import Call, iso_utc
from source_aircall_salescaling.import_rules import ImportDecision
from source_aircall_salescaling.sync.context import SyncContext
from source_aircall_salescaling.sync.emitted import pack_emitted
from source_aircall_salescaling.sync.recheck import (
    EMITTED_KEY,
    RECHECK_KEY,
    REMOVED_KEY,
    find_removals,
)

DELETED_AT = "_ab_cdc_deleted_at"
REMOVED_IN_AIRCALL = "removed_in_aircall"
CALL_REMOVED = "The call was deleted in Aircall after it was imported; delete Salescaling's copy."
RECORDING_REMOVED = (
    "The recording was deleted in Aircall after it was imported; delete Salescaling's copy."
)


@dataclass(frozen=True, slots=True)
class Removal:
    """One call a stream emitted that Aircall no longer has as it was."""

    call_id: int
    started_at: int  # the cursor of the record emitted before
    call: Call | None  # None: the call is gone; else as listed now, without its recording


def deletion_record(key_field: str, call_id: int, started_at: int, now: int) -> dict[str, Any]:
    """The record that deletes a row downstream: key and cursor as before, the rest null."""
    return {key_field: call_id, "started_at": iso_utc(started_at), DELETED_AT: iso_utc(now)}


def deletion_records(emitted: EmittedCalls, key_field: str, now: int) -> Iterator[dict[str, Any]]:
    """`recordings` and the Aircall AI streams: a deletion record per removal."""
    for removal in emitted.removals():
        yield deletion_record(key_field, removal.call_id, removal.started_at, now)


def removal_decision(removal: Removal, now: int) -> ImportDecision:
    call = removal.call
    return ImportDecision(
        removal.call_id,
        removal.started_at,
        call.ended_at if call is not None else None,
        call.agent if call is not None else None,
        REMOVED_IN_AIRCALL,
        CALL_REMOVED if call is None else RECORDING_REMOVED,
        None,
        None,
        now,
    )


class EmittedCalls:
    """A stream's calls emitted within the window (id -> started_at), kept in its state
    with the re-check's cursor; `removals()` takes this sync's removals out of it."""

    def __init__(self, context: SyncContext) -> None:
        self.context, self.stream = context, ""
        self.tracked = False  # False: a full refresh, or file mode: nothing is reported
        self.calls: dict[int, int] = {}
        # Reported removed, kept while in the window: a stream whose list was saved
        # beside an older version of this one reads them (`sync/emitted.py`).
        self.removed: dict[int, int] = {}
        self._loaded = False

    def start(self, stream: str, tracked: bool) -> None:
        """Called when the stream plans its sync (its name and mode are known then)."""
        self.stream, self.tracked = stream, tracked

    def load(self) -> None:
        if not self._loaded:
            if self.tracked:
                self.calls = self.context.emitted.emitted_by(self.stream)[0]
                self.removed = self.context.emitted.removed_by(self.stream)
            self._loaded = True

    def add(self, call_id: int, started_at: int) -> None:
        if self.tracked:
            self.load()
            self.calls[call_id] = started_at

    def removals(self) -> list[Removal]:
        """This sync's removals, once: they leave the list as they are taken."""
        self.load()
        if not self.tracked or not self.calls:
            return []
        recheck = self.context.recheck()
        plan = recheck.plan
        found = find_removals(self.calls, plan.low, plan.high, recheck.has_recording())
        for call_id, started, _ in found:
            del self.calls[call_id]
            self.removed[call_id] = started
        if self.stream == "calls":
            # `calls` keeps the calls Salescaling's rules import; what the first sync's cap
            # left behind was not imported: the streams that import say which were.
            imported = self.context.emitted.imported_by_others(self.stream)
            if imported is not None:
                found = [item for item in found if item[0] in imported]
        removals = []
        for call_id, started, deleted in found:
            if deleted:  # its start to the second, where this list kept it to the minute
                exact = self.context.emitted.exact_start(call_id)
                removals.append(Removal(call_id, started if exact is None else exact, None))
            else:
                listed = recheck.calls[call_id]
                removals.append(Removal(call_id, listed.started_at, listed))
        return removals

    def state(self) -> dict[str, Any]:
        if not self.tracked:
            return {}
        self.load()
        window_start = self.context.window_start
        kept = {k: v for k, v in self.calls.items() if v > window_start}
        saved: dict[str, Any] = {RECHECK_KEY: self.context.recheck().plan.after.to_state()}
        if kept:
            saved[EMITTED_KEY] = self.context.emitted.save(self.stream, kept)
        removed = {k: v for k, v in self.removed.items() if v > window_start}
        if removed:
            saved[REMOVED_KEY] = pack_emitted(removed, exact=False)
        return saved
