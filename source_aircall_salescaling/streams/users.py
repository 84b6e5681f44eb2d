"""`users`: Aircall users, flagged when they are paying Salescaling users.

Aircall has no update cursor on users (names and emails change with no timestamp
moving) and `/v2/users` has no date filter: every sync reads every page. Incremental
compares each user's record with a print of the one emitted before (the state,
`sync/user_prints.py`) and emits the users that are new or changed; a user that a
complete listing no longer holds is emitted once more with `_ab_cdc_deleted_at` set.
A full refresh emits every user.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams.core import Stream, StreamData

from source_aircall_salescaling.aircall.models import User, iso_utc
from source_aircall_salescaling.records import deleted_user_record, user_record
from source_aircall_salescaling.streams.identity import StreamIdentity
from source_aircall_salescaling.sync.context import SyncContext
from source_aircall_salescaling.sync.user_prints import (
    KnownUser,
    pack,
    unix_seconds,
    unpack,
    user_print,
)


class UsersStream(StreamIdentity, Stream):
    """State: `{"created_at": the newest user's, "users": packed prints}`.

    The cursor `created_at` is kept for the platform to show; which users go out is
    decided by the prints alone (a user created in the cursor's second, or with no
    `created_at`, is new by its id). A state without prints (the previous version's:
    `{"created_at", "at_cursor": [ids of its second], "undated": [ids]}`) is read as that
    version would: the users it emitted are taken as known as they are now, so that a
    cursor in the far future emits nothing.

    Removals are reported only from a listing that is complete (`UserListing`): a sync
    that fails while paging emits no state, and a listing that shifted while it was paged
    (a user added or deleted meanwhile) keeps the users it missed for the next sync."""

    stream_name, key_field, cursor_name = "users", "id", "created_at"

    def __init__(self, context: SyncContext) -> None:
        super().__init__()
        self.context = context
        self._cursor: str | None = None
        self._known: dict[int, KnownUser] | None = None
        self._emitted_ids: set[int] = set()  # the previous version's `at_cursor` + `undated`

    @property
    def state(self) -> MutableMapping[str, Any]:
        state: dict[str, Any] = {"created_at": self._cursor} if self._cursor else {}
        if self._known is not None:
            state["users"] = pack(self._known)
        return state

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        value = value or {}
        cursor = value.get("created_at")
        self._cursor = cursor if isinstance(cursor, str) else None
        self._known = unpack(value.get("users"))
        self._emitted_ids = _ids(value.get("at_cursor")) | _ids(value.get("undated"))

    def _emitted_before(self, user: User) -> bool:
        """Under a state of the previous version: whether that version emitted `user`."""
        if user.created_at is None or user.created_at == self._cursor:
            return user.id in self._emitted_ids
        return self._cursor is not None and user.created_at < self._cursor

    def records(
        self, sync_mode: SyncMode, stream_slice: Mapping[str, Any] | None
    ) -> Iterable[StreamData]:
        incremental = sync_mode == SyncMode.incremental
        known = self._known if incremental else None
        adopting = incremental and known is None and bool(self._cursor or self._emitted_ids)
        emails = self.context.config.salescaling_user_emails
        listing = self.context.client.users()
        listed: dict[int, KnownUser] = {}
        emitted = 0
        newest: str | None = None
        for user in listing:
            record = user_record(user, emails)
            entry = KnownUser(unix_seconds(user.created_at), user_print(record))
            listed[user.id] = entry
            if user.created_at is not None and (newest is None or newest < user.created_at):
                newest = user.created_at
            if adopting and self._emitted_before(user):
                continue
            before = known.get(user.id) if known is not None else None
            if before is None or before.print != entry.print:
                emitted += 1
                yield record
        read = len(listed)
        gone = sorted(set(known or ()) - set(listed))
        removed = 0
        if known is not None and gone and listing.complete:
            deleted_at = iso_utc(self.context.sync_time)
            assert deleted_at is not None
            for user_id in gone:
                removed += 1
                yield deleted_user_record(user_id, iso_utc(known[user_id].created_at), deleted_at)
        elif known is not None and gone:
            self.logger.info(
                f"{len(gone)} known users were not in this listing of /v2/users, which "
                "changed while it was paged or skipped an entry: they are looked for again "
                "on the next sync before being reported as removed."
            )
            listed.update({user_id: known[user_id] for user_id in gone})
        # The state moves once every page was read: a sync cut short re-reads them all.
        self._known = listed
        if newest is not None and (self._cursor is None or self._cursor < newest):
            self._cursor = newest
        self._emitted_ids = set()
        self.logger.info(
            f"Stream users summary: read {read} users, "
            f"emitted {emitted}, removed {removed}, "
            f"{self.context.client.requests['/v2/users']} requests to /v2/users this sync."
        )


def _ids(value: Any) -> set[int]:
    if not isinstance(value, list):
        return set()
    return {item for item in value if isinstance(item, int) and not isinstance(item, bool)}
