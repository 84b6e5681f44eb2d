"""Why calls were not imported: one block a Salescaling admin can act on.

Logged at the end of each sync of `recordings`, as readable lines and as one
machine-readable line (`IMPORT_REPORT {json}`) that `make demo` summarises.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from source_aircall_salescaling.import_rules import NOT_SALESCALING_USER, OVER_SIZE_LIMIT

REPORT_PREFIX = "IMPORT_REPORT "
_SHOWN = 20  # ids listed per reason; the count is always complete


@dataclass
class ImportReport:
    imported: int = 0
    imported_by_transfer: int = 0  # of `imported`: a Salescaling user's by transfer
    bytes_downloaded: int = 0
    waiting: int = 0
    left_behind: int = 0
    left_behind_is_lower_bound: bool = False  # the first sync stopped paging early
    skipped: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    agent_emails: set[str] = field(default_factory=set)
    sizes: dict[int, int] = field(default_factory=dict)
    retrying: list[int] = field(default_factory=list)  # fetch failed: tried next sync

    def skip(
        self, call_id: int, reason: str, email: str | None = None, size: int | None = None
    ) -> None:
        self.skipped[reason].append(call_id)
        if reason == NOT_SALESCALING_USER:
            self.agent_emails.add(email or "(no agent)")
        if size is not None:
            self.sizes[call_id] = size

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "imported_by_transfer": self.imported_by_transfer,
            "bytes_downloaded": self.bytes_downloaded,
            "waiting_for_recording_or_end": self.waiting,
            "left_behind_by_first_sync_cap": self.left_behind,
            "left_behind_by_first_sync_cap_is_lower_bound": self.left_behind_is_lower_bound,
            "skipped": {reason: len(ids) for reason, ids in sorted(self.skipped.items())},
            "skipped_call_ids": {
                reason: ids[:_SHOWN] for reason, ids in sorted(self.skipped.items())
            },
            "agent_emails_not_salescaling_users": sorted(self.agent_emails),
            "oversize_recordings": {str(k): v for k, v in sorted(self.sizes.items())},
            "unavailable_tried_again_next_sync": self.retrying[:_SHOWN],
        }

    def lines(self) -> list[str]:
        total_skipped = sum(len(ids) for ids in self.skipped.values())
        transferred = (
            f" ({self.imported_by_transfer} transferred to a Salescaling user)"
            if self.imported_by_transfer
            else ""
        )
        out = [
            f"Recordings import report: imported {self.imported}{transferred}, "
            f"skipped {total_skipped}."
        ]
        for reason, ids in sorted(self.skipped.items()):
            shown = ", ".join(str(i) for i in ids[:_SHOWN]) + (" ..." if len(ids) > _SHOWN else "")
            line = f"  skipped, {reason}: {len(ids)} (calls {shown})"
            if reason == NOT_SALESCALING_USER:
                line += f"; agent emails seen: {', '.join(sorted(self.agent_emails))}"
            if reason == OVER_SIZE_LIMIT:
                line += "; sizes: " + ", ".join(
                    f"{i}={self.sizes[i] / 1_048_576:.1f} MiB"
                    for i in ids[:_SHOWN]
                    if i in self.sizes
                )
            out.append(line)
        if self.retrying:
            shown = ", ".join(str(i) for i in self.retrying[:_SHOWN])
            out.append(
                f"  recording unavailable now, tried again on the next sync: "
                f"{len(self.retrying)} (calls {shown})"
            )
        if self.waiting:
            out.append(f"  waiting (call in progress or recording not ready yet): {self.waiting}")
        if self.left_behind or self.left_behind_is_lower_bound:
            count = (
                f"at least {self.left_behind}"
                if self.left_behind_is_lower_bound
                else str(self.left_behind)
            )
            out.append(
                f"  older calls left behind by the first-sync cap: {count}"
                + (
                    " (paging stopped early, older calls were not counted)"
                    if self.left_behind_is_lower_bound
                    else ""
                )
            )
        out.append(REPORT_PREFIX + json.dumps(self.as_dict(), sort_keys=True))
        return out
