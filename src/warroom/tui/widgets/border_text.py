"""Setting a pane's border title or subtitle only when it changes: Textual redraws the whole
widget (every line of a pane, its children aside) on each set, even to the same text, and the
panes set theirs on every step of a replay or a burst of events."""

from __future__ import annotations

from textual.widget import Widget


def set_border_title(widget: Widget, title: str) -> None:
    """Give `widget` this border title (our own words, parsed as markup) if it has another."""
    if widget.border_title != title:
        widget.border_title = title


def set_border_subtitle(widget: Widget, subtitle: str) -> None:
    """Give `widget` this border subtitle (our own words, parsed as markup) if it has another."""
    if widget.border_subtitle != subtitle:
        widget.border_subtitle = subtitle
