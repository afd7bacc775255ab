"""Asks before quitting while writes wait in the outbox, and says they are sent next time."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from warroom.tui.screens.dialog_base import FormDialog
from warroom.tui.words import count


class QuitDialog(FormDialog[bool]):
    """Returns True to quit; None (Escape, Stay) keeps the console open."""

    def __init__(self, unsent: int) -> None:
        super().__init__()
        self._unsent = unsent

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="quit-dialog") as box:
            box.border_title = "Quit with unsent changes?"
            verb = "has" if self._unsent == 1 else "have"
            yield Static(
                Text(
                    f"{count(self._unsent, 'change')} {verb} not reached the server yet. "
                    "They are kept on this machine and sent the next time you open the "
                    "console."
                )
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Quit, send later", variant="warning", id="submit")
                yield Button("Stay", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#submit", Button).focus()

    @on(Button.Pressed, "#submit")
    def quit_now(self) -> None:
        self.dismiss(True)
