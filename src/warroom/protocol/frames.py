"""Every frame that crosses the websocket, client to server and back.

Frames are JSON objects with a `type`. Client frames carry an `id` the client made; the server's
reply to that frame carries the same `id`. Write frames are the domain commands themselves.
docs/protocol.md documents each frame with examples.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

from warroom.domain.commands import Command, CommandId
from warroom.domain.errors import ErrorCode
from warroom.domain.events import Event
from warroom.domain.incident import IncidentState, IncidentSummary
from warroom.domain.links import ServiceLinks
from warroom.domain.metrics import MetricsSnapshot
from warroom.domain.triage import AlertSourceStatus, TriageItem
from warroom.protocol.columnar import ColumnarState
from warroom.protocol.columnar_events import EntryRun
from warroom.protocol.compact import CompactState, EntryRow

PROTOCOL_VERSION = 2
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
    compact: bool = False
    """Answer with `compact_events` instead of `events` (only if `welcome.features` offers
    `compact`; a server without it refuses the field)."""
    compact_snapshot: bool = False
    """Answer with `compact_snapshot` instead of `snapshot` (only if `welcome.features` offers
    `compact_snapshot`; a server without it refuses the field)."""
    columnar_snapshot: bool = False
    """Answer with `columnar_snapshot` instead of `snapshot` (only if `welcome.features` offers
    `columnar_snapshot`; a server without it refuses the field). Asked with `compact_snapshot`
    too, the columnar one is sent, and the compact one when a snapshot cannot be columnar."""
    columnar_events: bool = False
    """Answer with `columnar_events` instead of `events` (only if the server offers
    `columnar_events`; a server without it refuses the field). Asked with `compact` too, the
    columnar one is sent."""
    packed_snapshot: bool = False
    """Answer with a packed snapshot (a binary message, `protocol.packed`) instead of
    `snapshot` (only if the server offers `packed_snapshot`; a server without it refuses the
    field). Asked with `columnar_snapshot` or `compact_snapshot` too, the packed one is sent,
    and those when a snapshot cannot be packed."""


class Unsubscribe(_Frame):
    type: Literal["unsubscribe"] = "unsubscribe"
    id: CommandId
    incident_id: int = Field(ge=1)


class ReadLog(_Frame):
    """The incident's event log, for exports, a page at a time: the events after seq `after`,
    answered with one `events` frame whose `more` says whether to ask again from its last seq."""

    type: Literal["read_log"] = "read_log"
    id: CommandId
    incident_id: int = Field(ge=1)
    after: int = Field(default=0, ge=0)


class ListIncidents(_Frame):
    type: Literal["list_incidents"] = "list_incidents"
    id: CommandId


class SubscribeTriage(_Frame):
    """Follow the triage list; answered with a `triage` frame, then one on every change."""

    type: Literal["subscribe_triage"] = "subscribe_triage"
    id: CommandId


class GetMetrics(_Frame):
    """The incident's latest metrics snapshot (taken now if there is none yet)."""

    type: Literal["get_metrics"] = "get_metrics"
    id: CommandId
    incident_id: int = Field(ge=1)


ClientFrame = Annotated[
    Subscribe
    | Unsubscribe
    | ListIncidents
    | ReadLog
    | SubscribeTriage
    | GetMetrics
    # Every write is a domain command; the list of them lives in domain/commands.py only.
    | Command,
    Field(discriminator="type"),
]
CLIENT_FRAME_ADAPTER: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


# --- server to client -------------------------------------------------------------------------


class Feature(StrEnum):
    """What a server offers beyond incidents, named in `welcome` so clients need not guess."""

    TRIAGE = "triage"
    """Alertmanager is configured: alerts become triage items to declare or dismiss."""
    METRICS = "metrics"
    """Prometheus is configured: incidents' services are polled and snapshots can be pinned."""
    COMPACT = "compact"
    """A subscribe may ask for its catch-up as `compact_events` (`subscribe.compact`)."""
    COMPACT_SNAPSHOT = "compact_snapshot"
    """A subscribe may ask for its snapshot as `compact_snapshot` (`subscribe.compact_snapshot`)."""
    COLUMNAR_SNAPSHOT = "columnar_snapshot"
    """A subscribe may ask for its snapshot as `columnar_snapshot`
    (`subscribe.columnar_snapshot`)."""
    COLUMNAR_EVENTS = "columnar_events"
    """A subscribe may ask for its catch-up as `columnar_events` (`subscribe.columnar_events`)."""
    PACKED_SNAPSHOT = "packed_snapshot"
    """A subscribe may ask for its snapshot packed, as a binary message
    (`subscribe.packed_snapshot`)."""


def _known_features(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return [name for name in value if not isinstance(name, str) or name in _FEATURE_NAMES]


_FEATURE_NAMES = frozenset(feature.value for feature in Feature)


class Welcome(_Frame):
    """First frame on every connection: who the token belongs to, which protocol is spoken and
    what the server offers."""

    type: Literal["welcome"] = "welcome"
    protocol: int = PROTOCOL_VERSION
    server: str
    user: str
    links: dict[str, ServiceLinks] = {}
    """Investigation URL templates per service (key `default` for the rest)."""
    features: Annotated[list[Feature], BeforeValidator(_known_features)] = []
    """The features this server offers, sorted. `subscribe_triage` and `get_metrics` are
    answered either way; without the feature the triage list stays empty and metrics say why.
    Names this client does not know (a newer server's) are left out, not refused: refusing
    them skipped the whole `welcome`, so a client never connected to a newer server."""


class Ack(_Frame):
    """A write was committed durably as event `seq` of `incident_id`. A triage command's ack
    names the triage log (`incident_id` 0, `TRIAGE_LOG`) and its record's `seq` there."""

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
    """The whole incident as of `seq`; `events` frames follow from seq + 1."""

    type: Literal["snapshot"] = "snapshot"
    id: str | None = None
    incident_id: int
    seq: int
    state: IncidentState
    head: int | None = None
    """The incident's latest seq when the reply was made. When it is past `seq` (a stored
    snapshot), an `events` frame with the same `id` follows at once with `seq` + 1 ... `head`;
    the subscribe is answered when that frame has been applied. None: the same as `seq`."""


class Events(_Frame):
    """Consecutive events of one incident, in order: a catch-up or a live batch."""

    type: Literal["events"] = "events"
    id: str | None = None
    incident_id: int
    events: list[Event]
    more: bool = False
    """In a `read_log` reply: more events follow the last one here (ask again with `after`)."""


class CompactEvents(_Frame):
    """An `events` frame answering a `subscribe` that asked for `compact`: the same events,
    `entry_added` ones as arrays of their values in `ENTRY_ROW_FIELDS` order (see
    `protocol.compact`), every other one as the same object as in `events`."""

    type: Literal["compact_events"] = "compact_events"
    id: str | None = None
    incident_id: int
    events: list[Annotated[EntryRow | Event, Field(union_mode="left_to_right")]]
    # In order, not "smart": an array is only ever a row and an object an event, and trying
    # both for each element cost a third of validating a frame of rows.


class ColumnarEvents(_Frame):
    """An `events` frame answering a `subscribe` that asked for `columnar_events`: the same
    events, runs of consecutive `entry_added` ones as columns (`protocol.columnar_events`),
    every other one as the same object as in `events`."""

    type: Literal["columnar_events"] = "columnar_events"
    id: str | None = None
    incident_id: int
    events: list[Annotated[EntryRun | Event, Field(union_mode="left_to_right")]]
    # In order: a run is told from an event by its keys (it has no `body`), and trying a run
    # first fails at once on an event's.


class CompactSnapshot(_Frame):
    """A `snapshot` answering a `subscribe` that asked for `compact_snapshot`: the same state,
    each timeline entry an array of its values in `SNAPSHOT_ROW_FIELDS` order (see
    `protocol.compact`); `CompactState.to_state` gives the state itself."""

    type: Literal["compact_snapshot"] = "compact_snapshot"
    id: str | None = None
    incident_id: int
    seq: int
    state: CompactState
    head: int | None = None
    """As in `snapshot`."""


class ColumnarSnapshot(_Frame):
    """A `snapshot` answering a `subscribe` that asked for `columnar_snapshot`: the same state,
    its timeline one array per entry field (`protocol.columnar`); `ColumnarState.to_state`
    gives the state itself."""

    type: Literal["columnar_snapshot"] = "columnar_snapshot"
    id: str | None = None
    incident_id: int
    seq: int
    state: ColumnarState
    head: int | None = None
    """As in `snapshot`."""


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


class TriageList(_Frame):
    """Every open triage item plus recent decisions, and whether Alertmanager is answering."""

    type: Literal["triage"] = "triage"
    id: str | None = None
    items: list[TriageItem]
    source: AlertSourceStatus


class MetricsReport(_Frame):
    """The latest metrics snapshot of an incident (None until one was taken)."""

    type: Literal["metrics"] = "metrics"
    id: str | None = None
    incident_id: int
    snapshot: MetricsSnapshot | None = None
    error: str | None = None
    """Why there is no snapshot (e.g. Prometheus is not configured)."""


ServerFrame = Annotated[
    Welcome
    | Ack
    | ErrorFrame
    | Snapshot
    | CompactSnapshot
    | ColumnarSnapshot
    | Events
    | CompactEvents
    | ColumnarEvents
    | Presence
    | IncidentList
    | Unsubscribed
    | TriageList
    | MetricsReport,
    Field(discriminator="type"),
]
SERVER_FRAME_ADAPTER: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)
