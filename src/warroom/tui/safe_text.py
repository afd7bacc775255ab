"""Makes user text safe to draw: no Rich markup, no terminal control codes, no bidi overrides.

Every piece of text that came from a person or the server (titles, entries, names, reasons,
error messages) passes through here before it reaches a widget. Text is shown literally: `[red]`
stays the five characters `[red]`, and an escape sequence shows as visible symbols instead of
reaching the terminal.
"""

from __future__ import annotations

from textual.markup import escape as escape_markup

_BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]  # LRE, RLE, PDF, LRO, RLO
    + [chr(c) for c in range(0x2066, 0x206A)]  # LRI, RLI, FSI, PDI
    + ["\u200e", "\u200f", "\u061c"]  # LRM, RLM, ALM
)
"""Characters that reorder the text around them; dropped, because they can make an entry read
differently from what was stored (the "Trojan source" trick)."""

_TAB_WIDTH = 4


def _control_picture(char: str) -> str:
    """The visible stand-in for a control character: U+241B for ESC, U+2421 for DEL, U+FFFD for
    C1 codes (which some terminals treat as escape introducers)."""
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def _build_table(keep_newlines: bool) -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]:
        table[code] = _control_picture(chr(code))
    table[ord("\t")] = " " * _TAB_WIDTH
    # A line break in a one-line field becomes a visible return symbol so two entries cannot
    # pretend to be one and one cannot pretend to be two.
    table[ord("\n")] = "\n" if keep_newlines else " \u23ce "
    # A lone carriage return (old Mac text, a pasted progress line) is a line break too: dropped,
    # it glued two lines into one word; passed on, it would move the terminal's cursor. `clean`
    # first makes each CR LF pair one break, so Windows text does not get blank lines.
    table[ord("\r")] = "\n" if keep_newlines else " \u23ce "
    for char in _BIDI_CONTROLS:
        table[ord(char)] = None
    return table


_ONE_LINE = _build_table(keep_newlines=False)
_MULTI_LINE = _build_table(keep_newlines=True)


def clean(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control code replaced by a visible symbol and bidi controls removed.

    Args:
        text: Text as a person typed it or the server sent it.
        keep_newlines: Keep line breaks (for multi-line panes); otherwise they show as U+23CE.

    Returns:
        Text that is safe to put in a `rich.text.Text` and draw.
    """
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return text.translate(_MULTI_LINE if keep_newlines else _ONE_LINE)


def for_markup(text: str) -> str:
    """User text cleaned and escaped for the few Textual APIs that only take markup strings
    (command palette help lines)."""
    return escape_markup(clean(text))
