"""The digests a signature binds, recomputed: hashlib by name, fed in chunks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def hasher_new(algorithm: str) -> hashlib._Hash:
    # Not for security: a digest tells a changed file from an unchanged one, as the signer computed it.
    return hashlib.new(algorithm, usedforsecurity=False)


def digest_compute(algorithm: str, chunks: Iterable[bytes | memoryview]) -> bytes:
    hasher = hasher_new(algorithm)
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.digest()
