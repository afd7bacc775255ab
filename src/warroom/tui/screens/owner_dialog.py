"""The list for naming the owner of a checklist item, or clearing it."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from warroom.client.session import new_id
from warroom.domain.checklist import ChecklistItem
from warroom.domain.commands import SetItemOwner
from warroom.tui.safe_text import clean, for_markup
from warroom.tui.screens.dialog_base import FormDialog

NOBODY = "\x00nobody"
"""The option id of "no owner"; not a valid user name, so it cannot clash with one."""


class OwnerDialog(FormDialog[SetItemOwner]):
    """One option per known user, and "nobody" first; Enter picks, Escape cancels."""

    def __init__(self, incident_id: int, item: ChecklistItem, known_users: Iterable[str]) -> None:
        super().__init__()
        self._incident_id = incident_id
        self._item = item
        self._known = sorted(set(known_users) | ({item.owner} if item.owner else set()))

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="owner-dialog") as box:
            box.border_title = for_markup(f"Owner of item {self._item.id}")
            yield Static(Text(clean(self._item.title)))
            yield OptionList(
                Option(Text("Nobody (clear the owner)", style="italic"), id=NOBODY),
                *(Option(Text(clean(user)), id=user) for user in self._known),
                id="owner",
            )

    def on_mount(self) -> None:
        options = self.query_one("#owner", OptionList)
        options.focus()
        current = self._item.owner
        options.highlighted = self._known.index(current) + 1 if current else 0

    @on(OptionList.OptionSelected, "#owner")
    def pick(self, event: OptionList.OptionSelected) -> None:
        chosen = event.option.id
        owner = None if chosen in (None, NOBODY) else chosen
        if owner == self._item.owner:
            self.dismiss(None)  # nothing to change: no event, no timeline line
            return
        self.dismiss(
            SetItemOwner(
                id=new_id(), incident_id=self._incident_id, item_id=self._item.id, owner=owner
            )
        )
