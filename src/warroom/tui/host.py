"""What the screens need from the app, as a protocol, so screens never import the app module."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from warroom.client.session import WarroomClient
from warroom.domain.commands import Command
from warroom.protocol.frames import Ack
from warroom.tui.pending import PendingCommand, PendingEntries


class WarroomHost(Protocol):
    """The app as the screens see it."""

    client: WarroomClient
    clock: Callable[[], datetime]
    pending: PendingEntries

    def send(self, command: Command) -> asyncio.Future[Ack]:
        """Hand a write to the client (queued while offline); refusals are shown by the app,
        so callers may ignore the future."""

    def post_entry(self, command: PendingCommand) -> None:
        """Send a timeline entry or a status update and show it greyed until the server
        commits it."""

    def open_incident(self, incident_id: int) -> None:
        """Show the incident screen for `incident_id`, following it live."""

    def show_incident_picker(self, *, declare: bool = False) -> None:
        """Show the list of incidents (with the declaration form focused if `declare`)."""

    def show_triage(self) -> None:
        """Show the triage view: alerts waiting to be declared or dismissed."""
