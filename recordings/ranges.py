"""HTTP Range (RFC 9110 §14) for serving audio: a player seeks by asking for the bytes it needs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024
_SINGLE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ByteRange:
    first: int
    last: int  # inclusive, as Content-Range counts

    @property
    def length(self) -> int:
        return self.last - self.first + 1


class RangeNotSatisfiable(Exception):
    """A well-formed range that lies wholly past the end of the file (answered 416)."""


def byte_range(header: str | None, size: int) -> ByteRange | None:
    """The one range `header` asks for within `size` bytes, or None for the whole file.

    A missing, malformed or multi-part Range header is ignored (the whole file is a valid answer to any
    of them); a range past the end raises RangeNotSatisfiable.
    """
    if not header:
        return None
    match = _SINGLE.match(header)
    if match is None:
        return None
    start, end = match.groups()
    if not start:
        if not end:
            return None
        suffix = int(end)  # "bytes=-500": the last 500 bytes
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(size - suffix, 0), size - 1)
    first = int(start)
    if end and int(end) < first:
        return None  # "bytes=9-3" is not a valid range: ignored, like any malformed header
    if first >= size:
        raise RangeNotSatisfiable
    return ByteRange(first, min(int(end), size - 1) if end else size - 1)


def file_chunks(path: Path, first: int, length: int) -> Iterator[bytes]:
    """`length` bytes of `path` from `first`, in chunks (an hour of audio never sits in memory)."""
    with path.open("rb") as audio:
        audio.seek(first)
        left = length
        while left > 0:
            chunk = audio.read(min(CHUNK, left))
            if not chunk:  # the file shrank under us: stop rather than promise bytes we lack
                return
            left -= len(chunk)
            yield chunk
