"""The mitigation checklist: items with state, owner and who changed them when; keys tick them,
add items and name their owners."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive, reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from warroom.domain.checklist import ChecklistItem, ItemState
from warroom.domain.incident import IncidentState
from warroom.tui.commands_table import Scope, bindings_for, command_for, is_offered
from warroom.tui.safe_text import clean
from warroom.tui.time_format import clock_time

STATE_MARKS = {
    ItemState.TODO: "○ to do",
    ItemState.IN_PROGRESS: "◐ in progress",
    ItemState.DONE: "● done",
    ItemState.NOT_APPLICABLE: "- n/a",
}

_NEXT_STATE = {ItemState.TODO: ItemState.IN_PROGRESS, ItemState.IN_PROGRESS: ItemState.DONE}


def target_state(action: str, current: ItemState) -> ItemState | None:
    """The state an action asks for from `current`, or None when it would change nothing."""
    wanted = {
        "advance_checklist_item": _NEXT_STATE.get(current),
        "tick_checklist_item": ItemState.DONE,
        "reopen_checklist_item": ItemState.TODO,
        "skip_checklist_item": ItemState.NOT_APPLICABLE,
    }.get(action)
    return wanted if wanted is not None and wanted is not current else None


_Row = tuple[int, ItemState, str | None, str | None, datetime | None, str]
"""What a row shows of an item: id, state, owner, who changed it and when, title."""


def _row_of(item: ChecklistItem) -> _Row:
    return item.id, item.state, item.owner, item.changed_by, item.changed_at, item.title


COLUMN_WIDTHS = (13, 10, 14, None)
"""The state, owner, changed and title columns' widths; the title takes what is left, and goes
last because it is the one column that may be cut at the pane's edge."""
_HEADER = (Text("State"), Text("Owner"), Text("Changed"), Text("Mitigation"))


class ChecklistPane(ScrollView, can_focus=True):
    """One row per mitigation under a fixed header row; the IC and TLs change the selected one
    with the keyboard.

    A line-API widget (as Textual's own `Log` and `DataTable` are): it holds a reference to the
    state's item list and draws only the rows on screen, each from its item when drawn, so a
    replay's far jump costs what the pane shows, not how many items differ.
    """

    BINDINGS = [
        # The arrows and paging keys of a table, beside the command table's j/k and edits.
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first_item", "First", show=False),
        Binding("end", "last_item", "Last", show=False),
        *bindings_for(Scope.CHECKLIST),
    ]

    COMPONENT_CLASSES = {
        "checklist--header",
        "checklist--cursor",
        "checklist--even-row",
        "checklist--odd-row",
    }

    # The look of Textual 8's `DataTable` with zebra stripes and a row cursor, which this pane
    # was: the same theme variables for the same parts.
    DEFAULT_CSS = """
    ChecklistPane {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .checklist--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .checklist--header { background-tint: $foreground 5%; }
        }
        &:dark > .checklist--even-row { background: $surface-darken-1 40%; }
        & > .checklist--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .checklist--header { background: ansi_bright_blue; color: ansi_default; }
        & > .checklist--even-row { background: $surface-lighten-1 50%; }
        & > .checklist--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    @dataclass
    class ItemStateRequested(Message):
        """The user asked to move an item to `state`, having last seen it in `expected`."""

        item_id: int
        state: ItemState
        expected: ItemState

    @dataclass
    class ItemAddRequested(Message):
        """The user asked to add a mitigation of their own."""

    @dataclass
    class OwnerChangeRequested(Message):
        """The user asked to name (or clear) the owner of `item`."""

        item: ChecklistItem

    state: Reactive[IncidentState | None] = reactive(None, always_update=True, repaint=False)
    """The incident shown; None while it loads. No repaint of the whole pane on every step:
    `watch_state` redraws it when a row on screen or the number of rows changes."""
    me: Reactive[str | None] = reactive(None, repaint=False)
    """The user this console is signed in as; decides which keys are offered."""

    header_height = 1
    """The column titles' row, which stays put while the rows scroll under it."""

    def __init__(self, zone: tzinfo | None) -> None:
        super().__init__(id="checklist-pane", classes="pane")
        self.border_title = "Mitigation checklist"
        self._zone = zone
        self._items: Sequence[ChecklistItem] = ()
        """The state's own item list, not a copy."""
        self._cursor = 0
        self._sized_for = 0
        """The number of rows at the last sizing of the scrollable area."""
        self._lines: dict[int, tuple[_Row, bool, Strip]] = {}
        """Drawn rows by row number, each with what it showed and whether it was the cursor's,
        so a row is drawn again only when its item or the cursor changed. Cleared when the
        width or the styles change."""
        self._header: Strip | None = None
        self._styles: tuple[Style, ...] | None = None
        """The header's, even rows', odd rows' and cursor's styles, looked up once per look."""
        self._width = 0
        """The width the cached lines were drawn at."""

    # --- what is shown --------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._items)

    @property
    def cursor_row(self) -> int:
        """The selected row; 0 when the checklist is empty."""
        return self._cursor

    def get_row_at(self, row: int) -> tuple[Text, Text, Text, Text]:
        """The state, owner, changed and title cells the row shows."""
        return self._cells(_row_of(self._items[row]))

    def watch_state(self, state: IncidentState | None) -> None:
        items = state.checklist if state is not None else []
        self._items = items
        # Compared with the count last sized for, not the list's length before: the live
        # client's projection appends items to the same list in place.
        if len(items) != self._sized_for:
            self._size_to_rows()
            self._move_cursor(self._cursor, scroll=False)
            self.refresh()
        elif self._rows_on_screen_differ():
            self.refresh()
        else:
            return  # a burst of timeline events left what the pane shows as it was
        self._refresh_keys()

    def _rows_on_screen_differ(self) -> bool:
        lines = self._lines
        items = self._items
        for row in self._rows_on_screen():
            drawn = lines.get(row)
            if drawn is None or drawn[0] != _row_of(items[row]):
                return True
        return False

    def _rows_on_screen(self) -> range:
        top = round(self.scroll_y)
        shown = max(0, self.scrollable_content_region.height - self.header_height)
        return range(top, min(top + shown, len(self._items)))

    def _size_to_rows(self) -> None:
        self._sized_for = len(self._items)
        self.virtual_size = Size(
            self.scrollable_content_region.width, self.header_height + len(self._items)
        )

    @property
    def selected_item(self) -> ChecklistItem | None:
        items = self._items
        return items[self._cursor] if 0 <= self._cursor < len(items) else None

    # --- drawing ----------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._forget_lines()

    def on_resize(self) -> None:
        self._forget_lines()
        self._size_to_rows()

    def on_focus(self) -> None:
        self._forget_lines()  # the cursor row's and the header's look follow the focus
        self.refresh()
        self._refresh_keys()

    def on_blur(self) -> None:
        self._forget_lines()
        self.refresh()

    def _forget_lines(self) -> None:
        self._lines.clear()
        self._header = None
        self._styles = None

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._width = width
            self._forget_lines()
        if y < self.header_height:
            if self._header is None:
                self._header = self._draw(_HEADER, self._resolve_styles()[0], width)
            return self._header
        row = round(self.scroll_y) + y - self.header_height
        if not 0 <= row < len(self._items):
            return Strip.blank(width, self.rich_style)
        shows = _row_of(self._items[row])
        cursor = row == self._cursor
        drawn = self._lines.get(row)
        if drawn is not None and drawn[0] == shows and drawn[1] is cursor:
            return drawn[2]
        _, even, odd, cursor_style = self._resolve_styles()
        style = cursor_style if cursor else (odd if row % 2 else even)
        line = self._draw(self._cells(shows), style, width)
        self._lines[row] = (shows, cursor, line)
        return line

    def _draw(self, cells: Sequence[Text], style: Style, width: int) -> Strip:
        """One line of the cells in their columns, each padded by a space either side and cut
        with an ellipsis at its width; the last column takes what is left."""
        line = Text(no_wrap=True, end="")
        left = width
        for cell, column_width in zip(cells, COLUMN_WIDTHS, strict=True):
            room = max(0, min(column_width or left - 2, left - 2))
            cell = cell.copy()
            cell.truncate(room, overflow="ellipsis", pad=True)
            line.append(" ")
            line.append_text(cell)
            line.append(" ")
            left -= room + 2
            if left <= 0:
                break
        line.truncate(width, pad=True)
        # A span, not the text's base style: Rich renders a text's base style only through
        # the console's own rendering, and the cells' styles go over the row's.
        line.stylize_before(self.rich_style + style)
        segments = list(line.render(self.app.console))
        return Strip(segments).crop_extend(0, width, None)

    def _resolve_styles(self) -> tuple[Style, ...]:
        if self._styles is None:
            self._styles = tuple(
                self.get_component_rich_style(name)
                for name in (
                    "checklist--header",
                    "checklist--even-row",
                    "checklist--odd-row",
                    "checklist--cursor",
                )
            )
        return self._styles

    def _cells(self, row: _Row) -> tuple[Text, Text, Text, Text]:
        _, item_state, owner, changed_by, changed_at, title = row
        state = Text(STATE_MARKS[item_state], style="bold" if item_state is ItemState.DONE else "")
        owner_cell = Text(clean(owner) if owner else "—")
        if changed_by is not None and changed_at is not None:
            when = clock_time(changed_at, self._zone, seconds=False)
            changed = Text(f"{clean(changed_by)} {when}")
        else:
            changed = Text("—", style="dim")
        return state, owner_cell, changed, Text(clean(title))

    # --- the cursor -------------------------------------------------------------------------

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        """Select `row` (kept within the rows) and scroll it into view."""
        self._move_cursor(row, scroll=True, animate=animate)

    def _move_cursor(self, row: int, *, scroll: bool, animate: bool = False) -> None:
        row = max(0, min(row, len(self._items) - 1))
        if row != self._cursor:
            old, self._cursor = self._cursor, row
            self._refresh_row(old)
            self._refresh_row(row)
            self._refresh_keys()
        if scroll:
            self._scroll_into_view(row, animate=animate)

    def _refresh_row(self, row: int) -> None:
        y = row - round(self.scroll_y) + self.header_height
        if self.header_height <= y < self.scrollable_content_region.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_into_view(self, row: int, *, animate: bool = False) -> None:
        top = round(self.scroll_y)
        shown = max(1, self.scrollable_content_region.height - self.header_height)
        if row < top:
            self.scroll_to(y=row, animate=animate, immediate=True)
        elif row >= top + shown:
            self.scroll_to(y=row - shown + 1, animate=animate, immediate=True)

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - self.header_height - 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self._cursor - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(row=self._cursor + self._page())

    def action_first_item(self) -> None:
        self.move_cursor(row=0)

    def action_last_item(self) -> None:
        self.move_cursor(row=len(self._items) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= self.header_height:
            self.move_cursor(row=round(self.scroll_y) + offset.y - self.header_height)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        spec = command_for(Scope.CHECKLIST, action)
        if spec is None or action in ("cursor_up", "cursor_down"):
            return True
        if not is_offered(spec, self.state, self.me):
            return False
        if action == "add_checklist_item":
            return True  # needs no selection: an empty checklist can be started
        item = self.selected_item
        if item is None:
            return False
        if action == "set_checklist_item_owner":
            return True
        # Offered but meaningless for this item (already done): shown dimmed, not hidden.
        return True if target_state(action, item.state) is not None else None

    def action_advance_checklist_item(self) -> None:
        self._request("advance_checklist_item")

    def action_tick_checklist_item(self) -> None:
        self._request("tick_checklist_item")

    def action_reopen_checklist_item(self) -> None:
        self._request("reopen_checklist_item")

    def action_skip_checklist_item(self) -> None:
        self._request("skip_checklist_item")

    def action_add_checklist_item(self) -> None:
        self.post_message(self.ItemAddRequested())

    def action_set_checklist_item_owner(self) -> None:
        item = self.selected_item
        if item is not None:
            self.post_message(self.OwnerChangeRequested(item))

    def _request(self, action: str) -> None:
        item = self.selected_item
        if item is None:
            return
        wanted = target_state(action, item.state)
        if wanted is not None:
            self.post_message(self.ItemStateRequested(item.id, wanted, expected=item.state))

    # --- keys -------------------------------------------------------------------------------

    def watch_me(self) -> None:
        self._refresh_keys()

    def _refresh_keys(self) -> None:
        # The footer offers this pane's keys only while it has focus (focusing it refreshes
        # them), and refreshing rebuilds the footer: a replay's every step would pay for it.
        if self.has_focus:
            self.refresh_bindings()
