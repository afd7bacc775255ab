"""The header: SEV badge, title, phase, channel, elapsed time, update countdown, connection."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive, reactive

from warroom.domain.incident import IncidentState
from warroom.domain.update_clock import next_update_due
from warroom.tui.connection_state import ConnectionInfo
from warroom.tui.safe_text import clean
from warroom.tui.time_format import duration
from warroom.tui.widgets.quiet_static import QuietStatic

SEVERITY_CLASSES = ("sev1", "sev2", "sev3")


class IncidentHeader(Horizontal):
    """Two lines across the top that say what is burning and whether updates are owed."""

    state: Reactive[IncidentState | None] = reactive(None, always_update=True)
    """The incident shown; None while it loads."""
    now: Reactive[datetime | None] = reactive(None)
    """The app clock's current time, ticking every second."""
    connection: Reactive[ConnectionInfo] = reactive(ConnectionInfo())
    """The link to the server and the number of unsent writes."""

    def __init__(self) -> None:
        super().__init__(id="header")
        self._badge = QuietStatic(id="sev-badge")
        self._title = QuietStatic(id="header-title")
        self._meta = QuietStatic(id="header-meta")
        self._elapsed = QuietStatic(id="header-elapsed")
        self._update = QuietStatic(id="header-update")
        self._connection = QuietStatic(id="header-connection")
        self._due_key: tuple[int, int] | None = None
        self._due: datetime | None = None

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
            self._meta.show(Text())
            return
        incident = state.incident
        self._badge.show(Text(incident.severity.label))
        for css_class in SEVERITY_CLASSES:
            self._badge.set_class(css_class == f"sev{incident.severity.value}", css_class)
        title = Text(f"#{incident.id} ", style="bold", no_wrap=True, overflow="ellipsis")
        title.append(clean(incident.title), style="bold")
        self._title.show(title)
        meta = Text(no_wrap=True, overflow="ellipsis")
        meta.append(incident.phase.value.replace("_", " "), style="italic")
        meta.append("  ·  ")
        meta.append(clean(incident.channel))
        meta.append("  ·  IC ")
        meta.append(clean(state.roster.ic), style="bold")
        self._meta.show(meta)

    def _show_clock(self) -> None:
        state, now = self.state, self.now
        if state is None or now is None:
            self._elapsed.show(Text())
            self._update.show(Text())
            return
        incident = state.incident
        if incident.resolved_at is not None:
            took = duration(incident.resolved_at - incident.declared_at)
            self._elapsed.show(Text(f"resolved after {took}"))
        else:
            self._elapsed.show(Text(f"elapsed {duration(now - incident.declared_at)}"))
        due_at = self._due_at(state)
        overdue = due_at is not None and now >= due_at
        if due_at is None:
            words = "no internal updates owed" if incident.phase.is_open else "no updates owed"
        elif overdue:
            words = f"⚠ UPDATE OVERDUE by {duration(now - due_at)}"
        else:
            words = f"next update in {duration(due_at - now)}"
        self._update.show(Text(words))
        self._update.set_class(overdue, "-overdue")
