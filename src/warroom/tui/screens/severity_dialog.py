"""The IC's form for changing the severity: the new level and the reason for the timeline."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select

from warroom.domain.limits import MAX_REASON
from warroom.domain.severity import Severity
from warroom.tui.screens.dialog_base import FormDialog


@dataclass(frozen=True)
class SeverityChoice:
    """The level asked for, the reason, and the level the IC saw when opening the form."""

    severity: Severity
    reason: str
    expected: Severity


class SeverityDialog(FormDialog[SeverityChoice]):
    """Pick a level and say why; the change and its reason land on the timeline."""

    def __init__(self, current: Severity) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="severity-dialog") as box:
            box.border_title = f"Change severity (now {self._current.label})"
            yield Label("New level")
            yield Select(
                [(f"{level.label} · {level.policy.title}", level) for level in Severity],
                value=self._current,
                allow_blank=False,
                id="severity-level",
            )
            yield Label("Reason (goes to the timeline)")
            yield Input(placeholder="e.g. payments fully down", max_length=MAX_REASON, id="reason")
            yield self.error_line
            with Horizontal(classes="dialog-buttons"):
                yield Button("Change severity", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#severity-level", Select).focus()

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted, "#reason")
    def submit(self) -> None:
        level = self.query_one("#severity-level", Select).value
        reason = self.query_one("#reason", Input).value.strip()
        if not isinstance(level, Severity) or level is self._current:
            self.show_error(f"Pick a level other than {self._current.label}.")
        elif not reason:
            self.show_error("Give a reason; it is recorded on the timeline.")
        else:
            self.dismiss(SeverityChoice(level, reason, expected=self._current))
