"""A one-line `Static` of separate parts that draws as many whole parts as fit its width.

Cutting the line at the edge left a stray "m…" or a lone "…" after the last part that fitted
(at 80 columns the header's second line has under thirty cells): a part is shown whole or not
at all. The widget's content is still the whole line, for tooltips and tests.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import RenderResult

from warroom.tui.widgets.quiet_static import QuietStatic


class PartsLine(QuietStatic):
    """Parts in order, each after its own separator; drawn are those that fit whole."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._parts: tuple[tuple[Text, Text], ...] = ()
        self._short: tuple[tuple[Text, Text], ...] = ()

    def show_parts(
        self, parts: Sequence[tuple[Text, Text]], short: Sequence[tuple[Text, Text]] = ()
    ) -> None:
        """Show `(separator, part)` pairs; the first one's separator is usually empty. Where
        not all of them fit, `short` (the same parts in fewer words), if given, is drawn."""
        self._parts = tuple(parts)
        self._short = tuple(short)
        whole = Text(no_wrap=True)
        for separator, part in self._parts:
            whole.append_text(separator)
            whole.append_text(part)
        self.show(whole)

    def render(self) -> RenderResult:
        width = self.size.width
        whole = sum(separator.cell_len + part.cell_len for separator, part in self._parts)
        parts = self._short if self._short and whole > width else self._parts
        line = Text(no_wrap=True)
        for separator, part in parts:
            # A part that does not fit is left out; a shorter one after it may still fit (the
            # IC's name after a long channel name).
            if line.cell_len + separator.cell_len + part.cell_len <= width:
                line.append_text(separator if line else Text())
                line.append_text(part)
        return line
