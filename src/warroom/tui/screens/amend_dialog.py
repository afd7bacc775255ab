"""The form for rewriting a timeline entry; the server keeps the earlier wording as history."""

from __future__ import annotations

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static, TextArea

from warroom.client.session import new_id
from warroom.domain.commands import AmendEntry
from warroom.domain.timeline import TimelineEntry
from warroom.tui.safe_text import for_markup
from warroom.tui.screens.dialog_base import FormDialog


class AmendDialog(FormDialog[AmendEntry]):
    """Builds an `AmendEntry` from the entry's text as edited; Tab reaches the button."""

    def __init__(self, incident_id: int, entry: TimelineEntry) -> None:
        super().__init__()
        self._incident_id = incident_id
        self._entry = entry

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="amend-dialog") as box:
            # Border titles are markup; the author's name is user text.
            box.border_title = for_markup(f"Amend entry #{self._entry.id} by {self._entry.author}")
            yield Static("The earlier wording stays in the entry's history.", markup=False)
            yield TextArea(self._entry.text, soft_wrap=True, id="text")
            yield self.error_line
            with Horizontal(classes="dialog-buttons"):
                yield Button("Amend", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        area = self.query_one("#text", TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        text = self.query_one("#text", TextArea).text.strip()
        if text == self._entry.text:
            self.show_error("The text is unchanged.")
            return
        try:
            command = AmendEntry(
                id=new_id(), incident_id=self._incident_id, entry_id=self._entry.id, text=text
            )
        except ValidationError as exc:
            self.show_error(f"Not valid: {exc.errors()[0]['msg']}")
            return
        self.dismiss(command)
