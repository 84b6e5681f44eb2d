"""Deterministic recording bytes, generated on the fly.

The sandbox serves recordings of up to a few hundred megabytes. Holding them
in memory (or on disk) would make the sandbox slow to start and heavy to run,
so the bytes are computed while they are sent: one pseudo-random 64 KiB block
is built per (call id, seed), and every chunk is that block with a small
header carrying the chunk index. Byte ``i`` of a recording depends only on
``call_id``, ``seed`` and ``i``, never on the total size, so a ranged read
returns exactly the bytes a full read would have returned at those offsets.
"""

from __future__ import annotations

import hashlib
import random
import struct
from collections.abc import Iterator
from functools import lru_cache

CHUNK_SIZE = 64 * 1024
"""Size of one generated chunk; the unit of streaming and of the block cache."""

_HEADER = struct.Struct(">4sQQ")
_FRAME_SYNC = b"\xff\xfb\x90\x64"


def _id3_header() -> bytes:
    """An ID3v2.4 tag header with an empty tag, so files look like MP3 to sniffers."""
    return b"ID3\x04\x00\x00\x00\x00\x00\x00"


@lru_cache(maxsize=64)
def _base_block(call_id: int, seed: int) -> bytes:
    """The 64 KiB block a call's chunks are made of.

    ``random.Random.randbytes`` fills it in C, so building one is cheap; the
    cache keeps the blocks of recordings currently being streamed.
    """
    rng = random.Random(f"aircall-sandbox-recording:{seed}:{call_id}")
    return rng.randbytes(CHUNK_SIZE)


def _chunk(call_id: int, seed: int, index: int) -> bytes:
    """The full (untruncated) chunk number ``index`` of a recording."""
    block = _base_block(call_id, seed)
    header = _HEADER.pack(_FRAME_SYNC, call_id & 0xFFFFFFFFFFFFFFFF, index)
    if index == 0:
        header = _id3_header() + header
    return header + block[len(header) :]


def recording_range(call_id: int, seed: int, start: int, stop: int) -> Iterator[bytes]:
    """Yield the bytes ``[start, stop)`` of a recording, at most 64 KiB at a time.

    Used for both full downloads and ``Range`` requests; it never builds more
    than one chunk at once, so a 300 MB recording costs 64 KiB of memory.
    """
    if start < 0 or stop < start:
        raise ValueError(f"invalid byte range [{start}, {stop})")
    pos = start
    while pos < stop:
        index, offset = divmod(pos, CHUNK_SIZE)
        chunk = _chunk(call_id, seed, index)
        end = min(CHUNK_SIZE, offset + (stop - pos))
        piece = chunk if offset == 0 and end == CHUNK_SIZE else chunk[offset:end]
        yield piece
        pos += len(piece)


def recording_chunks(call_id: int, size: int, seed: int) -> Iterator[bytes]:
    """Yield a whole recording of ``size`` bytes as 64 KiB chunks (the last may be shorter)."""
    if size < 0:
        raise ValueError("size must be >= 0")
    return recording_range(call_id, seed, 0, size)


def recording_sha256(call_id: int, size: int, seed: int) -> str:
    """Hex SHA-256 of a recording, so tests can check a downloaded file byte for byte."""
    digest = hashlib.sha256()
    for chunk in recording_chunks(call_id, size, seed):
        digest.update(chunk)
    return digest.hexdigest()


VOICEMAIL_SEED_OFFSET = 1_000_003
"""Voicemails use ``seed + VOICEMAIL_SEED_OFFSET`` so they differ from recordings."""


def voicemail_sha256(call_id: int, size: int, seed: int) -> str:
    """Hex SHA-256 of a voicemail file (same generator, shifted seed)."""
    return recording_sha256(call_id, size, seed + VOICEMAIL_SEED_OFFSET)
