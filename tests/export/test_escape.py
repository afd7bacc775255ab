"""The escaping functions on their own: user text comes out as text, never as syntax."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from warroom.export.escape import (
    code_fence,
    escape_cell,
    escape_inline,
    show_controls,
)

from .parsing import md_tables, md_tokens
from .scripted import HOSTILE


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred", "\u241b[31mred"),
        ("bell\x07", "bell\u2407"),
        ("nul\x00", "nul\u2400"),
        ("del\x7f", "del\u2421"),
        ("csi\x9b", "csi\u27e8U+009B\u27e9"),
        ("rlo\u202eevil", "rlo\u27e8U+202E\u27e9evil"),
        ("isolate\u2066x\u2069", "isolate\u27e8U+2066\u27e9x\u27e8U+2069\u27e9"),
        ("tab\tand\nline", "tab\tand\nline"),
        ("crlf\r\nand\rcr", "crlf\nand\ncr"),
        ("plain caf\u00e9 \u2192 ok", "plain caf\u00e9 \u2192 ok"),
    ],
)
def test_show_controls_makes_controls_visible(raw: str, shown: str) -> None:
    assert show_controls(raw) == shown


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("# Heading", "\\# Heading"),
        ("   ## indented", "   \\## indented"),
        ("1. one", "1\\. one"),
        ("2) two", "2\\) two"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("=====", "\\====="),
        ("> quote", "\\> quote"),
        ("<script>alert(1)</script>", "\\<script>alert(1)\\</script>"),
        ("<http://evil>", "\\<http://evil>"),
        ("SEV1 -> SEV2", "SEV1 -> SEV2"),
        ("[red]x[/red]", "\\[red\\]x\\[/red\\]"),
        ("![img](http://evil)", "!\\[img\\](http://evil)"),
        ("*a* _b_ `c` ~~d~~", "\\*a\\* \\_b\\_ \\`c\\` \\~\\~d\\~\\~"),
        ("a | b", "a \\| b"),
        ("back\\slash", "back\\\\slash"),
        ("&amp; stays", "\\&amp; stays"),
        ("&#60; &#x3C; too", "\\&#60; \\&#x3C; too"),
        ("R&D & co", "R&D & co"),
        ("v1.2 - ok # mid", "v1.2 - ok # mid"),
    ],
)
def test_escape_inline(raw: str, escaped: str) -> None:
    assert escape_inline(raw) == escaped


def test_escape_inline_keeps_every_line_from_starting_a_block() -> None:
    text = "first\n# heading\n   - item\n> quote"
    assert escape_inline(text) == "first\\\n\\# heading\\\n\\- item\\\n\\> quote"
    assert escape_inline(text, line_break="\\\n  ").count("\n  ") == 3


def test_escape_cell_keeps_the_row_on_one_line() -> None:
    assert escape_cell("a | b\nc") == "a \\| b<br>c"
    assert "\n" not in escape_cell("x\r\ny\u2028z")


@pytest.mark.parametrize(
    ("text", "fence"), [("plain", "```"), ("a ``` b", "````"), ("`````", "``````")]
)
def test_code_fence_is_longer_than_any_backtick_run(text: str, fence: str) -> None:
    assert code_fence(text) == fence


# Mostly the characters Markdown gives meaning to, so the search reaches the interesting cases.
_MARKUP_TEXT = st.text(alphabet=st.sampled_from(list("#>-+=*_`[]()!|~<&;\\\n\r\t 1.)aZ\x1b\u202e")))
_TEXT = st.one_of(st.text(min_size=1), _MARKUP_TEXT)


def _words(text: str) -> str:
    return re.sub(r"\s+", "", text)


@given(_TEXT)
@example(HOSTILE)
def test_any_text_parses_as_one_paragraph_of_the_same_text(text: str) -> None:
    text = text.strip()
    if not _words(show_controls(text)):
        return
    tokens = md_tokens(escape_inline(text))
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    children = tokens[1].children or []
    assert {c.type for c in children} <= {"text", "softbreak", "hardbreak"}
    rendered = "".join(c.content for c in children if c.type == "text")
    assert _words(rendered) == _words(show_controls(text))


@given(_TEXT)
@example(HOSTILE)
def test_any_text_stays_in_its_table_cell(text: str) -> None:
    table = f"| a | b |\n| --- | --- |\n| {escape_cell(text.strip())} | end |\n"
    tables = md_tables(table)
    assert len(tables) == 1
    assert [len(row) for row in tables[0]] == [2, 2]
    assert tables[0][1][1] == "end"
