"""The big-room view: what a call needs, readable from across a room on a projector or a shared
screen: severity and update clock in large digits, roles, the last entries, the checklist."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Digits, Static

from warroom.domain.checklist import ItemState
from warroom.domain.incident import IncidentState
from warroom.domain.roles import Role
from warroom.domain.update_clock import next_update_due
from warroom.tui.commands_table import Scope, bindings_for
from warroom.tui.safe_text import clean
from warroom.tui.screens.incident_base import IncidentScreenBase
from warroom.tui.time_format import clock_time, duration
from warroom.tui.timeline_format import entry_key
from warroom.tui.widgets.checklist_pane import STATE_MARKS

LAST_ENTRIES = 6
"""Timeline entries shown before the pane has a size; then as many as it holds, newest last
(the room reads the latest, the console has the rest)."""
RECENT_WINDOW = 256
"""How many of the last recorded entries are put in time order to find the latest: a back-dated
entry is recorded late but belongs further up, and sorting the whole timeline on every change
would cost a long incident too much."""


BIG_SCREEN = 160
"""Columns from which the roles and the checklist get a share of the width."""


class ProjectorScreen(Screen[None]):
    """Follows the incident screen beneath it: every change there is drawn here at once."""

    HELP_SCOPE = Scope.PROJECTOR
    """Listed first in help opened here."""

    BINDINGS = bindings_for(Scope.PROJECTOR)

    HORIZONTAL_BREAKPOINTS = [(0, "-compact"), (BIG_SCREEN, "-big")]
    """A big screen gives the roles and the checklist a share of its width."""

    def __init__(self, incident: IncidentScreenBase) -> None:
        super().__init__(id="projector")
        self._incident = incident

    def compose(self) -> ComposeResult:
        with Horizontal(id="projector-top"):
            with Vertical(id="projector-sev"):
                yield Static("SEV", classes="projector-label")
                yield Digits("", id="projector-sev-level")
            with Vertical(id="projector-clock"):
                yield Static("", id="projector-clock-label", classes="projector-label")
                yield Digits("", id="projector-clock-digits")
            yield Static("", id="projector-title")
        # The checklist under the roles, beside the entries: under the full width it left the
        # roles pane mostly empty and took rows from the entries (at 200x50, 36 empty rows).
        with Horizontal(id="projector-body"):
            with Vertical(id="projector-side"):
                yield Static("", id="projector-roster", classes="projector-pane")
                yield Static("", id="projector-checklist", classes="projector-pane")
            yield Static("", id="projector-entries", classes="projector-pane")

    def on_mount(self) -> None:
        # Watching the incident screen's own state: the app keeps feeding it while this covers it.
        self.watch(self._incident, "state", self._show_incident)
        self.watch(self._incident, "now", self._show_clock)
        self.watch(self._incident, "online", self._show_roster)
        self.query_one("#projector-roster").border_title = "Roles"
        self.query_one("#projector-entries").border_title = "Latest"
        checklist = self.query_one("#projector-checklist")
        checklist.border_title = "Mitigations"
        checklist.border_subtitle = "esc: back to the console"

    def action_close_projector(self) -> None:
        self.app.pop_screen()

    # --- drawing ------------------------------------------------------------------------------

    def _show_incident(self) -> None:
        state = self._incident.state
        if state is None:
            return
        incident = state.incident
        sev = self.query_one("#projector-sev")
        for level in ("1", "2", "3"):
            sev.set_class(incident.severity.value == int(level), f"sev{level}")
        self.query_one("#projector-sev-level", Digits).update(str(incident.severity.value))
        title = Text()
        title.append(f"#{incident.id} {clean(incident.title)}\n", style="bold")
        title.append(incident.phase.value.replace("_", " ").upper(), style="bold reverse")
        title.append("  IC ")
        title.append(clean(state.roster.ic), style="bold")
        if incident.summary:
            title.append(f"\n{clean(incident.summary)}", style="italic")
        self.query_one("#projector-title", Static).update(title)
        self._show_roster()
        self._show_entries(state)
        self._show_checklist(state)
        self._show_clock()

    def _show_clock(self) -> None:
        state, now = self._incident.state, self._incident.now
        if state is None or now is None:
            return
        due = next_update_due(state)
        label = self.query_one("#projector-clock-label", Static)
        digits = self.query_one("#projector-clock-digits", Digits)
        overdue = due is not None and now >= due
        clock = self.query_one("#projector-clock")
        clock.set_class(overdue, "-overdue")
        if due is None:
            label.update("NO UPDATE OWED")
            digits.update("")
        elif overdue:
            label.update(
                f"UPDATE OVERDUE (due {clock_time(due, self._incident.zone, seconds=False)})"
            )
            digits.update(f"-{duration(now - due)}")
        else:
            label.update("NEXT UPDATE IN")
            digits.update(duration(due - now))

    def _show_roster(self) -> None:
        state = self._incident.state
        if state is None:
            return
        roster, online = state.roster, self._incident.online
        text = Text()
        rows: list[tuple[str, list[str]]] = [
            ("IC", [roster.ic]),
            ("CL", roster.holders(Role.CL)),
            ("TL", roster.holders(Role.TL)),
            ("Scribe", roster.holders(Role.SCRIBE)),
        ]
        for label, users in rows:
            text.append(f"{label:<7}", style="bold")
            if not users:
                text.append("unassigned", style="italic")
            for index, user in enumerate(users):
                text.append(", " if index else "")
                text.append("● " if user in online else "○ ")
                text.append(clean(user), style="bold")
            text.append("\n")
        text.rstrip()
        self.query_one("#projector-roster", Static).update(text)

    def on_resize(self) -> None:
        state = self._incident.state
        if state is not None:
            self._show_entries(state)
            self._show_checklist(state)

    def _show_entries(self, state: IncidentState) -> None:
        pane = self.query_one("#projector-entries", Static)
        rows = pane.content_size.height or LAST_ENTRIES
        # One line each (`text-wrap: nowrap`), so the newest is never pushed out of sight.
        text = Text()
        recent = state.timeline[-max(rows, RECENT_WINDOW) :]
        for entry in sorted(recent, key=entry_key)[-rows:]:
            line = Text()
            line.append(clock_time(entry.when, self._incident.zone, seconds=False), style="bold")
            line.append(f"  {clean(entry.author)}: ", style="bold")
            line.append(clean(entry.text), style="strike" if entry.struck else "")
            text.append_text(line)
            text.append("\n")
        text.rstrip()
        pane.update(text)

    def _show_checklist(self, state: IncidentState) -> None:
        text = Text()
        for item in state.checklist:
            if item.state is ItemState.NOT_APPLICABLE:
                continue
            active = item.state is ItemState.IN_PROGRESS
            # In the side column of a small screen the words ("in progress") left a title
            # a third of the line; the mark alone says the state there.
            mark = STATE_MARKS[item.state]
            mark = f"{mark[0]} " if self.app.size.width < BIG_SCREEN else f"{mark:<14}"
            text.append(mark, style="bold" if active else "")
            text.append(clean(item.title), style="bold" if active else "")
            if item.owner:
                text.append(f"  ({clean(item.owner)})")
            text.append("\n")
        text.rstrip()
        self.query_one("#projector-checklist", Static).update(text)
