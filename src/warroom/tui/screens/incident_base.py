"""The incident screen's state: what the app feeds it and its panes bind to, shared by the
mixins that hold its actions by area (investigation, communications)."""

from __future__ import annotations

from datetime import datetime

from textual import on
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.worker import Worker

from warroom.domain.commands import IncidentCommand
from warroom.domain.incident import IncidentState
from warroom.domain.links import ServiceLinks
from warroom.monitoring.signals import MetricsSnapshot
from warroom.tui.connection_state import ConnectionInfo
from warroom.tui.host import WarroomHost
from warroom.tui.pending import PendingEntry
from warroom.tui.worker_errors import report_failed_worker


class IncidentScreenBase(Screen[None]):
    """One followed incident's live state; `MainScreen` lays it out."""

    # None of these draws anything itself (`repaint=False`): the panes bound to them redraw what
    # changed, where a repaint of the screen would redraw every pane on every applied batch.

    state: Reactive[IncidentState | None] = reactive(None, always_update=True, repaint=False)
    """The incident as the client holds it now; set again on every update."""
    pending: Reactive[tuple[PendingEntry, ...]] = reactive((), repaint=False)
    """This console's entries on their way to the server."""
    online: Reactive[frozenset[str]] = reactive(frozenset(), repaint=False)
    """Users connected to the incident now."""
    me: Reactive[str | None] = reactive(None, repaint=False)
    """The signed-in user (None until the server has said who the token belongs to)."""
    now: Reactive[datetime | None] = reactive(None, repaint=False)
    """The app clock, ticking every second."""
    connection: Reactive[ConnectionInfo] = reactive(ConnectionInfo(), repaint=False)
    """The link to the server."""
    metrics: Reactive[MetricsSnapshot | None] = reactive(None, repaint=False)
    """The latest metrics snapshot the server sent for this incident."""
    metrics_note: Reactive[str] = reactive("", repaint=False)
    """Why the server has no metrics snapshot, when it said so."""
    links: Reactive[dict[str, ServiceLinks]] = reactive(dict, repaint=False)
    """The server's investigation link templates per service."""

    def __init__(self, host: WarroomHost, incident_id: int) -> None:
        super().__init__(id=f"incident-{incident_id}")
        self.host = host
        self.incident_id = incident_id
        """The incident this screen follows."""
        self.zone = host.clock().tzinfo
        """The zone times are shown in (the app clock's)."""

    @on(Worker.StateChanged)
    def report_failed_worker(self, event: Worker.StateChanged) -> None:
        report_failed_worker(self.app, event)

    def send_command(self, command: IncidentCommand | None) -> None:
        """Send what a dialog built (None: it was cancelled); refusals are shown by the app."""
        if command is not None:
            self.host.send(command)
