"""Declares a triage item as an incident: confirm or change the proposed SEV and the title."""

from __future__ import annotations

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from warroom.client.session import new_id
from warroom.domain.commands import DeclareIncident
from warroom.domain.limits import MAX_SUMMARY, MAX_TITLE
from warroom.domain.severity import Severity
from warroom.domain.triage import TriageItem
from warroom.tui.safe_text import for_markup
from warroom.tui.screens.dialog_base import FormDialog
from warroom.tui.triage_format import alert_name


class TriageDeclareDialog(FormDialog[DeclareIncident]):
    """Builds the `DeclareIncident` for a triage item; the declarer becomes the IC."""

    def __init__(self, item: TriageItem) -> None:
        super().__init__()
        self._item = item

    def compose(self) -> ComposeResult:
        item = self._item
        with VerticalScroll(classes="dialog", id="triage-declare-dialog") as box:
            box.border_title = f"Declare {for_markup(alert_name(item))} as an incident"
            yield Static(
                f"You become the IC. Proposed {item.proposed_severity.label} from the alert's "
                "labels; change it if the impact says otherwise.",
                markup=False,
            )
            yield Label("Severity")
            yield Select(
                [(f"{s.label} · {s.policy.title}", s) for s in Severity],
                value=item.proposed_severity,
                allow_blank=False,
                id="severity",
            )
            yield Label("Title")
            yield Input(item.title, max_length=MAX_TITLE, id="title")
            yield Label("Summary (optional)")
            # One line: the input cannot show line breaks, and the summary reads fine without.
            summary = " ".join(item.annotations.get("description", "").split())[:MAX_SUMMARY]
            yield Input(summary, max_length=MAX_SUMMARY, id="summary")
            yield self.error_line
            with Horizontal(classes="dialog-buttons"):
                yield Button("Declare", variant="error", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#severity", Select).focus()

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted)
    def submit(self) -> None:
        severity = self.query_one("#severity", Select).value
        try:
            command = DeclareIncident(
                id=new_id(),
                title=self.query_one("#title", Input).value.strip(),
                severity=severity
                if isinstance(severity, Severity)
                else self._item.proposed_severity,
                summary=self.query_one("#summary", Input).value.strip(),
                triage_id=self._item.id,
            )
        except ValidationError:
            self.show_error("Give the incident a one-line title (up to 200 characters).")
            return
        self.dismiss(command)
