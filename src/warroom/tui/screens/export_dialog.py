"""Asks where to write the post-mortem draft, and whether to write the HTML copy too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Static

from warroom.tui.postmortem_export import default_path, shown_path
from warroom.tui.screens.dialog_base import FormDialog


@dataclass(frozen=True)
class ExportChoice:
    """The Markdown file to write, and whether an HTML copy goes beside it."""

    markdown: Path
    html: bool


class ExportDialog(FormDialog[ExportChoice]):
    """The path starts as `./incident-<id>-postmortem.md` and can be edited."""

    def __init__(self, incident_id: int) -> None:
        super().__init__()
        self._default = default_path(incident_id)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="export-dialog") as box:
            box.border_title = "Export the post-mortem draft"
            yield Static(
                "A blameless draft from the timeline: summary, impact, detection, response, "
                "timeline, mitigation, metrics, communications and action items.",
                markup=False,
            )
            yield Label("Markdown file")
            yield Input(shown_path(self._default), id="path")
            yield Checkbox("Also write the HTML copy (same name, .html)", value=True, id="html")
            yield self.error_line
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted, "#path")
    def submit(self) -> None:
        typed = self.query_one("#path", Input).value.strip()
        if not typed:
            self.show_error("Say which file to write.")
            return
        path = Path(typed).expanduser()
        if path.suffix.lower() == ".html":
            self.show_error("Name the Markdown file (.md); the HTML copy goes beside it.")
            return
        self.dismiss(ExportChoice(path, self.query_one("#html", Checkbox).value))
