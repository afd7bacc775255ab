"""The CL's (or IC's) public update form: a stage, affected components and the text, filled from
the status-page templates and editable; the draft then waits for the IC's approval."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from warroom.client.session import new_id
from warroom.domain.commands import DraftExternalUpdate
from warroom.domain.communications import PublicState, fill_template
from warroom.domain.limits import MAX_TITLE
from warroom.domain.phase import Phase
from warroom.tui.screens.dialog_base import FormDialog

STAGE_FOR_PHASE = {
    Phase.DECLARED: PublicState.INVESTIGATING,
    Phase.INVESTIGATING: PublicState.INVESTIGATING,
    Phase.MITIGATING: PublicState.IDENTIFIED,
    Phase.RESOLVED: PublicState.RESOLVED,
    Phase.POSTMORTEM_DONE: PublicState.RESOLVED,
}
"""The stage the form starts on, from where the incident stands."""


def parse_components(text: str) -> list[str]:
    """`"api, web ,"` -> `["api", "web"]`, without repeats."""
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


class PublicUpdateDialog(FormDialog[DraftExternalUpdate]):
    """Builds a `DraftExternalUpdate`. The text follows the stage and components until the
    author edits it; after that it is theirs and is left alone."""

    def __init__(self, incident_id: int, title: str, phase: Phase, services: Sequence[str]) -> None:
        super().__init__()
        self._incident_id = incident_id
        self._title = title
        self._stage = STAGE_FOR_PHASE[phase]
        self._services = list(services)
        self._filled = fill_template(self._stage, self._services)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="public-update-dialog") as box:
            box.border_title = "Public status-page update"
            yield Static("Nothing is published until the IC approves this draft.", markup=False)
            yield Label("Stage")
            yield Select([(stage.value, stage) for stage in PublicState], value=self._stage,
                         allow_blank=False, id="stage")  # fmt: skip
            yield Label("Affected components (comma-separated)")
            yield Input(", ".join(self._services), placeholder="e.g. Card payments, Checkout",
                        id="components")  # fmt: skip
            yield Label("Public title")
            yield Input(self._title, max_length=MAX_TITLE, id="title")
            yield Label("Text (from the template; edit freely)")
            yield TextArea(self._filled, soft_wrap=True, id="text")
            yield self.error_line
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send to the IC", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#stage", Select).focus()

    @on(Select.Changed, "#stage")
    @on(Input.Changed, "#components")
    def refill_text(self) -> None:
        stage = self.query_one("#stage", Select).value
        if not isinstance(stage, PublicState):
            return
        area = self.query_one("#text", TextArea)
        if area.text != self._filled:
            return  # the author has written their own words
        components = parse_components(self.query_one("#components", Input).value)
        self._filled = fill_template(stage, components)
        area.load_text(self._filled)

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted)
    def submit(self) -> None:
        stage = self.query_one("#stage", Select).value
        text = self.query_one("#text", TextArea).text.strip()
        if not text:
            self.show_error("Write the public text.")
            return
        try:
            command = DraftExternalUpdate(
                id=new_id(),
                incident_id=self._incident_id,
                title=self.query_one("#title", Input).value.strip() or None,
                text=text,
                state=stage if isinstance(stage, PublicState) else self._stage,
                components=parse_components(self.query_one("#components", Input).value),
            )
        except ValidationError as exc:
            self.show_error(f"Not valid: {exc.errors()[0]['msg']}")
            return
        self.dismiss(command)
