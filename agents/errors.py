"""The one domain error type.

It lives in the lowest layer so that every layer can raise it; config.errors turns it into one JSON
shape for the API, and management commands print its message.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refusal with a stable machine-readable code and a message a person can act on."""

    def __init__(self, code: str, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = (
            status  # the API's HTTP status: 400 unless the refusal is about rights (403) or gone (410)
        )

    def __str__(self) -> str:
        return self.message
