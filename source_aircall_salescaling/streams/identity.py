"""What names a stream in the catalog (name, primary key, source-defined cursor), and the
CDK's `read_records` signature, stated once.

The CDK's `Stream` asks for each through a property (and would otherwise name a stream
after its class); the streams here state them as class attributes instead, so that each
stream says in three lines what is fixed for it (docs/aircall-salescaling.md,
"Supported streams").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams.core import StreamData


class StreamIdentity:
    """Put first among a stream's bases, so that these properties win over `Stream`'s.
    (Not `cursor`: the CDK's `Stream` keeps its `Cursor` object under that name.)"""

    stream_name: ClassVar[str]
    key_field: ClassVar[str]
    cursor_name: ClassVar[str]

    @property
    def name(self) -> str:
        return self.stream_name

    @property
    def primary_key(self) -> str:
        return self.key_field

    @property
    def cursor_field(self) -> str:
        return self.cursor_name

    @property
    def source_defined_cursor(self) -> bool:
        return True

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[StreamData]:
        """The cursor field is fixed and each stream keeps its own state (`state`), so a
        stream needs only the mode and the slice: see its `records`."""
        return self.records(sync_mode, stream_slice)

    if TYPE_CHECKING:  # each stream defines it; a definition here would win over theirs

        def records(
            self, sync_mode: SyncMode, stream_slice: Mapping[str, Any] | None
        ) -> Iterable[StreamData]: ...
