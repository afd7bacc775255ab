"""Size limits for user-supplied text, shared by the protocol models and the TUI's input hints."""

from typing import Annotated, Final

from pydantic import AfterValidator, Field

MAX_TITLE: Final = 200
MAX_SUMMARY: Final = 4_000
MAX_ENTRY_TEXT: Final = 10_000
MAX_REASON: Final = 1_000
MAX_TAG: Final = 40
MAX_TAGS: Final = 20
MAX_CORRELATION_ID: Final = 128
MAX_SERVICE: Final = 100
MAX_CHECKLIST_ITEMS: Final = 200
MAX_SERVICES: Final = 30
"""Services one incident may list; each is polled from Prometheus for every signal, so the
list is what bounds the queries one incident makes."""
MAX_FRAME_BYTES: Final = 256 * 1024
"""Largest websocket frame the server reads; a larger one closes the connection (code 1009)."""

_CONTROL = {chr(c) for c in range(0x20)} | {chr(0x7F)} | {chr(c) for c in range(0x80, 0xA0)}


def _single_line(value: str) -> str:
    """Refuse control characters in one-line fields (titles, names, tags): they have no meaning
    there and would only move someone's cursor."""
    if any(ch in _CONTROL for ch in value):
        raise ValueError("must not contain control characters or line breaks")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Title = Annotated[
    str,
    Field(min_length=1, max_length=MAX_TITLE),
    AfterValidator(_single_line),
    AfterValidator(_not_blank),
]
Summary = Annotated[str, Field(max_length=MAX_SUMMARY)]
EntryText = Annotated[
    str, Field(min_length=1, max_length=MAX_ENTRY_TEXT), AfterValidator(_not_blank)
]
"""Timeline text is stored exactly as typed (markup and escapes included) and escaped on display."""
Reason = Annotated[str, Field(max_length=MAX_REASON)]
Tag = Annotated[
    str, Field(min_length=1, max_length=MAX_TAG, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
]
CorrelationId = Annotated[
    str,
    Field(min_length=1, max_length=MAX_CORRELATION_ID, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/+=-]*$"),
]
ServiceName = Annotated[
    str, Field(min_length=1, max_length=MAX_SERVICE), AfterValidator(_single_line)
]
UserName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,31}$")]
"""Lower-case login names; they appear in mentions (`@name`) and on the roster."""
