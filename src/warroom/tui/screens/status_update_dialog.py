"""The CL's (or IC's) internal status update form: status, impact, actions, next update."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from warroom.client.session import new_id
from warroom.domain.commands import PostStatusUpdate
from warroom.domain.limits import MAX_ENTRY_TEXT, MAX_SUMMARY
from warroom.domain.severity import Severity
from warroom.domain.update_clock import longest_next_update
from warroom.tui.screens.dialog_base import FormDialog

MAX_NEXT_MINUTES = 24 * 60


class StatusUpdateDialog(FormDialog[PostStatusUpdate]):
    """Builds a `PostStatusUpdate`; the next update defaults to the severity's cadence."""

    def __init__(
        self, incident_id: int, severity: Callable[[], Severity], clock: Callable[[], datetime]
    ) -> None:
        """`severity` reads the incident's severity now: raised while the form is open, the
        next update's bound on posting is the new severity's."""
        super().__init__()
        self._incident_id = incident_id
        self._clock = clock
        self._opened_with = severity()
        every = self._opened_with.policy.internal_update_every
        self._default_minutes = str(int(every.total_seconds() // 60)) if every else ""
        self._severity_now = severity

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="status-update-dialog") as box:
            box.border_title = "Internal status update"
            yield Static(
                "Goes to the timeline as a status entry (and to #incidents when Slack is set up); "
                "it restarts the update clock.",
                markup=False,
            )
            yield Label("Current status")
            yield Input(placeholder="e.g. Rollback 60% done, errors falling",
                        max_length=MAX_ENTRY_TEXT, id="status")  # fmt: skip
            yield Label("Impact")
            yield Input(placeholder="who is affected and how", max_length=MAX_SUMMARY,
                        id="impact")  # fmt: skip
            yield Label("What is being done")
            yield Input(placeholder="actions under way", max_length=MAX_SUMMARY, id="actions")
            cadence = ""
            if self._default_minutes:
                cadence = f" ({self._opened_with.label}: every {self._default_minutes} min)"
            yield Label(f"Next update in minutes{cadence}; empty for none")
            yield Input(value=self._default_minutes, type="integer", max_length=4, id="next")
            yield self.error_line
            with Horizontal(classes="dialog-buttons"):
                yield Button("Post update", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#status", Input).focus()

    def _next_update_error(self, minutes: int) -> str:
        """Why `minutes` cannot be the next update's distance, or "": the server holds a later
        time than the plan allows to the plan's bound, so the form says so before posting."""
        severity = self._severity_now()
        longest = longest_next_update(severity)
        if longest is None:
            if 1 <= minutes <= MAX_NEXT_MINUTES:
                return ""
            return f"The next update is 1 to {MAX_NEXT_MINUTES} minutes away."
        most = int(longest.total_seconds() // 60)
        if 1 <= minutes <= most:
            return ""
        return (
            f"A {severity.label} owes an internal update at least every {most} min: "
            f"the next one is 1 to {most} minutes away."
        )

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted)
    def submit(self) -> None:
        def value(field: str) -> str:
            return self.query_one(f"#{field}", Input).value.strip()

        if not value("status"):
            self.show_error("Say what the current status is.")
            return
        next_at: datetime | None = None
        if value("next"):
            try:
                minutes = int(value("next"))
            except ValueError:
                minutes = 0
            error = self._next_update_error(minutes)
            if error:
                self.show_error(error)
                return
            next_at = self._clock() + timedelta(minutes=minutes)
        try:
            command = PostStatusUpdate(
                id=new_id(),
                incident_id=self._incident_id,
                status=value("status"),
                impact=value("impact"),
                actions=value("actions"),
                next_update_at=next_at,
                typed_at=self._clock(),
            )
        except ValidationError as exc:
            self.show_error(f"Not valid: {exc.errors()[0]['msg']}")
            return
        self.dismiss(command)
