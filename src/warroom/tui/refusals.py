"""What a refusal from the server says to a person: one sentence per `ErrorCode`, in one place.

The code is for programs; the sentence says what happened and what to do. The server's own
message names the particulars (which user, which entry) and follows as the detail.
"""

from __future__ import annotations

from dataclasses import dataclass

from warroom.domain.errors import ErrorCode
from warroom.tui.safe_text import clean

REFUSALS: dict[ErrorCode, str] = {
    ErrorCode.BAD_FRAME: "The server could not read what this console sent",
    ErrorCode.UNKNOWN_TYPE: "The server does not know this request (is it an older version?)",
    ErrorCode.INVALID: "The server cannot accept that value",
    ErrorCode.TOO_LARGE: "That is too long for the server",
    ErrorCode.UNKNOWN_INCIDENT: "There is no such incident on this server",
    ErrorCode.UNKNOWN_ENTRY: "There is no such entry",
    ErrorCode.UNKNOWN_ITEM: "There is no such checklist item",
    ErrorCode.UNKNOWN_USER: "There is no such user on this server",
    ErrorCode.FORBIDDEN: "Your role does not allow that",
    ErrorCode.CONFLICT: "Someone else changed it first; look again and retry",
    ErrorCode.INVALID_TRANSITION: "That step is not possible from here",
    ErrorCode.RATE_LIMITED: "Too many requests at once; wait a moment and try again",
    ErrorCode.UNAVAILABLE: "The server could not store it; nothing changed, try again",
    ErrorCode.INTERNAL: "The server failed; nothing changed",
}
"""The headline of each refusal; every `ErrorCode` has one (a test checks)."""


@dataclass(frozen=True)
class RefusalNotice:
    """A refusal as the console shows it: a headline and the server's particulars."""

    title: str
    message: str


def describe_refusal(code: ErrorCode, message: str) -> RefusalNotice:
    """The notice for a refusal with `code`; a code without a sentence is shown with the
    server's message alone.

    Args:
        code: The refusal's error code.
        message: The server's message, e.g. "no user named bob".

    Returns:
        Cleaned text, safe to show with `markup=False`.
    """
    detail = clean(message.strip())
    if detail:
        detail = detail[0].upper() + detail[1:]
        if detail[-1] not in ".!?":
            detail += "."
    headline = REFUSALS.get(code)
    if headline is None:
        return RefusalNotice("Not done", detail or "The server refused this request.")
    return RefusalNotice(headline, detail or f"{headline}.")
