"""Error codes every refusal carries, and the exception the domain rules raise."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Why a request was refused. Part of the wire protocol; see docs/protocol.md."""

    BAD_FRAME = "bad_frame"
    """Not a JSON object, or not text."""
    UNKNOWN_TYPE = "unknown_type"
    INVALID = "invalid"
    """A field is missing, of the wrong type, or out of range."""
    TOO_LARGE = "too_large"
    UNKNOWN_INCIDENT = "unknown_incident"
    UNKNOWN_ENTRY = "unknown_entry"
    UNKNOWN_ITEM = "unknown_item"
    UNKNOWN_USER = "unknown_user"
    FORBIDDEN = "forbidden"
    """The sender's role in this incident does not allow the action."""
    CONFLICT = "conflict"
    """The field changed since the sender saw it; `current` holds the value now."""
    INVALID_TRANSITION = "invalid_transition"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    """The write could not be stored (disk full, database locked); nothing was changed."""
    INTERNAL = "internal"


class DomainError(Exception):
    """A request the rules refuse. Nothing has been changed when this is raised."""

    def __init__(self, code: ErrorCode, message: str, current: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.current = current
