"""Shows one timeline entry in full: text, times, Correlation-ID, tags, earlier wordings, and the
trace and log links its Correlation-ID leads to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from warroom.domain.timeline import TimelineEntry
from warroom.tui.commands_table import Scope, bindings_for
from warroom.tui.links import LinkItem
from warroom.tui.safe_text import clean
from warroom.tui.time_format import day_and_time
from warroom.tui.widgets.link_list import LinkList


def describe_entry(entry: TimelineEntry, zone: tzinfo | None) -> Text:
    """The entry with every field spelled out; user text stays literal."""
    text = Text()
    text.append(f"{entry.kind.value.upper()}  ", style="bold")
    text.append(f"#{entry.id} by ")
    text.append(clean(entry.author), style="bold")
    text.append(f"\nrecorded {day_and_time(entry.at, zone, seconds=True)}")
    if entry.occurred_at is not None:
        text.append(f", happened {day_and_time(entry.occurred_at, zone, seconds=True)}")
    if entry.correlation_id:
        text.append("\nCorrelation-ID ")
        text.append(clean(entry.correlation_id), style="bold")
    if entry.tags:
        text.append("\ntags " + ", ".join(clean(tag) for tag in entry.tags))
    if entry.mentions:
        text.append("\nmentions " + ", ".join("@" + clean(m) for m in entry.mentions))
    text.append("\n\n")
    text.append(clean(entry.text, keep_newlines=True), style="strike" if entry.struck else "")
    if entry.struck:
        text.append("\n\nStruck", style="bold")
        if entry.struck_reason:
            text.append(": " + clean(entry.struck_reason))
    for revision in reversed(entry.revisions):
        text.append(
            f"\n\nEarlier wording (until {day_and_time(revision.changed_at, zone, seconds=True)}, "
        )
        text.append(clean(revision.changed_by))
        text.append("):\n")
        text.append(clean(revision.text, keep_newlines=True), style="dim")
    return text


class EntryDetailScreen(ModalScreen[None]):
    """A read-only view of one entry; Escape closes it. Links, when there are any, are listed
    below the entry, focused, so `c` copies the highlighted one at once."""

    BINDINGS = bindings_for(Scope.DIALOG)

    def __init__(
        self, entry: TimelineEntry, zone: tzinfo | None, links: Sequence[LinkItem] = ()
    ) -> None:
        super().__init__(classes="dialog-screen")
        self._entry = entry
        self._zone = zone
        self._links = tuple(links)

    def action_cancel_dialog(self) -> None:
        self.dismiss(None)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="entry-detail") as box:
            box.border_title = "Timeline entry"
            yield Static(describe_entry(self._entry, self._zone))
            if self._links:
                yield Static(
                    Text("\nInvestigation links (click to open, c copies)", style="bold"),
                    classes="links-heading",
                )
                yield LinkList(self._links, id="entry-links")

    def on_mount(self) -> None:
        if self._links:
            self.query_one(LinkList).focus()
