"""`users`: Aircall users, flagged when they are paying Salescaling users.

Aircall has no update cursor on users (names and emails change with no timestamp
moving), so incremental means *new* users only, on `created_at`; a full refresh
re-reads everyone. `/v2/users` has no date filter: every page is read either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams.core import Stream, StreamData

from source_aircall_salescaling.aircall.models import User
from source_aircall_salescaling.records import user_record
from source_aircall_salescaling.streams.identity import StreamIdentity
from source_aircall_salescaling.sync.context import SyncContext


class UsersStream(StreamIdentity, Stream):
    """State: `{"created_at": cursor, "at_cursor": [ids], "undated": [ids]}`.

    Aircall gives `created_at` in milliseconds, but the record (and so the cursor) keeps
    whole seconds: a user created later in the cursor's second would compare equal and be
    lost, so the ids already emitted in that second are kept. A user with no `created_at`
    has nothing to compare: the ids of those emitted are kept (an account has few)."""

    stream_name, key_field, cursor_name = "users", "id", "created_at"

    def __init__(self, context: SyncContext) -> None:
        super().__init__()
        self.context = context
        self._cursor: str | None = None
        self._at_cursor: set[int] = set()
        self._undated: set[int] = set()

    @property
    def state(self) -> MutableMapping[str, Any]:
        state: dict[str, Any] = {"created_at": self._cursor} if self._cursor else {}
        if self._at_cursor:
            state["at_cursor"] = sorted(self._at_cursor)
        if self._undated:
            state["undated"] = sorted(self._undated)
        return state

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        value = value or {}
        cursor = value.get("created_at")
        self._cursor = cursor if isinstance(cursor, str) else None
        self._at_cursor = _ids(value.get("at_cursor"))
        self._undated = _ids(value.get("undated"))

    def _is_new(self, user: User) -> bool:
        if user.created_at is None:
            return user.id not in self._undated
        if self._cursor is None or user.created_at > self._cursor:
            return True
        return user.created_at == self._cursor and user.id not in self._at_cursor

    def records(
        self, sync_mode: SyncMode, stream_slice: Mapping[str, Any] | None
    ) -> Iterable[StreamData]:
        if sync_mode != SyncMode.incremental:
            self._cursor, self._at_cursor, self._undated = None, set(), set()
        read = emitted = 0
        new: list[User] = []
        for user in self.context.client.users():
            read += 1
            if not self._is_new(user):
                continue
            emitted += 1
            new.append(user)
            yield user_record(user, self.context.config.salescaling_user_emails)
        # The state moves once every page was read: a sync cut short re-reads them all.
        for user in new:
            if user.created_at is None:
                self._undated.add(user.id)
            elif self._cursor is None or user.created_at > self._cursor:
                self._cursor, self._at_cursor = user.created_at, {user.id}
            elif user.created_at == self._cursor:
                self._at_cursor.add(user.id)
        self.logger.info(
            f"Stream users summary: read {read} users, emitted {emitted}, "
            f"{self.context.client.requests['/v2/users']} requests to /v2/users this sync."
        )


def _ids(value: Any) -> set[int]:
    if not isinstance(value, list):
        return set()
    return {item for item in value if isinstance(item, int) and not isinstance(item, bool)}
