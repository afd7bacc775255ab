"""A `Static` that skips updates with unchanged text, so event bursts do not re-lay out panes."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class QuietStatic(Static):
    """Static text that repaints (and re-lays out) only when its text really changes."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown: Text | None = None

    def show(self, text: Text) -> None:
        """Show `text` unless it is exactly what is shown already (characters and styles)."""
        if text != self._shown:
            self._shown = text
            self.update(text)
