"""The mitigation checklist: items with state, owner and who changed them when; keys tick them,
add items and name their owners."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.text import Text
from textual.message import Message
from textual.reactive import Reactive, reactive
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, Row, RowKey

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


COLUMN_FIELDS = (
    ("state", slice(1, 2)),
    ("owner", slice(2, 3)),
    ("changed", slice(3, 5)),
    ("title", slice(5, 6)),
)
"""The columns, in the order `_cells` gives their cells, with the fields of `_Row` each shows."""
COLUMN_KEYS = tuple(column for column, _ in COLUMN_FIELDS)


class ChecklistPane(DataTable[Text]):
    """One row per mitigation; the IC and TLs change the selected one with the keyboard."""

    BINDINGS = bindings_for(Scope.CHECKLIST)

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
    """The incident shown; None while it loads. No repaint of the whole table on every step:
    `watch_state` refreshes it when rows or cells change."""
    me: Reactive[str | None] = reactive(None, repaint=False)
    """The user this console is signed in as; decides which keys are offered."""

    def __init__(self, zone: tzinfo | None) -> None:
        super().__init__(id="checklist-pane", classes="pane", cursor_type="row", zebra_stripes=True)
        self.border_title = "Mitigation checklist"
        self._zone = zone
        self._rows: tuple[_Row, ...] = ()
        """What the rows show, item by item, as last filled in."""

    def on_mount(self) -> None:
        # The title goes last: it is the one column that may be cut at the pane's edge.
        self.add_column("State", key="state", width=13)
        self.add_column("Owner", key="owner", width=10)
        self.add_column("Changed", key="changed", width=14)
        self.add_column("Mitigation", key="title")

    def watch_state(self, state: IncidentState | None) -> None:
        if not self.columns:
            return  # not mounted yet; on_mount runs first, then data binding sets the state
        items = state.checklist if state is not None else []
        rows = tuple(map(_row_of, items))
        if rows == self._rows:
            return  # a burst of timeline events left the checklist as it was
        if not self._update_rows(items, rows):
            self._fill(items)
        self._rows = rows
        self._refresh_keys()

    def _update_rows(self, items: Sequence[ChecklistItem], rows: tuple[_Row, ...]) -> bool:
        """Change only the cells and rows that differ, so the cursor, the scroll position and
        the other rows' measurements stay; False (nothing done) when the items are not the shown
        ones with some changed and some added or taken off the end."""
        old = self._rows
        common = min(len(old), len(rows))
        if any(was[0] != now[0] for was, now in zip(old, rows, strict=False)):
            return False  # other items, or in another order: the replay of another incident
        changed: list[tuple[str, str, Text]] = []
        for was, now in zip(old, rows, strict=False):
            if was != now:
                key = str(now[0])
                cells = zip(COLUMN_FIELDS, self._cells(now), strict=True)
                changed.extend(
                    (key, column, cell)
                    for (column, fields), cell in cells
                    if was[fields] != now[fields]
                )
        self._replace_cells(changed)
        if len(old) > common:
            self._drop_rows_from(common)
        self._append_rows(items[common:])
        return True

    def _append_rows(self, items: Sequence[ChecklistItem]) -> None:
        """Add a row for each item at the end, as `add_row` does (Textual 8) for each without
        re-checking the cursor and refreshing the table per row: a replay's far jump forward
        adds hundreds. The first row of an empty table goes through `add_row`, which also
        highlights the cursor's row."""
        if not items:
            return
        if not self.row_count:
            self.add_row(*self._cells(_row_of(items[0])), key=str(items[0].id))
            items = items[1:]
        for item in items:
            key = RowKey(str(item.id))
            self._row_locations[key] = self.row_count
            cells = self._cells(_row_of(item))
            self._data[key] = {
                ColumnKey(c): cell for c, cell in zip(COLUMN_KEYS, cells, strict=True)
            }
            self.rows[key] = Row(key, 1)
            self._new_rows.add(key)
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        self._update_count += 1
        self.check_idle()

    def _replace_cells(self, cells: Sequence[tuple[str, str, Text]]) -> None:
        """Put each value in its (row, column) cell, as `update_cell` does (Textual 8) without
        a refresh of the whole table per cell: a replay's far jump changes hundreds of them."""
        if not cells:
            return
        for row, column, value in cells:
            self._data[RowKey(row)][ColumnKey(column)] = value
        self._update_count += 1
        self.refresh()

    def _drop_rows_from(self, count: int) -> None:
        """Take every row from number `count` on off the end of the table.

        `remove_row` renumbers every row left for each row it takes out, so a replay's jump back
        over hundreds of items cost more than the whole jump may; rows at the end leave the
        others' numbers as they are. This does what `remove_row` does (Textual 8) without the
        renumbering; the replay's pane tests check the table after it.
        """
        gone = [self._row_locations.get_key(n) for n in range(count, self.row_count)]
        for key in gone:
            if key is None:
                continue
            del self._row_locations[key]
            del self.rows[key]
            del self._data[key]
            self._new_rows.discard(key)
        self._updated_cells = {cell for cell in self._updated_cells if cell.row_key in self.rows}
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)

    def _fill(self, items: Sequence[ChecklistItem]) -> None:
        row = self.cursor_row
        self.clear()
        self._append_rows(items)
        if self.row_count:
            self.move_cursor(row=min(max(row, 0), self.row_count - 1), animate=False)

    def watch_me(self) -> None:
        self._refresh_keys()

    def on_data_table_row_highlighted(self) -> None:
        self._refresh_keys()

    def _refresh_keys(self) -> None:
        # The footer offers this pane's keys only while it has focus (focusing it refreshes
        # them), and refreshing rebuilds the footer: a replay's every step would pay for it.
        if self.has_focus:
            self.refresh_bindings()

    @property
    def selected_item(self) -> ChecklistItem | None:
        state = self.state
        if state is None or not self.row_count or not 0 <= self.cursor_row < len(state.checklist):
            return None
        return state.checklist[self.cursor_row]

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
