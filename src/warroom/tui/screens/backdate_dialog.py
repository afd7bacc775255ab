"""Asks before an entry is back-dated to before the incident's declaration: `03:01` typed at
17:45 is more often a slip than a fact, and once posted it sits hours before everything else."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from warroom.tui.screens.dialog_base import FormDialog
from warroom.tui.time_format import clock_time, day_and_time


def span_words(span: timedelta) -> str:
    """`14 h 44 min`, `8 min`, `1 day 2 h`: how far before, in words a tired reader parses."""
    minutes = int(span.total_seconds()) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} day" + ("s" if days > 1 else "")] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes and not days:
        parts.append(f"{minutes} min")
    return " ".join(parts) or "less than a minute"


def placed_words(
    occurred_at: datetime, declared_at: datetime, before: timedelta, zone: tzinfo | None
) -> str:
    """The confirmation once posted: where on the timeline the entry went, which is hours away
    from where the eye is when the time typed was a slip."""
    # The time alone on the declaration's day: two full dates made three lines of an 80-column
    # toast, and "the timeline lists it there" did not say where to look.
    same_day = day_and_time(occurred_at, zone)[:10] == day_and_time(declared_at, zone)[:10]

    def show(moment: datetime) -> str:
        return clock_time(moment, zone, seconds=False) if same_day else day_and_time(moment, zone)

    return (
        f"Listed at {show(occurred_at)}, {span_words(before)} before the declaration "
        f"({show(declared_at)}): above the first entries, not at the end."
    )


class BackdateDialog(FormDialog[bool]):
    """Returns True to post at the typed time; None (Escape, "Edit the time") keeps the line."""

    def __init__(
        self, occurred_at: datetime, declared_at: datetime, before: timedelta, zone: tzinfo | None
    ) -> None:
        super().__init__()
        self._occurred = day_and_time(occurred_at, zone)
        self._declared = day_and_time(declared_at, zone)
        self._before = span_words(before)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="backdate-dialog") as box:
            box.border_title = "Before the declaration?"
            yield Static(
                Text(
                    f"This entry would be dated {self._occurred}, {self._before} before the "
                    f"incident was declared ({self._declared}). Post it at that time?"
                )
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Post at that time", variant="warning", id="submit")
                yield Button("Edit the time", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#submit", Button).focus()

    @on(Button.Pressed, "#submit")
    def post_backdated(self) -> None:
        self.dismiss(True)
