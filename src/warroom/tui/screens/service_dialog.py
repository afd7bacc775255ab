"""The IC's or a TL's form for adding a service to the incident, or removing one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import TypeAdapter, ValidationError
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select

from warroom.domain.limits import MAX_SERVICE, ServiceName
from warroom.tui.screens.dialog_base import FormDialog

_SERVICE_NAME: TypeAdapter[str] = TypeAdapter(ServiceName)


class AddServiceDialog(FormDialog[str]):
    """Name a service the incident touches; its metrics are then polled and its links offered."""

    def __init__(self, listed: Sequence[str], known: Iterable[str]) -> None:
        super().__init__()
        self._listed = set(listed)
        self._known = sorted(set(known) - self._listed)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="service-dialog") as box:
            box.border_title = "Add a service"
            yield Label("Service name (as in Prometheus' `service` label)")
            yield Input(
                placeholder="e.g. payments-api",
                max_length=MAX_SERVICE,
                suggester=SuggestFromList(self._known, case_sensitive=False),
                id="service",
            )
            yield self.error_line
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add service", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#service", Input).focus()

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted, "#service")
    def submit(self) -> None:
        name = self.query_one("#service", Input).value.strip()
        try:
            _SERVICE_NAME.validate_python(name)
        except ValidationError:
            self.show_error("Give the service's name on one line.")
            return
        if name in self._listed:
            self.show_error(f"{name} is listed already.")
            return
        self.dismiss(name)


class RemoveServiceDialog(FormDialog[str]):
    """Pick one of the incident's services to stop watching."""

    def __init__(self, listed: Sequence[str]) -> None:
        super().__init__()
        self._listed = list(listed)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="service-dialog") as box:
            box.border_title = "Remove a service"
            yield Label("Service")
            yield Select(
                [(name, name) for name in self._listed],
                value=self._listed[0] if self._listed else Select.NULL,
                allow_blank=not self._listed,
                id="service",
            )
            yield self.error_line
            with Horizontal(classes="dialog-buttons"):
                yield Button("Remove service", variant="warning", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#service", Select).focus()

    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        name = self.query_one("#service", Select).value
        if isinstance(name, str):
            self.dismiss(name)
        else:
            self.show_error("The incident lists no services.")
