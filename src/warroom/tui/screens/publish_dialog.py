"""Asks the IC once more before a public update goes out: approving publishes it to the status
page, which nobody can take back, so a stray key in the comms view must not be enough."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from warroom.domain.communications import ExternalUpdate
from warroom.tui.safe_text import clean
from warroom.tui.screens.dialog_base import FormDialog


class PublishDialog(FormDialog[bool]):
    """Shows the draft as it will be published; returns True to publish, None to keep it."""

    def __init__(self, draft: ExternalUpdate) -> None:
        super().__init__()
        self._draft = draft

    def compose(self) -> ComposeResult:
        draft = self._draft
        with VerticalScroll(classes="dialog", id="publish-dialog") as box:
            box.border_title = f"Publish public update #{draft.id}?"
            components = ", ".join(clean(c) for c in draft.components) or "no component named"
            yield Static(
                Text(
                    f"{clean(draft.title)} ({draft.state.value}; {components}), "
                    f"drafted by {clean(draft.drafted_by)}:",
                    style="bold",
                )
            )
            yield Static(Text(clean(draft.text, keep_newlines=True)), id="publish-text")
            yield Static(Text("Everyone outside sees it on the status page at once."))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Publish", variant="warning", id="submit")
                yield Button("Keep as draft", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#submit", Button).focus()

    @on(Button.Pressed, "#submit")
    def publish(self) -> None:
        self.dismiss(True)
