"""Which calls each stream emitted within the window, as the sync's old states say, and
the lists the streams save (packed by `sync/emitted.py`).

The streams' states are separate (Airbyte keeps one per stream), but the lists are read
together: a list kept to the minute takes the exact start of a deleted call from the one
that keeps them to the second, `calls` learns which of its calls were imported from the
streams that import, and an Aircall AI stream's list is a difference from another
stream's list (`sync/emitted.py` says why, and what happens when the two were not
saved together).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from source_aircall_salescaling.sync.emitted import (
    RELATIVE,
    is_full_list,
    pack_emitted,
    pack_relative,
    unpack_emitted,
    unpack_relative,
)
from source_aircall_salescaling.sync.recheck import EMITTED_KEY, RECHECK_KEY, REMOVED_KEY


class EmittedLists:
    """The old lists of one sync, read once each, and the lists saved in it."""

    def __init__(
        self,
        states: Mapping[str, Mapping[str, Any]],
        incremental: Mapping[str, bool],
        tracked: Sequence[str],
        relative_streams: Sequence[str],
        file_mode: bool,
        logger: logging.Logger,
    ) -> None:
        """`tracked`: the selected streams that keep a list, in the catalog's order;
        `relative_streams`: those whose calls are some of the imported ones, which may
        save their lists as a difference (the Aircall AI streams, `import_decisions`)."""
        self.states, self.incremental, self.logger = states, incremental, logger
        self.tracked, self.relative_streams = list(tracked), relative_streams
        self.file_mode = file_mode
        self._emitted: dict[str, tuple[dict[int, int], bool]] = {}
        # The full lists saved in this sync, by stream, in the order the streams first
        # saved: the bases of the Aircall AI streams' lists.
        self._full_lists: dict[str, str] = {}
        self._exact_lists: list[dict[int, int]] | None = None  # `exact_start`'s

    def emitted_by(self, stream: str) -> tuple[dict[int, int], bool]:
        """The calls `stream` emitted within the window, from its old state, and whether
        their starts are exact (`sync/emitted.py`)."""
        calls, exact = self._old(stream)
        return dict(calls), exact

    def _old(self, stream: str) -> tuple[dict[int, int], bool]:
        """`emitted_by`, without the copy: not to be changed."""
        raw = (self.states.get(stream) or {}).get(EMITTED_KEY)
        if raw is None or not self.incremental.get(stream, False):
            return {}, False
        if stream not in self._emitted:
            try:
                self._emitted[stream] = self._read_emitted(stream, raw)
            except ValueError:
                self.logger.warning(
                    f"Stream {stream}: the saved list of calls it emitted cannot be read; "
                    "calls removed in Aircall before this sync are not reported by it."
                )
                self._emitted[stream] = ({}, False)
        return self._emitted[stream]

    def removed_by(self, stream: str) -> dict[int, int]:
        """The calls `stream` reported removed within the window, from its old state."""
        raw = (self.states.get(stream) or {}).get(REMOVED_KEY)
        if raw is None:
            return {}
        try:
            return unpack_emitted(raw)[0]
        except ValueError:
            return {}

    def _read_emitted(self, stream: str, raw: object) -> tuple[dict[int, int], bool]:
        if not (isinstance(raw, str) and raw.startswith(RELATIVE)):
            return unpack_emitted(raw)
        relative = unpack_relative(raw)
        states = self.states
        base = (states.get(relative.base_stream) or {}).get(EMITTED_KEY)
        if relative.written_beside(base):
            return relative.exact(str(base)), False
        # Another version of the base, or none: a superset (sync/emitted.py), from the
        # base's stream if its list is there, else from every full list there is.
        sources = [relative.base_stream] if is_full_list(base) else [
            name for name, state in states.items()
            if name != stream and is_full_list((state or {}).get(EMITTED_KEY))
        ]  # fmt: skip
        known: dict[int, int] = {}
        for name in sources:
            known.update(self.removed_by(name))
            known.update(unpack_emitted((states.get(name) or {}).get(EMITTED_KEY))[0])
        self.logger.warning(
            f"Stream {stream}: its list of emitted calls was saved beside another version "
            f"of {relative.base_stream}'s (a sync that stopped between the two streams' "
            f"checkpoints, or {relative.base_stream} deselected): read as every call "
            f"{' and '.join(sources) or 'no stream'} emitted or reported removed up to id "
            f"{relative.upto}. A removal may then be reported for a call whose record this "
            "stream never emitted; the destination has no such row."
        )
        return relative.superset(known), False

    def save(self, stream: str, calls: dict[int, int]) -> str:
        """The packed list `stream` saves in its state: a full list, except for the
        streams whose calls are some of the imported ones (the Aircall AI streams, and
        `import_decisions` unless it keeps the exact starts), which write the shorter of
        a full list and a difference from a full list saved earlier in this sync
        (`sync/emitted.py`): `recordings`', whose calls are the imported ones (so that a
        list read as a superset holds only those), else the first saved."""
        exact = self.keeps_exact_starts(stream)
        full = pack_emitted(calls, exact)
        if stream in self.relative_streams and not exact:
            lists = self._full_lists
            bases = [("recordings", lists["recordings"])] if "recordings" in lists else []
            bases += [(name, packed) for name, packed in lists.items() if name != stream]
            base = bases[0] if bases else None
            if base is not None:
                relative = pack_relative(calls, *base, self._old(base[0])[0].keys())
                if len(relative) < len(full):
                    return relative
        self._full_lists[stream] = full
        return full

    def keeps_exact_starts(self, stream: str) -> bool:
        """Whether `stream` keeps the exact starts of what it emitted: the first selected
        of `recordings` (in records mode), `import_decisions`, `calls`."""
        for name in ("recordings", "import_decisions", "calls"):
            if self.incremental.get(name, False) and not (name == "recordings" and self.file_mode):
                return name == stream
        return False

    def imported_by_others(self, stream: str) -> set[int] | None:
        """The calls the other selected streams that keep what Salescaling imported
        (not `calls`) emitted, from their old lists; None when none is selected."""
        lists = [
            self.emitted_by(name)[0]
            for name in self.tracked
            if name not in ("calls", stream) and RECHECK_KEY in (self.states.get(name) or {})
        ]
        return set().union(*lists) if lists else None

    def exact_start(self, call_id: int) -> int | None:
        """A call's exact start from any old list that keeps them, if one does. The lists
        are gathered once: a sync may ask for every call of a large deletion."""
        if self._exact_lists is None:
            self._exact_lists = []
            for name in self.tracked:
                calls, exact = self.emitted_by(name)
                if exact:
                    self._exact_lists.append(calls)
        for calls in self._exact_lists:
            if call_id in calls:
                return calls[call_id]
        return None
