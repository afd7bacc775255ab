"""What a client tells its listeners (the TUI, the CLI) when something changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from warroom.domain.errors import ErrorCode
from warroom.domain.events import Event


class ConnectionStatus(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True)
class StatusChanged:
    status: ConnectionStatus
    unsent: int
    """Writes waiting for the server (kept in the outbox)."""


@dataclass(frozen=True)
class StateReplaced:
    """A snapshot replaced everything known about the incident."""

    incident_id: int


@dataclass(frozen=True)
class EventsApplied:
    incident_id: int
    events: Sequence[Event]
    """In order. After a compact catch-up each event is built when it is first read."""


@dataclass(frozen=True)
class PresenceChanged:
    incident_id: int


@dataclass(frozen=True)
class WriteRefused:
    """A write sent earlier (perhaps from the outbox after a reconnect) was refused."""

    frame_id: str
    code: ErrorCode
    message: str


@dataclass(frozen=True)
class TriageChanged:
    """The triage list or the alert source's status changed (see `WarroomClient.triage`)."""


@dataclass(frozen=True)
class MetricsChanged:
    incident_id: int


ClientUpdate = (
    StatusChanged
    | StateReplaced
    | EventsApplied
    | PresenceChanged
    | WriteRefused
    | TriageChanged
    | MetricsChanged
)
