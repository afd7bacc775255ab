"""How one timeline entry reads in the post-mortem: its text, and its back-dating, amendments and
strike shown openly, since the record is never silently rewritten."""

from __future__ import annotations

from warroom.domain.timeline import EntryRevision, TimelineEntry
from warroom.export.postmortem.clock import Clock
from warroom.export.postmortem.document import Inline, Span, em, inline, strike


def _strike_index(entry: TimelineEntry) -> int | None:
    """Which revision records the strike: striking keeps the text, so its saved wording equals the
    wording that followed it (the latest such revision, in case an amendment changed nothing)."""
    if not entry.struck:
        return None
    texts = [r.text for r in entry.revisions] + [entry.text]
    return next(
        (i for i in reversed(range(len(entry.revisions))) if texts[i] == texts[i + 1]),
        len(entry.revisions) - 1 if entry.revisions else None,
    )


def _change_note(clock: Clock, revision: EntryRevision, struck: bool, reason: str) -> list[Span]:
    when = f"{revision.changed_by} at {clock.utc(revision.changed_at)}"
    if struck:
        return [em(f"Struck by {when}"), Span(f": {reason}" if reason else "")]
    return [
        em(f"Amended by {when}; earlier wording:"),
        Span(f" \u201c{revision.text.strip()}\u201d"),
    ]


def entry_text(entry: TimelineEntry) -> Inline:
    """The entry's current wording, struck through if it was withdrawn."""
    text = entry.text.strip()
    return inline(strike(text) if entry.struck else text)


def entry_notes(clock: Clock, entry: TimelineEntry) -> list[list[Span]]:
    """One note per line: back-dating, each amendment with the wording it replaced, the strike
    with its reason, and the entry's tags."""
    notes: list[list[Span]] = []
    if entry.occurred_at is not None:
        notes.append([em(f"Back-dated; recorded at {clock.utc(entry.at)}")])
    elif entry.typed_at is not None and clock.utc(entry.typed_at) != clock.utc(entry.at):
        # Typed while the server was unreachable: listed when typed, delivered later.
        notes.append(
            [em(f"Typed at {clock.utc(entry.when)}; reached the server at {clock.utc(entry.at)}")]
        )
    struck_at = _strike_index(entry)
    reason = (entry.struck_reason or "").strip()
    for index, revision in enumerate(entry.revisions):
        notes.append(_change_note(clock, revision, index == struck_at, reason))
    if entry.tags:
        notes.append([em("Tags:"), Span(" " + ", ".join(entry.tags))])
    return notes


def entry_cell(clock: Clock, entry: TimelineEntry) -> Inline:
    """The entry with its notes, each on a line of its own, for one table cell."""
    spans = list(entry_text(entry))
    for note in entry_notes(clock, entry):
        spans += [Span("\n"), *note]
    return inline(*spans)


def entry_head(clock: Clock, entry: TimelineEntry) -> Inline:
    """When, which correlation, who: the lead-in of an entry shown as a list item or caption."""
    correlation = f" [Correlation-ID {entry.correlation_id}]" if entry.correlation_id else ""
    return inline(em(clock.stamp(entry.when)), f"{correlation} {entry.author}: ")


def entry_line(clock: Clock, entry: TimelineEntry) -> Inline:
    """The entry as a list item: its lead-in, its text, then its notes."""
    return entry_head(clock, entry) + entry_cell(clock, entry)
