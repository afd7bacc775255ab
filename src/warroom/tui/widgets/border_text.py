"""Setting a pane's border title or subtitle: only when it changes, and redrawing only the
border row it sits on.

Textual (8) redraws the whole widget on each set of a border title or subtitle, even to the same
text: every line of a pane (its children aside), its 35-line border for the timeline pane, whose
title counts the entries and so changes on every far jump of a replay. The title is kept where
Textual's own setter keeps it, and only the row it is drawn on is marked for redrawing.
`tests/tui/test_border_text.py` fails if Textual stops keeping it there or drawing it from there.
"""

from __future__ import annotations

from textual.geometry import Region
from textual.widget import Widget


def set_border_title(widget: Widget, title: str) -> None:
    """Give `widget` this border title (our own words, parsed as markup) if it has another."""
    if widget.border_title != title:
        _set_border_text(widget, title, top=True)


def set_border_subtitle(widget: Widget, subtitle: str) -> None:
    """Give `widget` this border subtitle (our own words, parsed as markup) if it has another."""
    if widget.border_subtitle != subtitle:
        _set_border_text(widget, subtitle, top=False)


def _set_border_text(widget: Widget, text: str, *, top: bool) -> None:
    width, height = widget.outer_size
    if not (widget.is_mounted and text and width and height):
        # Before the first layout there is nothing drawn to spare; and clearing a title is rare.
        if top:
            widget.border_title = text
        else:
            widget.border_subtitle = text
        return
    # As Textual's `_BorderTitle` setter parses it, then stored where the styles cache reads it
    # on every draw of a border row (`StylesCache.render_widget`).
    parsed = widget.render_str(text).expand_tabs(4).split()[0]
    setattr(widget, "_border_title" if top else "_border_subtitle", parsed)
    # `refresh` takes regions relative to the content; the border row lies outside it.
    left, above = widget.content_offset
    row = Region(-left, -above if top else height - 1 - above, width, 1)
    widget.refresh(row)
