"""A scroll bar whose thumb fills whole cells: Textual draws the thumb's ends with eighth-block
glyphs, which on a dialog's plain track read as stray underscores ("▂▂" beside a line of help)
rather than as a scroll bar, and which projectors and some terminal fonts draw badly."""

from __future__ import annotations

from typing import ClassVar

from textual.scrollbar import ScrollBar, ScrollBarRender


class WholeCellScrollBarRender(ScrollBarRender):
    """Blank glyphs for the thumb's partial ends: Textual skips a blank one, so the thumb is
    drawn in whole cells of its colour on the track's."""

    VERTICAL_BARS: ClassVar[list[str]] = [" "] * len(ScrollBarRender.VERTICAL_BARS)
    HORIZONTAL_BARS: ClassVar[list[str]] = [" "] * len(ScrollBarRender.HORIZONTAL_BARS)


def draw_every_scroll_bar_in_whole_cells() -> None:
    """Give every scroll bar the console draws whole-cell thumbs: the panes', the dialogs' and
    the replay's alike, including any added later."""
    # The app-wide switch Textual's ScrollBar docs give; one console is one app per process.
    ScrollBar.renderer = WholeCellScrollBarRender
