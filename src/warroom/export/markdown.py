"""Renders the post-mortem draft as GitHub-flavoured Markdown: tables, strikethrough, tasks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import partial

from warroom.domain.events import Event
from warroom.domain.incident import IncidentState
from warroom.export.escape import code_fence, escape_cell, escape_inline, show_controls
from warroom.export.postmortem.document import (
    Block,
    BulletList,
    Code,
    Document,
    Inline,
    Paragraph,
    Section,
    Style,
    Table,
)
from warroom.export.postmortem.sections import build_document

_MARKS = {
    Style.PLAIN: "",
    Style.STRONG: "**",
    Style.EM: "_",
    Style.STRIKE: "~~",
    Style.CODE: "`",
}

Escape = Callable[[str], str]
# How a line break in user text is written depends on where the text sits.
_PARAGRAPH: Escape = escape_inline
_LIST_ITEM: Escape = partial(escape_inline, line_break="\\\n  ")
"""A hard break followed by the indent that keeps the next line inside its list item."""
_HEADING: Escape = partial(escape_inline, line_break=" ")
"""A heading must stay on one line."""


def render_markdown(
    state: IncidentState,
    events: list[Event],
    *,
    tz: tzinfo | None = None,
    generated_at: datetime,
) -> str:
    """The blameless post-mortem draft of an incident as Markdown.

    Args:
        state: The incident, as `replay(events)` made it.
        events: Its event log, read for history the state does not keep.
        tz: The zone for local times beside UTC; None is the zone of this machine.
        generated_at: When the draft is made, shown on it and used for an open incident's duration.
    """
    return document_markdown(build_document(state, events, tz=tz, generated_at=generated_at))


def document_markdown(document: Document) -> str:
    """Any post-mortem document as Markdown."""
    parts = [f"# {_inline(document.title, _HEADING)}"]
    parts += [_block(block, 2) for block in document.header]
    parts += [_block(section, 2) for section in document.sections]
    return "\n\n".join(part for part in parts if part) + "\n"


def _inline(content: Inline, escape: Escape = _PARAGRAPH) -> str:
    out = []
    for n, span in enumerate(content, start=1):
        mark = _MARKS[span.style]
        # Emphasis markers only open and close next to non-space text.
        text = span.text.strip() if mark else span.text
        if n == len(content):
            text = text.rstrip()  # a line break at the very end would print as a backslash
        if text:
            # A code span shows its text as it is: only warroom's own words are set in one.
            shown = text if span.style is Style.CODE else escape(text)
            out.append(f"{mark}{shown}{mark}")
    return "".join(out)


def _block(block: Block, level: int) -> str:
    match block:
        case Paragraph(content):
            return _inline(content)
        case BulletList(items, tasks):
            bullet = "- [ ] " if tasks else "- "
            return "\n".join(bullet + _inline(item, _LIST_ITEM) for item in items)
        case Table(header, rows):
            lines = [_row(tuple(escape_cell(h) for h in header)), _row(("---",) * len(header))]
            lines += [_row(tuple(_inline(cell, escape_cell) for cell in row)) for row in rows]
            return "\n".join(lines)
        case Code(text):
            body = show_controls(text).strip("\n")
            fence = code_fence(body)
            return f"{fence}text\n{body}\n{fence}"
        case Section(title, blocks):
            heading = f"{'#' * min(level, 6)} {escape_inline(title)}"
            return "\n\n".join([heading, *(_block(b, level + 1) for b in blocks)])


def _row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cells) + " |"
