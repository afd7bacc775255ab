"""Reads exported documents back with real parsers, so tests check structure, not substrings."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt
from markdown_it.token import Token

# markdown-it-py comes with rich; CommonMark plus the two GitHub extensions the export uses.
_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])

VOID = frozenset({"meta", "br", "input", "hr", "img", "link"})


def md_tokens(markdown: str) -> list[Token]:
    return _MD.parse(markdown)


def md_headings(markdown: str) -> list[tuple[int, str]]:
    """(level, text) of every heading, in order."""
    tokens = md_tokens(markdown)
    return [
        (int(tok.tag[1]), tokens[i + 1].content)
        for i, tok in enumerate(tokens)
        if tok.type == "heading_open"
    ]


def lines_outside_fences(markdown: str) -> list[str]:
    """Physical lines that are not inside a fenced code block."""
    lines, fence = [], None
    for line in markdown.split("\n"):
        if fence is None and (m := re.match(r"^(`{3,})", line)):
            fence = m.group(1)
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None:
            lines.append(line)
    return lines


def md_tables(markdown: str) -> list[list[list[str]]]:
    """Every table as rows of cell source text (header row first)."""
    tables: list[list[list[str]]] = []
    tokens = md_tokens(markdown)
    for i, tok in enumerate(tokens):
        if tok.type == "table_open":
            tables.append([])
        elif tok.type == "tr_open":
            tables[-1].append([])
        elif tok.type in ("th_open", "td_open"):
            tables[-1][-1].append(tokens[i + 1].content)
    return tables


def inline_children(markdown: str) -> list[Token]:
    """Every inline token of the document, flattened."""
    return [child for tok in md_tokens(markdown) for child in (tok.children or [])]


class TagChecker(HTMLParser):
    """Collects tags and text, and fails on a closing tag that does not match the open one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_html(page: str) -> TagChecker:
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    return checker
