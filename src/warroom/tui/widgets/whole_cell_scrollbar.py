"""A scroll bar whose thumb fills whole cells: Textual draws the thumb's ends with eighth-block
glyphs, which on a dialog's plain track read as stray underscores ("▂▂" beside a line of help)
rather than as a scroll bar."""

from __future__ import annotations

from typing import ClassVar

from textual.scrollbar import ScrollBarRender


class WholeCellScrollBarRender(ScrollBarRender):
    """Blank glyphs for the thumb's partial ends: Textual skips a blank one, so the thumb is
    drawn in whole cells of its colour on the track's."""

    VERTICAL_BARS: ClassVar[list[str]] = [" "] * len(ScrollBarRender.VERTICAL_BARS)
    HORIZONTAL_BARS: ClassVar[list[str]] = [" "] * len(ScrollBarRender.HORIZONTAL_BARS)
