"""A one-question form: a sentence of context, one line of text, a button (reasons, comments)."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from warroom.domain.limits import MAX_REASON
from warroom.tui.safe_text import clean, for_markup
from warroom.tui.screens.dialog_base import FormDialog

ButtonVariant = Literal["default", "primary", "success", "warning", "error"]


class PromptDialog(FormDialog[str]):
    """Asks for one line of text; returns it stripped, or None when cancelled."""

    def __init__(
        self,
        title: str,
        message: str,
        label: str,
        *,
        submit: str,
        required: bool = True,
        placeholder: str = "",
        variant: ButtonVariant = "primary",
        dialog_id: str = "prompt-dialog",
        warning: Text | None = None,
    ) -> None:
        super().__init__()
        self._title = title
        self._message = message
        self._label = label
        self._submit = submit
        self._required = required
        self._placeholder = placeholder
        self._variant: ButtonVariant = variant
        self._dialog_id = dialog_id
        self._warning = warning

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id=self._dialog_id) as box:
            # Border titles are markup: user text in them (an alert's name) is cleaned first.
            box.border_title = for_markup(self._title)
            yield Static(Text(clean(self._message, keep_newlines=True)))
            if self._warning is not None:
                yield Static(self._warning, classes="dialog-warning")
            yield Label(self._label)
            yield Input(placeholder=self._placeholder, max_length=MAX_REASON, id="answer")
            yield self.error_line
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._submit, variant=self._variant, id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#answer", Input).focus()

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted, "#answer")
    def submit(self) -> None:
        answer = self.query_one("#answer", Input).value.strip()
        if self._required and not answer:
            self.show_error(f"{self._label} is needed.")
            return
        self.dismiss(answer)
