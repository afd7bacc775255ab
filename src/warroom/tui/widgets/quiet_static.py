"""A `Static` that skips updates with unchanged text, so event bursts do not re-lay out panes."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from warroom.tui.widgets.one_layout_pass import OneLayoutPass


class QuietStatic(Static, OneLayoutPass):
    """Static text that repaints only when its text really changes, and asks for a layout pass
    only when its size may follow its text (and then for one, not two: `OneLayoutPass`)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown: Text | None = None

    def show(self, text: Text) -> None:
        """Show `text` unless it is exactly what is shown already (characters and styles)."""
        if text != self._shown:
            self._shown = text
            self.update(text, layout=not self.sized_by_styles)

    @property
    def sized_by_styles(self) -> bool:
        """Whether neither the width nor the height is `auto` (unset fills the space given, as
        cells, fractions and percentages do), so no text can change the size. A layout pass
        arranges the whole screen again; a replay's every step changes its bar and the header's
        clock."""
        width, height = self.styles.width, self.styles.height
        return not any(scalar is not None and scalar.is_auto for scalar in (width, height))
