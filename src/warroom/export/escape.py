"""Escaping of user text for the exported post-mortem: user text is data, never document syntax.

Every string a person typed (titles, entries, reasons, tags, names) goes through these functions
before it is placed in Markdown; the HTML renderer uses `show_controls` and `html.escape`.
Markdown gets Markdown escapes (`\\<`), never HTML entities: the file is read as plain text too,
where `&lt;` would be noise, and a backslash escape is just as inert when it is rendered.
"""

from __future__ import annotations

import re

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""Bidi marks, embeddings, overrides and isolates: they can reorder what a reader sees
("Trojan Source"), so they are never passed through."""

# C0 controls except tab and line feed, DEL, C1 controls, and the bidi controls.
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}]")
_LINE_ENDING = re.compile("\r\n|[\r\u2028\u2029]")
# Characters that open inline syntax anywhere on a line: code, emphasis, links, tables, strike,
# and raw HTML or autolinks (`<`); an `&` only where it would start an entity reference. A `>`
# means nothing inside a line, so "SEV1 -> SEV2" stays as typed.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]|~<]|&(?=#?\w+;))")
# Line starts that open a block: heading, quote, list items, setext underline, ordered list.
_BLOCK_START = re.compile(r"^([ \t]*)(?:([#>+=-])|(\d{1,9})([.)]))")


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control pictures": ESC shows as ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\u27e8U+{code:04X}\u27e9"  # ⟨U+202E⟩: C1 and bidi controls have no picture


def normalize_newlines(text: str) -> str:
    """Every line ending (CRLF, CR, U+2028, U+2029) as a plain `\\n`."""
    return _LINE_ENDING.sub("\n", text)


def show_controls(text: str) -> str:
    """Replace control characters with visible stand-ins; tabs and line feeds are kept.

    A terminal escape sequence such as `ESC [31m` becomes the harmless text `␛[31m`, so the
    reader sees that it was there instead of having their terminal or viewer act on it.
    """
    return _CONTROL.sub(lambda m: _visible(m.group()), normalize_newlines(text))


def _escape_chars(line: str) -> str:
    return _INLINE_SPECIAL.sub(r"\\\1", line)


def _escape_line(line: str) -> str:
    line = _escape_chars(line)
    return _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[2] else f"{m[1]}{m[3]}\\{m[4]}", line)


def escape_inline(text: str, *, line_break: str = "\\\n") -> str:
    """User text as Markdown inline content that renders as exactly the text typed.

    Controls are made visible, inline syntax and HTML are backslash-escaped, and each line is
    kept from starting a block (heading, list, quote). Line breaks become `line_break`: a hard
    break by default; a list item passes one followed by its indent.
    """
    lines = show_controls(text).split("\n")
    # Leading whitespace on a continuation line means nothing in Markdown except an indented code
    # block, so it is dropped rather than escaped.
    escaped = [_escape_line(lines[0]), *(_escape_line(line.lstrip()) for line in lines[1:])]
    return line_break.join(escaped)


def escape_cell(text: str) -> str:
    """User text for one cell of a Markdown table: escaped, with line breaks as `<br>`.

    A cell holds only inline content, so a `#` or `1.` at the start of a line in it is plain text.
    """
    return "<br>".join(_escape_chars(line) for line in show_controls(text).split("\n"))


def code_fence(text: str) -> str:
    """A backtick fence longer than any backtick run in `text`, so the text cannot close it."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    return "`" * max(3, longest + 1)
