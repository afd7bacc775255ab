"""The post-mortem as plain data (sections of paragraphs, lists, tables, code) for both renderers.

Builders put raw text in these objects; only the Markdown and HTML renderers escape it, each for
its own format, so no text is escaped twice or forgotten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum


class Style(Enum):
    """How a run of text is set."""

    PLAIN = "plain"
    STRONG = "strong"
    EM = "em"
    STRIKE = "strike"
    CODE = "code"
    """Text warroom wrote itself, such as a command to run; never user text, which a code span
    could not escape."""


@dataclass(frozen=True)
class Span:
    """A run of text in one style; the text may hold line breaks."""

    text: str
    style: Style = Style.PLAIN


Inline = tuple[Span, ...]
"""A line of mixed runs, e.g. a bold label followed by user text."""


def inline(*parts: str | Span) -> Inline:
    """Runs from strings (plain) and spans, skipping empty ones."""
    spans = (Span(p) if isinstance(p, str) else p for p in parts)
    return tuple(s for s in spans if s.text)


def strong(text: str) -> Span:
    return Span(text, Style.STRONG)


def em(text: str) -> Span:
    return Span(text, Style.EM)


def strike(text: str) -> Span:
    return Span(text, Style.STRIKE)


def code(text: str) -> Span:
    return Span(text, Style.CODE)


@dataclass(frozen=True)
class Paragraph:
    content: Inline


@dataclass(frozen=True)
class BulletList:
    items: Sequence[Inline]
    tasks: bool = False
    """Render each item as an open task (`- [ ]`), for action items."""


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: Sequence[tuple[Inline, ...]]

    def __post_init__(self) -> None:
        # A short or long row would shift every cell after it under the wrong heading.
        if any(len(row) != len(self.header) for row in self.rows):
            raise ValueError(f"every row of table {self.header} needs {len(self.header)} cells")


@dataclass(frozen=True)
class Code:
    """Preformatted text shown exactly as recorded, such as a metrics snapshot."""

    text: str


@dataclass(frozen=True)
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    """Content in order; a nested Section becomes a sub-heading."""


Block = Paragraph | BulletList | Table | Code | Section


@dataclass(frozen=True)
class Document:
    title: Inline
    header: list[Block]
    """Blocks under the title, before the first section."""
    sections: list[Section]
