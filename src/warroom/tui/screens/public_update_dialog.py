"""The CL's (or IC's) public update form: a stage, affected components, the public title and the
text, filled from the status-page templates and editable; the draft then waits for the IC's
approval. The public title is never the incident's own: it starts as the one already published,
or as a neutral one from the components."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from warroom.client.session import new_id
from warroom.domain.commands import DraftExternalUpdate
from warroom.domain.communications import PublicState, default_public_title, fill_template
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
    author edits it; after that it is theirs and is left alone. So does an offered title.

    Args:
        incident_id: The incident the draft is for.
        public_title: The title already published, kept unless the author changes it; None
            while nothing is public, and a neutral title from the components is offered.
        phase: Where the incident stands, which picks the starting stage.
        services: The incident's services, offered as the affected components.
    """

    def __init__(
        self, incident_id: int, public_title: str | None, phase: Phase, services: Sequence[str]
    ) -> None:
        super().__init__()
        self._incident_id = incident_id
        self._public_title = public_title
        self._stage = STAGE_FOR_PHASE[phase]
        self._services = list(services)
        self._filled = fill_template(self._stage, self._services)
        self._offered_title = public_title or default_public_title(self._services)

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
            yield Label("Public title (the incident's own title is never published)")
            yield Input(self._offered_title, max_length=MAX_TITLE, id="title")
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

    @on(Input.Changed, "#components")
    def refill_title(self) -> None:
        if self._public_title is not None:
            return  # the published title stays until someone changes it on purpose
        title = self.query_one("#title", Input)
        if title.value != self._offered_title:
            return  # the author chose their own
        components = parse_components(self.query_one("#components", Input).value)
        self._offered_title = default_public_title(components)
        title.value = self._offered_title

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted)
    def submit(self) -> None:
        stage = self.query_one("#stage", Select).value
        text = self.query_one("#text", TextArea).text.strip()
        title = self.query_one("#title", Input).value.strip()
        if not title:
            self.show_error("Give the public title (what the status page calls the incident).")
            return
        if not text:
            self.show_error("Write the public text.")
            return
        try:
            command = DraftExternalUpdate(
                id=new_id(),
                incident_id=self._incident_id,
                # Unchanged means "keep the published one", even if it changed meanwhile.
                title=None if title == self._public_title else title,
                text=text,
                state=stage if isinstance(stage, PublicState) else self._stage,
                components=parse_components(self.query_one("#components", Input).value),
            )
        except ValidationError as exc:
            self.show_error(f"Not valid: {exc.errors()[0]['msg']}")
            return
        self.dismiss(command)
