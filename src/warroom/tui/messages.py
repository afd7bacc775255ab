"""App-wide messages: what the client reported, turned into Textual messages.

The client calls its listeners synchronously on the app's event loop; the app posts one of these
for each update. Floods are merged while they wait in the queue (`can_replace`): a burst of a
thousand events becomes one repaint of the panes, because every handler re-reads the current state
from the client rather than replaying what each message carried.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from warroom.client.updates import ConnectionStatus
from warroom.domain.errors import ErrorCode


@dataclass
class IncidentUpdated(Message, bubble=False):
    """Events were applied to a followed incident, or a snapshot replaced it."""

    incident_id: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, IncidentUpdated) and message.incident_id == self.incident_id


@dataclass
class PresenceUpdated(Message, bubble=False):
    """Who is connected to an incident changed."""

    incident_id: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PresenceUpdated) and message.incident_id == self.incident_id


@dataclass
class ConnectionUpdated(Message, bubble=False):
    """The connection state or the number of unsent writes changed."""

    status: ConnectionStatus
    unsent: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ConnectionUpdated)


@dataclass
class WriteFailed(Message, bubble=False):
    """The server refused a write; nothing changed. Never merged: each refusal is news."""

    frame_id: str
    code: ErrorCode
    message: str


@dataclass
class TriageUpdated(Message, bubble=False):
    """The triage list or the alert source's status changed (read `client.triage`)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TriageUpdated)


@dataclass
class MetricsUpdated(Message, bubble=False):
    """The server pushed a metrics snapshot for a followed incident (read `client.metrics`)."""

    incident_id: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, MetricsUpdated) and message.incident_id == self.incident_id
