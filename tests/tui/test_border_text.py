"""A pane's border title and subtitle, set through `border_text`, read and draw as Textual's own
setter makes them, and redraw only their border row: this fails if Textual (8) stops keeping a
title where `border_text` puts it, or stops drawing it from there."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import Static

from warroom.tui.widgets.border_text import set_border_subtitle, set_border_title


class CountedPane(Static):
    """A bordered pane that counts the content lines it draws."""

    DEFAULT_CSS = "CountedPane { border: round white; height: 8; width: 40; }"

    def __init__(self, pane_id: str) -> None:
        super().__init__(Text("\n".join(f"line {n}" for n in range(6))), id=pane_id)
        self.lines_drawn = 0

    def render_line(self, y: int) -> Strip:
        self.lines_drawn += 1
        return super().render_line(y)


class TwoPanes(App[None]):
    def compose(self) -> ComposeResult:
        yield CountedPane("ours")
        yield CountedPane("textuals")


def _row(pane: CountedPane, y: int) -> str:
    return pane.render_lines(Region(0, y, pane.outer_size.width, 1))[0].text


async def test_a_title_and_subtitle_read_and_draw_as_textuals_own_setter_makes_them() -> None:
    app = TwoPanes()
    async with app.run_test() as pilot:
        ours = app.query_one("#ours", CountedPane)
        textuals = app.query_one("#textuals", CountedPane)
        for pane in (ours, textuals):
            pane.border_title, pane.border_subtitle = "Timeline", "read 10:00"
        await pilot.pause()
        set_border_title(ours, "Timeline · 1,204 entries")
        set_border_subtitle(ours, "↓ 3 new below · End follows")
        textuals.border_title = "Timeline · 1,204 entries"
        textuals.border_subtitle = "↓ 3 new below · End follows"
        await pilot.pause()
        assert ours.border_title == textuals.border_title == "Timeline · 1,204 entries"
        assert ours.border_subtitle == textuals.border_subtitle
        last = ours.outer_size.height - 1
        assert _row(ours, 0) == _row(textuals, 0)
        assert "1,204 entries" in _row(ours, 0)
        assert _row(ours, last) == _row(textuals, last)
        assert "3 new below" in _row(ours, last)


async def test_a_new_title_redraws_its_border_row_and_no_line_of_the_content() -> None:
    app = TwoPanes()
    async with app.run_test() as pilot:
        pane = app.query_one("#ours", CountedPane)
        set_border_title(pane, "Timeline · 1 entry")
        await pilot.pause()
        pane.lines_drawn = 0
        set_border_title(pane, "Timeline · 2 entries")
        set_border_subtitle(pane, "pinned 10:02")
        await pilot.pause()
        assert pane.lines_drawn == 0
        assert "2 entries" in _row(pane, 0)
        assert "pinned 10:02" in _row(pane, pane.outer_size.height - 1)
