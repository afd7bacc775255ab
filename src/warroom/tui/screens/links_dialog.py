"""Lists the incident's dashboard links to open (click) or copy (`c`)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from warroom.tui.commands_table import Scope, bindings_for
from warroom.tui.links import LinkItem
from warroom.tui.screens.dialog_base import DialogScreen
from warroom.tui.widgets.link_list import LinkList

NO_LINKS = (
    "No dashboard links: the server has no link templates for the incident's services "
    "(see `links` in the server's config)."
)


class LinksDialog(DialogScreen[None]):
    """Escape closes it."""

    BINDINGS = bindings_for(Scope.DIALOG)

    def __init__(self, items: Sequence[LinkItem]) -> None:
        super().__init__(classes="dialog-screen")
        self._items = tuple(items)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="links-dialog") as box:
            box.border_title = "Dashboards"
            if self._items:
                yield Static(Text("Click a link to open it; c copies the highlighted one."))
                yield LinkList(self._items, id="dashboard-links")
            else:
                yield Static(Text(NO_LINKS, style="italic"))

    def on_mount(self) -> None:
        if self._items:
            self.query_one(LinkList).focus()

    def action_cancel_dialog(self) -> None:
        self.dismiss(None)
