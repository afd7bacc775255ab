"""Shows one timeline entry in full: text, times, Correlation-ID, tags, earlier wordings, and the
trace and log links its Correlation-ID leads to; it follows the entry live and offers amending
and striking it to those who may."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from warroom.domain.incident import IncidentState
from warroom.domain.timeline import TimelineEntry
from warroom.tui.commands_table import Scope, bindings_for, command_for, is_offered
from warroom.tui.links import LinkItem
from warroom.tui.safe_text import clean
from warroom.tui.screens.dialog_base import DialogScreen
from warroom.tui.screens.incident_base import IncidentScreenBase
from warroom.tui.time_format import day_and_time
from warroom.tui.widgets.link_list import LinkList
from warroom.tui.widgets.role_footer import RoleFooter


def describe_entry(entry: TimelineEntry, zone: tzinfo | None) -> Text:
    """The entry with every field spelled out; user text stays literal."""
    text = Text()
    text.append(f"{entry.kind.value.upper()}  ", style="bold")
    text.append(f"#{entry.id} by ")
    text.append(clean(entry.author), style="bold")
    recorded = day_and_time(entry.at, zone, seconds=True)
    typed = day_and_time(entry.typed_at, zone, seconds=True) if entry.typed_at else recorded
    # An entry that waited in an outbox says both: when it was typed and when it arrived.
    text.append(
        f"\ntyped {typed}, recorded {recorded}" if typed != recorded else f"\nrecorded {recorded}"
    )
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


def _shown_key(entry: TimelineEntry) -> tuple[object, ...]:
    # The client applies events to its entries in place, so the entry is compared by what the
    # view shows of it, not by identity or equality with the object it had.
    return (entry.text, entry.struck, entry.struck_reason, len(entry.revisions))


class EntryDetailScreen(DialogScreen[None]):
    """One entry, kept current from the incident screen it was opened over; Escape closes it.
    Links, when there are any, are listed below the entry, focused, so `c` copies the
    highlighted one at once. Amending and striking are asked of that incident screen, which
    owns the dialogs and sends the commands."""

    BINDINGS = [*bindings_for(Scope.DIALOG), *bindings_for(Scope.ENTRY)]

    @dataclass
    class AmendRequested(Message):
        """The user asked to rewrite `entry` (as they saw it)."""

        entry: TimelineEntry

    @dataclass
    class StrikeRequested(Message):
        """The user asked to strike `entry` through."""

        entry: TimelineEntry

    def __init__(
        self, entry: TimelineEntry, zone: tzinfo | None, links: Sequence[LinkItem] = ()
    ) -> None:
        super().__init__(classes="dialog-screen")
        self._entry = entry
        self._zone = zone
        self._links = tuple(links)
        self._source: IncidentScreenBase | None = None
        self._shown = _shown_key(entry)

    @property
    def entry(self) -> TimelineEntry:
        """The entry as last seen."""
        return self._entry

    def action_cancel_dialog(self) -> None:
        self.dismiss(None)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="entry-detail") as box:
            box.border_title = "Timeline entry"
            yield Static(describe_entry(self._entry, self._zone), id="entry-text")
            if self._links:
                yield Static(
                    Text("\nInvestigation links (click to open, c copies)", style="bold"),
                    classes="links-heading",
                )
                yield LinkList(self._links, id="entry-links")
        # Its own footer: the one below belongs to the incident screen and shows that screen's
        # keys, not amend and strike.
        yield RoleFooter()

    def on_mount(self) -> None:
        if self._links:
            self.query_one(LinkList).focus()
        # The incident screen below holds the live state: follow it, so an amendment or a
        # strike (from here or from someone else) shows at once.
        self._source = next(
            (s for s in reversed(self.app.screen_stack) if isinstance(s, IncidentScreenBase)),
            None,
        )
        if self._source is not None:
            self.watch(self._source, "state", self._follow_state)
            self.watch(self._source, "me", self.refresh_bindings, init=False)

    def _follow_state(self, state: IncidentState | None) -> None:
        entry = state.entry(self._entry.id) if state is not None else None
        if entry is None:
            return
        self._entry = entry
        shown = _shown_key(entry)
        if shown != self._shown:
            self._shown = shown
            self.query_one("#entry-text", Static).update(describe_entry(entry, self._zone))
        self.refresh_bindings()

    def command_target(self, scope: Scope) -> Widget | None:
        if scope is Scope.ENTRY:
            return self
        if scope is Scope.LINKS and self._links:
            return self.query_one(LinkList)
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        spec = command_for(Scope.ENTRY, action)
        if spec is None:
            return True
        source = self._source
        if source is None:
            return False
        return is_offered(spec, source.state, source.me, self._entry)

    def action_amend_entry(self) -> None:
        if self._source is not None:
            self._source.post_message(self.AmendRequested(self._entry))

    def action_strike_entry(self) -> None:
        if self._source is not None:
            self._source.post_message(self.StrikeRequested(self._entry))
