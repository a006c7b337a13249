"""What the package answers with: a signed document's format and verdict, and the DAMAGED reason."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SignedFormat(StrEnum):
    ASIC_E = "asic-e"
    ASIC_S = "asic-s"
    PDF = "pdf"


class SignedVerdict(StrEnum):
    SIGNED = "signed"
    DAMAGED = "damaged"


@dataclass(frozen=True)
class SignedDocument:
    filename: str
    format: SignedFormat
    verdict: SignedVerdict
    signatures: int  # signatures that passed the checks; 0 when damaged before counting
    reason: str  # "" when SIGNED

    def as_payload(self) -> dict[str, object]:
        return {
            "filename": self.filename,
            "format": self.format.value,
            "verdict": self.verdict.value,
            "signatures": self.signatures,
            "reason": self.reason,
        }


REASON_MAX_CHARS = 200


class Damage(Exception):
    """A check failed; the message is the DAMAGED reason."""


def damaged(filename: str, signed_format: SignedFormat, reason: str, signatures: int = 0) -> SignedDocument:
    # Reasons quote entry names and parser messages from the attacker's bytes: keep them one short line.
    shown = "".join(char if char.isprintable() else "?" for char in reason)
    if len(shown) > REASON_MAX_CHARS:
        shown = shown[: REASON_MAX_CHARS - 1] + "…"
    return SignedDocument(filename, signed_format, SignedVerdict.DAMAGED, signatures, shown)
