"""The header: SEV badge, title, phase, channel, waiting drafts, elapsed time and your role,
the update countdown (or the post-mortem's due time once resolved), connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import Reactive, reactive

from warroom.domain.communications import DraftStatus
from warroom.domain.incident import IncidentState
from warroom.domain.permissions import Permission, allows
from warroom.domain.roles import Role
from warroom.domain.update_clock import next_update_due
from warroom.tui.commands_table import key_hint
from warroom.tui.connection_state import ConnectionInfo
from warroom.tui.safe_text import clean
from warroom.tui.severity_colors import show_severity_class
from warroom.tui.time_format import deadline_time, duration
from warroom.tui.widgets.parts_line import PartsLine
from warroom.tui.widgets.quiet_static import QuietStatic
from warroom.tui.words import count

_ROLE_SHORT = {
    Role.IC: "IC",
    Role.CL: "CL",
    Role.TL: "TL",
    Role.SCRIBE: "Scribe",
    Role.OBSERVER: "observer",
}
"""Your roles as the roster names them, in its order."""


class IncidentHeader(Horizontal):
    """Two lines across the top that say what is burning and whether updates are owed."""

    @dataclass
    class UpdateOverdue(Message):
        """The internal update owed at `due_at` is now overdue (posted once per deadline)."""

        due_at: datetime

    # The pane draws through its child widgets, which redraw when their text changes; a
    # repaint of the whole pane on every update would redraw all of them (`repaint=False`).
    state: Reactive[IncidentState | None] = reactive(None, always_update=True, repaint=False)
    """The incident shown; None while it loads."""
    now: Reactive[datetime | None] = reactive(None, repaint=False)
    """The app clock's current time, ticking every second."""
    connection: Reactive[ConnectionInfo] = reactive(ConnectionInfo(), repaint=False)
    """The link to the server and the number of unsent writes."""
    me: Reactive[str | None] = reactive(None, repaint=False)
    """The signed-in user: the CL and the IC see an overdue update in full alarm colours."""

    def __init__(self, zone: tzinfo | None) -> None:
        super().__init__(id="header")
        self._zone = zone
        self._badge = QuietStatic(id="sev-badge")
        self._title = QuietStatic(id="header-title")
        self._meta = PartsLine(id="header-meta")
        self._elapsed = PartsLine(id="header-elapsed")
        self._update = QuietStatic(id="header-update")
        self._connection = QuietStatic(id="header-connection")
        self._due_key: tuple[int, int] | None = None
        self._due: datetime | None = None
        self._warned_for: datetime | None = None

    def compose(self) -> ComposeResult:
        yield self._badge
        with Vertical(id="header-main"):
            yield self._title
            yield self._meta
        with Vertical(id="header-clock"):
            yield self._elapsed
            yield self._update
        yield self._connection

    def watch_state(self) -> None:
        self._show_incident()
        self._show_clock()

    def watch_now(self) -> None:
        self._show_clock()

    def watch_me(self) -> None:
        self._show_incident()
        self._show_clock()

    def watch_connection(self, connection: ConnectionInfo) -> None:
        self._connection.show(Text(connection.stacked, justify="right"))
        for css_class in ("-connected", "-connecting", "-reconnecting", "-offline"):
            self._connection.set_class(css_class == connection.css_class, css_class)

    def _due_at(self, state: IncidentState) -> datetime | None:
        # The deadline depends on the state only, and finding it scans the whole timeline, so it
        # is worked out once per change rather than on every tick of the clock.
        key = (id(state), state.seq)
        if key != self._due_key:
            self._due_key, self._due = key, next_update_due(state)
        return self._due

    def _show_incident(self) -> None:
        state = self.state
        if state is None:
            self._badge.show(Text("…"))
            self._title.show(Text("Loading incident…"))
            self._meta.show_parts(())
            return
        incident = state.incident
        self._badge.show(Text(incident.severity.label))
        show_severity_class(self._badge, incident.severity)
        title = Text(f"#{incident.id} ", style="bold", no_wrap=True, overflow="ellipsis")
        title.append(clean(incident.title), style="bold")
        summary = clean(incident.summary)
        if summary:
            # Set when declaring (or from the CLI): what is wrong, in a sentence. The tooltip
            # holds all of it where the line is cut.
            title.append("  ·  ", style="dim")
            title.append(summary, style="italic")
        self._title.tooltip = Text(summary) if summary else None
        self._title.show(title)
        parts: list[tuple[Text, Text]] = []
        drafts = self._drafts_waiting(state)
        if drafts:
            # First on the line, so a long channel name cannot push it out of sight.
            parts.append((Text(), Text(f" ✉ {drafts} ", style="bold reverse")))
        dot = Text("  ·  ")
        phase = Text(incident.phase.value.replace("_", " "), style="italic")
        parts.append((Text("  ") if drafts else Text(), phase))
        parts.append((dot, Text(clean(incident.channel))))
        ic = Text("IC ")
        ic.append(clean(state.roster.ic), style="bold")
        parts.append((dot, ic))
        self._meta.show_parts(parts)

    def _drafts_waiting(self, state: IncidentState) -> str:
        """What the public drafts waiting for a decision ask of whom, or "" when none do.

        Read from the state on every change, so it goes as soon as the IC decides; once the
        incident is resolved they no longer hold anyone up (resolving warned about them).
        """
        if not state.incident.phase.is_open:
            return ""
        waiting = sum(1 for d in state.external_updates if d.status is DraftStatus.PENDING)
        if not waiting:
            return ""
        # Short: at 80 columns the line has under thirty cells before the clock.
        drafts = count(waiting, "draft")
        me = self.me
        if me is not None and allows(state.roster.roles_of(me), Permission.APPROVE_EXTERNAL):
            return f"{drafts} to approve ({key_hint(self, 'comms.show')})"
        return f"{drafts} {'awaits' if waiting == 1 else 'await'} the IC"

    def _your_roles(self, state: IncidentState) -> list[tuple[Text, Text]]:
        """ "you: IC" after the clock: at 80 columns the roster, where "(you)" marks your line,
        is cut or hidden behind the side panes, and what you may do follows from your role."""
        if self.me is None:
            return []
        roles = state.roster.roles_of(self.me)
        names = [_ROLE_SHORT[role] for role in _ROLE_SHORT if role in roles]
        you = Text("you: ")
        you.append(", ".join(names), style="bold")
        return [(Text(" · "), you)]

    def _owes_updates(self, state: IncidentState) -> bool:
        me = self.me
        return me is not None and allows(state.roster.roles_of(me), Permission.POST_STATUS)

    def _show_clock(self) -> None:
        state, now = self.state, self.now
        if state is None or now is None:
            self._elapsed.show_parts(())
            self._update.show(Text())
            return
        incident = state.incident
        if incident.resolved_at is not None:
            took = duration(incident.resolved_at - incident.declared_at)
            elapsed, short = Text(f"resolved after {took}"), Text(f"took {took}")
        else:
            took = duration(now - incident.declared_at)
            # T+ is the responders' own shorthand for time since the start.
            elapsed, short = Text(f"elapsed {took}"), Text(f"T+{took}")
        you = self._your_roles(state)
        self._elapsed.show_parts([(Text(), elapsed), *you], short=[(Text(), short), *you])
        due_at = self._due_at(state)
        overdue = due_at is not None and now >= due_at
        if incident.postmortem_due is not None and incident.postmortem_done_at is None:
            words = f"post-mortem due {deadline_time(incident.postmortem_due, now, self._zone)}"
        elif due_at is None:
            words = "no internal updates owed" if incident.phase.is_open else "no updates owed"
        elif overdue:
            words = f"⚠ UPDATE OVERDUE by {duration(now - due_at)}"
        else:
            words = f"next update in {duration(due_at - now)}"
        self._update.show(Text(words))
        self._update.set_class(overdue, "-overdue")
        self.set_class(overdue and self._owes_updates(state), "-update-yours")
        if overdue and due_at != self._warned_for:
            self._warned_for = due_at
            assert due_at is not None
            self.post_message(self.UpdateOverdue(due_at))
