"""The help screen (`?`, F1): every key of the console, read from the command table."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from warroom.tui.commands_table import COMMANDS, CommandSpec, Scope
from warroom.tui.screens.dialog_base import FormDialog

SCOPE_TITLES: dict[Scope, str] = {
    Scope.APP: "Anywhere",
    Scope.MAIN: "Incident screen",
    Scope.TIMELINE: "Timeline",
    Scope.SEARCH: "Timeline search box",
    Scope.CHECKLIST: "Mitigation checklist",
    Scope.SCRIBE: "Scribe line",
    Scope.PICKER: "Incident list",
    Scope.TRIAGE: "Triage view",
    Scope.COMMS: "Communications view",
    Scope.LINKS: "Link lists",
    Scope.ENTRY: "Entry details",
    Scope.PROJECTOR: "Big-room view",
    Scope.REPLAY: "Replay (read-only)",
    Scope.DIALOG: "Dialogs",
}
"""Section headings, in the order the sections are listed."""


CLOSE_HINT = "j/k scroll · esc, q or ? closes"
"""Shown on the frame: at 80x24 the list covers the footer that would say it."""


class HelpScreen(FormDialog[None]):
    """Lists the bindings by the part of the screen they work in; Escape closes it, and so do
    `q` and `?` as in a pager or htop's help (a modal screen gets none of the app's keys, so
    they would otherwise do nothing here)."""

    BINDINGS = [
        *FormDialog.BINDINGS,
        Binding("q,question_mark,f1", "cancel_dialog", "Close", show=False),
        # A pager's keys, as in less, htop's help and k9s: the list is several screens long.
        Binding("j", "scroll_help('down')", "Down", show=False),
        Binding("k", "scroll_help('up')", "Up", show=False),
        Binding("space", "scroll_help('page_down')", "Page down", show=False),
        Binding("b", "scroll_help('page_up')", "Page up", show=False),
        Binding("g", "scroll_help('home')", "Top", show=False),
        Binding("G", "scroll_help('end')", "Bottom", show=False),
    ]

    def __init__(self, first: Scope | None = None) -> None:
        super().__init__()
        self._first = first

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="help-dialog") as box:
            box.border_title = "Keys"
            box.border_subtitle = CLOSE_HINT
            # The keys of the view help was opened from first: at 80x24 the rest is a scroll away.
            order = sorted(SCOPE_TITLES.items(), key=lambda item: item[0] is not self._first)
            for scope, title in order:
                specs = [spec for spec in COMMANDS if spec.scope is scope]
                if specs:
                    yield Static(Text(title, style="bold"), classes="help-heading")
                    yield Static(self._table(specs), classes="help-table")

    def action_scroll_help(self, where: str) -> None:
        box = self.query_one("#help-dialog", VerticalScroll)
        moves = {
            "down": box.scroll_down,
            "up": box.scroll_up,
            "page_down": box.scroll_page_down,
            "page_up": box.scroll_page_up,
            "home": box.scroll_home,
            "end": box.scroll_end,
        }
        moves[where](animate=False)

    def _table(self, specs: list[CommandSpec]) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(min_width=10, style="bold")
        table.add_column()
        for spec in specs:
            table.add_row(Text(self._keys(spec)), Text(spec.help))
        return table

    def _keys(self, spec: CommandSpec) -> str:
        """The keys as the footer shows them, after the user's keymap."""
        keymap = getattr(self.app, "_keymap", {})
        keys = keymap.get(spec.binding_id, spec.key)
        if spec.key_display is not None and keys == spec.key:
            return spec.key_display
        return "/".join(
            self.app.get_key_display(Binding(key.strip(), spec.action)) for key in keys.split(",")
        )
