"""Turns timeline entries into one line of styled text each, and filters them (no textual)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from rich.style import Style
from rich.text import Text

from warroom.domain.timeline import EntryKind, TimelineEntry
from warroom.tui.pending import PendingEntry
from warroom.tui.safe_text import clean
from warroom.tui.time_format import clock_time

AUTHOR_WIDTH = 12
KIND_WIDTH = max(len(kind.value) for kind in EntryKind)


@dataclass(frozen=True)
class TimelineStyles:
    """Styles for the parts of a line, resolved from the stylesheet's component classes."""

    time: Style
    author: Style
    correlation: Style
    note: Style
    """Markers such as "(amended)"."""
    struck: Style
    pending: Style
    kinds: Mapping[EntryKind, Style]


def kind_label(kind: EntryKind) -> str:
    return kind.value.upper().ljust(KIND_WIDTH)


def entry_line(entry: TimelineEntry, zone: tzinfo | None, styles: TimelineStyles) -> Text:
    """One entry as a line: time, kind, author, Correlation-ID, text, markers."""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append(clock_time(entry.when, zone), styles.time)
    # "~" marks a back-dated time: the Scribe recorded it later than it happened.
    line.append("~ " if entry.occurred_at is not None else "  ", styles.time)
    line.append(kind_label(entry.kind), styles.kinds.get(entry.kind, Style()))
    line.append(" ")
    line.append(clean(entry.author)[:AUTHOR_WIDTH].ljust(AUTHOR_WIDTH), styles.author)
    line.append(" ")
    if entry.correlation_id:
        line.append(f"cid:{clean(entry.correlation_id)}", styles.correlation)
        line.append(" ")
    line.append(clean(entry.text), styles.struck if entry.struck else Style())
    if entry.struck:
        reason = f": {clean(entry.struck_reason)}" if entry.struck_reason else ""
        line.append(f"  (struck{reason})", styles.note)
    elif entry.revisions:
        line.append("  (amended)", styles.note)
    return line


def pending_line(pending: PendingEntry, zone: tzinfo | None, styles: TimelineStyles) -> Text:
    """A posted entry the server has not committed yet, greyed as a whole."""
    command = pending.command
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    when = command.occurred_at or pending.submitted_at
    line.append(clock_time(when, zone))
    line.append("~ " if command.occurred_at is not None else "  ")
    line.append(kind_label(command.kind))
    line.append(" ")
    line.append(clean(pending.author)[:AUTHOR_WIDTH].ljust(AUTHOR_WIDTH))
    line.append(" ")
    if command.correlation_id:
        line.append(f"cid:{clean(command.correlation_id)} ")
    line.append(clean(command.text))
    line.append("  (sending…)")
    # A span, not the base style: the view sets the base style to the widget's own.
    line.stylize(styles.pending)
    return line


def matches(entry: TimelineEntry, kind: EntryKind | None, needle: str) -> bool:
    """True if `entry` has `kind` (any if None) and contains `needle` (lower-case) in its text,
    author or Correlation-ID."""
    if kind is not None and entry.kind is not kind:
        return False
    if not needle:
        return True
    return (
        needle in entry.text.lower()
        or needle in entry.author.lower()
        or (entry.correlation_id is not None and needle in entry.correlation_id.lower())
    )


def filter_entries(
    entries: Sequence[TimelineEntry], kind: EntryKind | None, needle: str
) -> Sequence[TimelineEntry]:
    """The entries to show; the list itself (no copy) when nothing is filtered, because a
    10,000-entry timeline is redrawn on every burst of events."""
    if kind is None and not needle:
        return entries
    lowered = needle.lower()
    return [entry for entry in entries if matches(entry, kind, lowered)]
