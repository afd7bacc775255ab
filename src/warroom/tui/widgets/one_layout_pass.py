"""A widget that a layout pass sizes once, without asking for a second pass."""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget


class OneLayoutPass(Widget):
    """Takes the size a layout pass gives it without asking for another pass.

    Textual (8) sets a widget's new virtual size during a layout pass through the `virtual_size`
    reactive, which asks for a layout pass of its own: a side pane whose text changed height
    made every replay jump arrange and paint the whole screen twice. The pass that measured the
    new size has already placed every widget by it, so the size is taken quietly, as Textual
    itself does for widgets scrolled into view. Scrollbars still follow (a change of whether one
    shows asks for its own pass).

    Mix it in after the widget class (`class QuietStatic(Static, OneLayoutPass)`): Textual's CSS
    type names follow each class's first base only, so listed first it hid `Static` from the
    stylesheet's `Static` rules (the header's one-line texts wrapped onto two lines, and the
    second line of the header, the overdue warning among it, was pushed out of sight).
    """

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)
