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
from source_aircall_salescaling.config import normalize_email
from source_aircall_salescaling.sync.context import SyncContext


def user_record(user: User, salescaling_emails: frozenset[str]) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "created_at": user.created_at,
        "available": user.available,
        "availability_status": user.availability_status,
        "time_zone": user.time_zone,
        "language": user.language,
        "salescaling_user": bool(user.email)
        and normalize_email(user.email or "") in salescaling_emails,
    }


class UsersStream(Stream):
    def __init__(self, context: SyncContext) -> None:
        super().__init__()
        self.context = context
        self._cursor: str | None = None

    @property
    def name(self) -> str:
        return "users"

    @property
    def primary_key(self) -> str:
        return "id"

    @property
    def cursor_field(self) -> str:
        return "created_at"

    @property
    def source_defined_cursor(self) -> bool:
        return True

    @property
    def state(self) -> MutableMapping[str, Any]:
        return {"created_at": self._cursor} if self._cursor else {}

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        cursor = (value or {}).get("created_at")
        self._cursor = cursor if isinstance(cursor, str) else None

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[StreamData]:
        since = self._cursor if sync_mode == SyncMode.incremental else None
        newest = self._cursor
        read = emitted = 0
        for user in self.context.client.users():
            read += 1
            if since is not None and (user.created_at is None or user.created_at <= since):
                continue
            emitted += 1
            if user.created_at and (newest is None or user.created_at > newest):
                newest = user.created_at
            yield user_record(user, self.context.config.salescaling_user_emails)
        self._cursor = newest
        self.logger.info(
            f"Stream users summary: read {read} users, emitted {emitted}, "
            f"{self.context.client.requests['/v2/users']} requests to /v2/users this sync."
        )
