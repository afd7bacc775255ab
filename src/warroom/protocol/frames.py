"""Every frame that crosses the websocket, client to server and back.

Frames are JSON objects with a `type`. Client frames carry an `id` the client made; the server's
reply to that frame carries the same `id`. Write frames are the domain commands themselves.
docs/protocol.md documents each frame with examples.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from warroom.domain.commands import (
    AcceptIc,
    AddChecklistItem,
    AddEntry,
    AmendEntry,
    ApproveExternalUpdate,
    AssignRole,
    CommandId,
    DeclareIncident,
    DeclineIc,
    DraftExternalUpdate,
    PostStatusUpdate,
    RejectExternalUpdate,
    SetItemOwner,
    SetItemState,
    SetPhase,
    SetSeverity,
    SetSummary,
    SetTitle,
    StrikeEntry,
    UnassignRole,
)
from warroom.domain.errors import ErrorCode
from warroom.domain.events import Event
from warroom.domain.incident import IncidentState, IncidentSummary

PROTOCOL_VERSION = 1
"""Bumped on any change a client written against the previous version would misread."""


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- client to server -------------------------------------------------------------------------


class Subscribe(_Frame):
    """Follow an incident. With `since`, receive exactly the events after it, else a snapshot."""

    type: Literal["subscribe"] = "subscribe"
    id: CommandId
    incident_id: int = Field(ge=1)
    since: int | None = Field(default=None, ge=0)


class Unsubscribe(_Frame):
    type: Literal["unsubscribe"] = "unsubscribe"
    id: CommandId
    incident_id: int = Field(ge=1)


class ReadLog(_Frame):
    """The incident's whole event log, for exports; answered with one `events` frame."""

    type: Literal["read_log"] = "read_log"
    id: CommandId
    incident_id: int = Field(ge=1)


class ListIncidents(_Frame):
    type: Literal["list_incidents"] = "list_incidents"
    id: CommandId


ClientFrame = Annotated[
    Subscribe
    | Unsubscribe
    | ListIncidents
    | ReadLog
    | DeclareIncident
    | SetTitle
    | SetSummary
    | SetSeverity
    | SetPhase
    | AssignRole
    | UnassignRole
    | AcceptIc
    | DeclineIc
    | AddEntry
    | AmendEntry
    | StrikeEntry
    | AddChecklistItem
    | SetItemState
    | SetItemOwner
    | PostStatusUpdate
    | DraftExternalUpdate
    | ApproveExternalUpdate
    | RejectExternalUpdate,
    Field(discriminator="type"),
]
CLIENT_FRAME_ADAPTER: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


# --- server to client -------------------------------------------------------------------------


class Welcome(_Frame):
    """First frame on every connection: who the token belongs to and which protocol is spoken."""

    type: Literal["welcome"] = "welcome"
    protocol: int = PROTOCOL_VERSION
    server: str
    user: str


class Ack(_Frame):
    """A write was committed durably as event `seq` of `incident_id`."""

    type: Literal["ack"] = "ack"
    id: str
    incident_id: int
    seq: int
    duplicate: bool = False
    """True when this command id had been applied before; nothing new was written."""


class ErrorFrame(_Frame):
    """A refusal. Nothing was changed. `current` holds the value now on a conflict."""

    type: Literal["error"] = "error"
    id: str | None = None
    code: ErrorCode
    message: str
    current: Any = None


class Snapshot(_Frame):
    """The whole incident as of `seq`; live `events` frames follow from seq + 1."""

    type: Literal["snapshot"] = "snapshot"
    id: str | None = None
    incident_id: int
    seq: int
    state: IncidentState


class Events(_Frame):
    """Consecutive events of one incident, in order: a catch-up or a live batch."""

    type: Literal["events"] = "events"
    id: str | None = None
    incident_id: int
    events: list[Event]


class PresenceUser(_Frame):
    user: str
    connections: int


class Presence(_Frame):
    """Who is connected to an incident right now; sent on every join and leave."""

    type: Literal["presence"] = "presence"
    incident_id: int
    users: list[PresenceUser]


class IncidentList(_Frame):
    type: Literal["incidents"] = "incidents"
    id: str
    incidents: list[IncidentSummary]


class Unsubscribed(_Frame):
    type: Literal["unsubscribed"] = "unsubscribed"
    id: str
    incident_id: int


ServerFrame = Annotated[
    Welcome | Ack | ErrorFrame | Snapshot | Events | Presence | IncidentList | Unsubscribed,
    Field(discriminator="type"),
]
SERVER_FRAME_ADAPTER: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)
