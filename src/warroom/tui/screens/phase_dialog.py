"""The IC's form for moving the incident to another phase, among those the plan allows."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select

from warroom.domain.limits import MAX_REASON
from warroom.domain.phase import PHASE_TRANSITIONS, Phase
from warroom.tui.screens.dialog_base import FormDialog


@dataclass(frozen=True)
class PhaseChoice:
    """The phase asked for, an optional reason, and the phase seen when opening the form."""

    phase: Phase
    reason: str
    expected: Phase


def phase_words(phase: Phase) -> str:
    return phase.value.replace("_", " ")


class PhaseDialog(FormDialog[PhaseChoice]):
    """Offers only the moves `PHASE_TRANSITIONS` allows from the current phase."""

    def __init__(self, current: Phase) -> None:
        super().__init__()
        self._current = current
        self._choices = sorted(PHASE_TRANSITIONS[current], key=list(Phase).index)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="phase-dialog") as box:
            box.border_title = f"Change phase (now {phase_words(self._current)})"
            if not self._choices:
                yield Label("This incident is closed; its phase cannot change any more.")
            else:
                yield Label("Next phase")
                yield Select(
                    [(phase_words(p), p) for p in self._choices],
                    value=self._choices[0],
                    allow_blank=False,
                    id="phase",
                )
                yield Label("Reason (optional, goes to the timeline)")
                yield Input(max_length=MAX_REASON, id="reason")
            yield self.error_line
            with Horizontal(classes="dialog-buttons"):
                if self._choices:
                    yield Button("Change phase", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted, "#reason")
    def submit(self) -> None:
        phase = self.query_one("#phase", Select).value
        if isinstance(phase, Phase):
            reason = self.query_one("#reason", Input).value.strip()
            self.dismiss(PhaseChoice(phase, reason, expected=self._current))
