"""Parses the Scribe's input line into the parts of a timeline entry (pure; no textual).

    [HH:MM[:SS]] [/kind] text ... [cid:ID] ... [@name] ...

* A time at the start back-dates the entry to that time today in the caller's time zone, or
  yesterday if that time is still in the future (an incident that runs past midnight).
* `/decision`, `/action`, `/todo`, `/status` or `/note` picks the kind; the default is a note.
  The time and the kind may come in either order.
* `cid:ID` anywhere attaches a Correlation-ID. It is taken out of the text because the timeline
  shows it in its own column; keeping it would show it twice.
* `@name` mentions stay in the text; the server finds them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from pydantic import TypeAdapter, ValidationError

from warroom.domain.limits import MAX_ENTRY_TEXT, CorrelationId
from warroom.domain.timeline import USER_KINDS, EntryKind

KIND_PREFIXES: dict[str, EntryKind] = {f"/{kind.value}": kind for kind in USER_KINDS}
"""Prefixes a person may type, e.g. `/decision`; generated from the kinds a person may post."""

_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_KIND_WORD = re.compile(r"/[A-Za-z]+")
"""A prefix that looks like a kind; `/var/log is full` is text, `/decison` is a typo to report."""
_CID = re.compile(r"(?<!\S)cid:(\S*)", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?)]}\"'"
_CID_ADAPTER: TypeAdapter[str] = TypeAdapter(CorrelationId)


class EntrySyntaxError(ValueError):
    """The line cannot become an entry; the message says why in words for the Scribe."""


@dataclass(frozen=True)
class ParsedEntry:
    """What one input line asks to post."""

    kind: EntryKind
    text: str
    occurred_at: datetime | None = None
    """When it happened, in UTC, if the line was back-dated."""
    correlation_id: str | None = None


def parse_entry(line: str, now: datetime) -> ParsedEntry:
    """Split an input line into kind, text, back-dated time and Correlation-ID.

    Args:
        line: What the Scribe typed.
        now: The current time, timezone-aware; its zone is the one `14:02` is read in.

    Returns:
        The entry to post.

    Raises:
        EntrySyntaxError: The line is empty, names an unknown kind, has a bad time or ID.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rest = line.strip()
    kind: EntryKind | None = None
    occurred_at: datetime | None = None
    # The time and the kind prefix may each appear once, in either order.
    for _ in range(2):
        head, _, tail = rest.partition(" ")
        if occurred_at is None and _TIME.fullmatch(head):
            occurred_at = _back_date(head, now)
            rest = tail.strip()
        elif kind is None and _KIND_WORD.fullmatch(head):
            kind = _kind(head)
            rest = tail.strip()
    text, correlation_id = _take_correlation_id(rest)
    if not text:
        raise EntrySyntaxError("the entry has no text")
    if len(text) > MAX_ENTRY_TEXT:
        raise EntrySyntaxError(f"the entry is longer than {MAX_ENTRY_TEXT:,} characters")
    return ParsedEntry(
        kind=kind or EntryKind.NOTE,
        text=text,
        occurred_at=occurred_at,
        correlation_id=correlation_id,
    )


def _kind(prefix: str) -> EntryKind:
    kind = KIND_PREFIXES.get(prefix.lower())
    if kind is None:
        known = ", ".join(sorted(KIND_PREFIXES))
        raise EntrySyntaxError(f"unknown kind {prefix!r}; use one of {known}")
    return kind


def _back_date(token: str, now: datetime) -> datetime:
    match = _TIME.fullmatch(token)
    assert match is not None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    try:
        clock_time = time(hour, minute, second)
    except ValueError:
        raise EntrySyntaxError(f"{token} is not a time of day") from None
    when = datetime.combine(now.date(), clock_time, tzinfo=now.tzinfo)
    if when > now:
        # A time later than now means the Scribe is recording something from before midnight.
        when = datetime.combine(now.date() - timedelta(days=1), clock_time, tzinfo=now.tzinfo)
    return when.astimezone(UTC)


def _take_correlation_id(text: str) -> tuple[str, str | None]:
    matches = list(_CID.finditer(text))
    if not matches:
        return text, None
    if len(matches) > 1:
        raise EntrySyntaxError("an entry can carry only one cid:")
    match = matches[0]
    value = match[1].rstrip(_TRAILING_PUNCTUATION)
    if not value:
        raise EntrySyntaxError("cid: needs an ID after it, e.g. cid:req-8f3a")
    try:
        correlation_id = _CID_ADAPTER.validate_python(value)
    except ValidationError:
        raise EntrySyntaxError(
            f"{value!r} is not a Correlation-ID (letters, digits and _.:/+=- only)"
        ) from None
    # Punctuation after the ID stays with the sentence: "failed for cid:ab12." -> "failed for."
    tail = match[1][len(value) :]
    remaining = text[: match.start()].rstrip() + tail + text[match.end() :]
    return remaining.strip(), correlation_id
