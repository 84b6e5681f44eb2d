"""What names a stream in the catalog: its name, primary key and source-defined cursor.

The CDK's `Stream` asks for each through a property (and would otherwise name a stream
after its class); the streams here state them as class attributes instead, so that each
stream says in three lines what is fixed for it (docs/aircall-salescaling.md,
"Supported streams").
"""

from __future__ import annotations

from typing import ClassVar


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
