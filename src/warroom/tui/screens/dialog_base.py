"""The shared frame of the small modal forms: a bordered box, an error line, Escape or a
`#cancel` button cancels; every modal screen is drawn over the console's notifications and moves
between its fields in the order keys were typed."""

from __future__ import annotations

from typing import TypeVar

from rich.text import Text
from textual import events, on
from textual.containers import ScrollableContainer
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from warroom.tui.commands_table import Scope, bindings_for
from warroom.tui.safe_text import clean
from warroom.tui.screens.type_ahead import TypeAhead, edits

ResultT = TypeVar("ResultT")

TOAST_LAYER = "_toastrack"
"""Textual's layer for notifications, which every screen puts above its own layers."""


class DialogScreen(ModalScreen[ResultT]):
    """A modal screen whose dialog is drawn over the notifications, as a desktop's modal
    dialog is: at 80x24 a 30 s reminder covered the right half of a dialog's buttons (where
    "Publish" is), and the dialog is what the person is acting on now. The toasts still show
    around it, and in full again once it closes.

    Its subclasses bind `Scope.DIALOG`, whose Tab and Shift+Tab are priority keys handled here.
    Keys typed before a field had focus wait in `type_ahead` (see `type_ahead`).
    """

    def __init__(
        self, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.type_ahead = TypeAhead(self)
        """Keys typed before this dialog had a field focused, typed into it once it has."""

    def on_mount(self) -> None:
        self._keep_focus_off_frames()
        # After the subclass's own `on_mount` (which focuses its first field) has taken effect.
        self.call_after_refresh(self.type_ahead.start)

    def _keep_focus_off_frames(self) -> None:
        """Take the scrolling frame of a form out of the Tab order: it shows no cursor, so
        Shift+Tab from the first field landed on it and what was typed next went nowhere. A
        frame with no field in it (the help, an entry's details) keeps the focus it scrolls by;
        a form still scrolls to the field that has the focus."""
        for frame in self.query(".dialog").results(ScrollableContainer):
            if any(widget.can_focus for widget in frame.query("*")):
                frame.can_focus = False

    def on_key(self, event: events.Key) -> None:
        # Until then keys reach the screen unfocused or through the box Textual focuses first.
        if not self.type_ahead.ready and edits(event):
            event.stop()
            self.type_ahead.take(event)

    @property
    def layers(self) -> tuple[str, ...]:
        others = tuple(layer for layer in super().layers if layer != TOAST_LAYER)
        return (TOAST_LAYER, *others) if TOAST_LAYER in super().layers else others

    def action_focus_next_field(self) -> None:
        self.focus_next()

    def action_focus_previous_field(self) -> None:
        self.focus_previous()


class FormDialog(DialogScreen[ResultT | None]):
    """A modal form that returns its result, or None when cancelled."""

    BINDINGS = bindings_for(Scope.DIALOG)

    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    """Height classes for `dialogs.tcss`: a short terminal gets tighter forms."""

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        self.error_line = Static("", classes="dialog-error")
        """Where a form shows why it cannot be submitted yet."""

    def show_error(self, message: str) -> None:
        self.error_line.update(Text(clean(message)))

    @on(Button.Pressed, "#cancel")
    def action_cancel_dialog(self) -> None:
        self.dismiss(None)
