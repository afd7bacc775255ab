"""The mitigation checklist: items with state, owner and who changed them when; keys tick them,
add items and name their owners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

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
        self._rows: tuple[object, ...] = ()

    def on_mount(self) -> None:
        # The title goes last: it is the one column that may be cut at the pane's edge.
        self.add_column("State", key="state", width=13)
        self.add_column("Owner", key="owner", width=10)
        self.add_column("Changed", key="changed", width=14)
        self.add_column("Mitigation", key="title")

    def watch_state(self, state: IncidentState | None) -> None:
        if not self.columns:
            return  # not mounted yet; on_mount runs first, then data binding sets the state
        rows = tuple(
            (i.id, i.state, i.owner, i.changed_by, i.changed_at, i.title)
            for i in (state.checklist if state is not None else [])
        )
        if rows != self._rows:
            self._rows = rows
            self._fill(state)
            self._refresh_keys()

    def _fill(self, state: IncidentState | None) -> None:
        # Rebuilding the table re-lays it out; skipped above when a burst of timeline events
        # leaves the checklist as it was.
        row = self.cursor_row
        self.clear()
        for item in state.checklist if state is not None else []:
            self.add_row(*self._cells(item), key=str(item.id))
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

    def _cells(self, item: ChecklistItem) -> tuple[Text, Text, Text, Text]:
        state = Text(STATE_MARKS[item.state], style="bold" if item.state is ItemState.DONE else "")
        owner = Text(clean(item.owner) if item.owner else "—")
        if item.changed_by is not None and item.changed_at is not None:
            when = clock_time(item.changed_at, self._zone, seconds=False)
            changed = Text(f"{clean(item.changed_by)} {when}")
        else:
            changed = Text("—", style="dim")
        return state, owner, changed, Text(clean(item.title))
