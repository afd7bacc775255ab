"""Unit tests for the one helper that makes user text safe to draw."""

from __future__ import annotations

from warroom.tui.safe_text import clean, for_markup

HOSTILE = (
    "[red]alarm[/red] [link=http://x]y[/link] "
    "\x1b[2J\x1b[31mred\x1b[0m "
    "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\ "
    "\x9b31m \x07 \x7f "
    "\u202eevil\u202c \u2066iso\u2069 \u200f"
)


def test_clean_leaves_no_control_or_bidi_character() -> None:
    cleaned = clean(HOSTILE)
    for char in cleaned:
        code = ord(char)
        assert code >= 0x20, repr(char)
        assert not 0x7F <= code < 0xA0, repr(char)
        assert not 0x202A <= code <= 0x202E, repr(char)
        assert not 0x2066 <= code <= 0x2069, repr(char)
    assert "\u241b[31mred" in cleaned  # ESC shows as a visible symbol, the rest stays readable
    assert "[red]alarm[/red]" in cleaned


def test_line_breaks_are_visible_in_one_line_fields_and_kept_in_multi_line_panes() -> None:
    assert clean("a\nb") == "a \u23ce b"
    assert clean("a\r\nb\tc", keep_newlines=True) == "a\nb    c"


def test_a_lone_carriage_return_is_a_line_break_never_lost_nor_sent_to_the_terminal() -> None:
    # Dropped, "step 1\rstep 2" read "step 1step 2"; sent raw, it moves the cursor back.
    assert clean("step 1\rstep 2", keep_newlines=True) == "step 1\nstep 2"
    assert clean("step 1\rstep 2") == "step 1 \u23ce step 2"
    # A CR LF pair is one break, in both kinds of field; CR CR LF is two.
    assert clean("a\r\nb") == "a \u23ce b"
    assert clean("a\r\r\nb", keep_newlines=True) == "a\n\nb"


def test_plain_text_is_unchanged() -> None:
    assert clean("Roll back payments-api to v2.3.1 (@carol) — 50%") == (
        "Roll back payments-api to v2.3.1 (@carol) — 50%"
    )


def test_for_markup_survives_textual_markup_parsing() -> None:
    from textual.content import Content

    assert Content.from_markup(for_markup("[red]x[/red]")).plain == "[red]x[/red]"
