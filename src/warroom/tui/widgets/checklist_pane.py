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


COLUMN_KEYS = ("state", "owner", "changed", "title")
"""The columns, in the order `_cells` gives their cells."""
MOST_REMOVED = 8
"""Rows taken off the end one by one at most; beyond, the table is rebuilt (a `DataTable`
renumbers every other row for each row it removes)."""


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

    state: Reactive[IncidentState | None] = reactive(None, always_update=True)
    """The incident shown; None while it loads."""
    me: Reactive[str | None] = reactive(None)
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
        ones with some changed and some added or taken off the end, or when too many go."""
        old = self._rows
        common = min(len(old), len(rows))
        if any(was[0] != now[0] for was, now in zip(old, rows, strict=False)):
            return False  # other items, or in another order: the replay of another incident
        if len(old) - common > MOST_REMOVED:
            return False  # each row taken out renumbers all the others: rebuilding is cheaper
        for n in range(common):
            if old[n] != rows[n]:
                key = str(rows[n][0])
                cells = zip(COLUMN_KEYS, self._cells(old[n]), self._cells(rows[n]), strict=True)
                for column, was, now in cells:
                    if was != now:
                        self.update_cell(key, column, now)
        for gone in old[common:]:
            self.remove_row(str(gone[0]))
        for item in items[common:]:
            self.add_row(*self._cells(_row_of(item)), key=str(item.id))
        return True

    def _fill(self, items: Sequence[ChecklistItem]) -> None:
        row = self.cursor_row
        self.clear()
        for item in items:
            self.add_row(*self._cells(_row_of(item)), key=str(item.id))
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
