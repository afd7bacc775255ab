"""Turns what the client reports into the app's messages (no widgets here, only messages)."""

from __future__ import annotations

from textual.message import Message

from warroom.client.updates import (
    ClientUpdate,
    EventsApplied,
    MetricsChanged,
    PresenceChanged,
    StateReplaced,
    StatusChanged,
    TriageChanged,
    WriteRefused,
)
from warroom.tui.messages import (
    ConnectionUpdated,
    IncidentUpdated,
    MetricsUpdated,
    PresenceUpdated,
    TriageUpdated,
    WriteFailed,
)
from warroom.tui.pending import PendingEntries


def message_for(update: ClientUpdate, pending: PendingEntries) -> Message | None:
    """The message to post for a client update; settles this console's pending entries that the
    update committed or refused on the way."""
    match update:
        case EventsApplied(incident_id=incident_id, events=events):
            pending.settle(event.command_id for event in events)
            return IncidentUpdated(incident_id)
        case StateReplaced(incident_id=incident_id):
            return IncidentUpdated(incident_id)
        case PresenceChanged(incident_id=incident_id):
            return PresenceUpdated(incident_id)
        case StatusChanged(status=status, unsent=unsent):
            return ConnectionUpdated(status, unsent)
        case WriteRefused(frame_id=frame_id, code=code, message=message):
            pending.settle([frame_id])
            return WriteFailed(frame_id, code, message)
        case TriageChanged():
            return TriageUpdated()
        case MetricsChanged(incident_id=incident_id):
            return MetricsUpdated(incident_id)
    return None
