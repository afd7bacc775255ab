"""A scroll bar whose thumb fills whole cells: Textual draws the thumb's ends with eighth-block
glyphs, which on a dialog's plain track read as stray underscores ("▂▂" beside a line of help)
rather than as a scroll bar, and which projectors and some terminal fonts draw badly."""

from __future__ import annotations

from typing import ClassVar

from textual.scrollbar import ScrollBarRender
from textual.widget import Widget


class WholeCellScrollBarRender(ScrollBarRender):
    """Blank glyphs for the thumb's partial ends: Textual skips a blank one, so the thumb is
    drawn in whole cells of its colour on the track's."""

    VERTICAL_BARS: ClassVar[list[str]] = [" "] * len(ScrollBarRender.VERTICAL_BARS)
    HORIZONTAL_BARS: ClassVar[list[str]] = [" "] * len(ScrollBarRender.HORIZONTAL_BARS)


def draw_scroll_bars_in_whole_cells(widget: Widget) -> None:
    """Give `widget`'s scroll bars (both, whichever it shows) whole-cell thumbs."""
    # Per scroll bar, as Textual's ScrollBar docs show; typed as a ClassVar all the same.
    widget.vertical_scrollbar.renderer = WholeCellScrollBarRender  # type: ignore[misc]
    widget.horizontal_scrollbar.renderer = WholeCellScrollBarRender  # type: ignore[misc]
