"""The compact catch-up encoding: timeline notes and entries as positional arrays instead of
objects.

A console far behind is sent thousands of `entry_added` events, each one a JSON object that
repeats every key of `Event` and `EntryAdded`. A client that asked for it (`subscribe.compact`,
offered as `Feature.COMPACT`) gets them as arrays of the same values in a fixed order, which it
validates in one pass as typed tuples, without building a model per event, and keeps as rows in
the state's `Timeline`, which builds each entry when it is first read; every other kind of event
is sent as the same object as in `events`. A client that asked for `compact_snapshot` likewise
gets a snapshot whose timeline entries are arrays of their fields (`CompactState`).

The orders are derived from the models and nowhere else (`domain.timeline_list`):
`ENTRY_ROW_FIELDS` is the `Event` fields (less `incident_id`, which the frame carries, and
`body`) then the `EntryAdded` fields (less `type`, which every row has); `SNAPSHOT_ROW_FIELDS`
is the `TimelineEntry` fields. docs/protocol.md describes both for other clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import compress, islice, pairwise
from operator import ne
from typing import TYPE_CHECKING, Annotated, Any, Final, get_args, get_origin, overload

import pydantic_core
from pydantic import Field, GetPydanticSchema, TypeAdapter
from pydantic_core import core_schema

from warroom.domain.events import EntryAdded, Event
from warroom.domain.incident import IncidentState
from warroom.domain.projection import add_entry_rows, apply_events
from warroom.domain.timeline import TimelineEntry
from warroom.domain.timeline_list import ADDED_ROW_FIELDS, ENTRY_FIELDS, Timeline
from warroom.domain.trusted import trusted

_FRAME_FIELDS: Final = ("incident_id",)
"""Event fields a row leaves out: the frame carries them."""
_EVENT_FIELDS: Final = tuple(
    name for name in Event.model_fields if name not in (*_FRAME_FIELDS, "body")
)
_BODY_FIELDS: Final = tuple(name for name in EntryAdded.model_fields if name != "type")

ENTRY_ROW_FIELDS: Final = ADDED_ROW_FIELDS
"""The values of a compact `entry_added` event, in order: `seq`, `at`, `actor`, `command_id`,
then `kind`, `text`, `occurred_at`, `correlation_id`, `tags`, `typed_at`."""

SNAPSHOT_ROW_FIELDS: Final = ENTRY_FIELDS
"""The values of a timeline entry in a compact snapshot, in order: every `TimelineEntry`
field."""

_ROW_TIMES: Final = ("at", "occurred_at", "typed_at")
"""The times of an `entry_added` row (checked against the models at the end of this module):
sent in UTC (`Z` or `+00:00`), which a client checks natively."""

_UtcRowTime = Annotated[
    datetime,
    GetPydanticSchema(lambda _type, _handler: core_schema.datetime_schema(tz_constraint=0)),
]
"""A stored time in a row: UTC, checked and decoded natively (a `UtcTime` runs its converter in
Python for every time, a third of validating a row; a UTC time needs no converting, and the
server sends an event whose times are not UTC as an object instead of a row)."""


def _row_annotation(name: str) -> Any:
    field = Event.model_fields.get(name) or EntryAdded.model_fields[name]
    if name in _ROW_TIMES:
        return _UtcRowTime if field.is_required() else _UtcRowTime | None
    return _held_as_tuple(field.rebuild_annotation())


def _held_as_tuple(annotation: Any) -> Any:
    """A list field's values as a tuple of the same items (the JSON is the same array): an
    empty one is the shared `()`, not a fresh list per row (`timeline_list.LIST_FIELDS`)."""
    if get_origin(annotation) is list:
        return tuple[get_args(annotation)[0], ...]  # type: ignore[misc]
    return annotation


if TYPE_CHECKING:
    EntryRow = tuple[Any, ...]
    SnapshotRow = tuple[Any, ...]
else:
    EntryRow = tuple[tuple(_row_annotation(name) for name in ENTRY_ROW_FIELDS)]
    SnapshotRow = tuple[
        tuple(
            _held_as_tuple(TimelineEntry.model_fields[name].rebuild_annotation())
            for name in ENTRY_FIELDS
        )
    ]
"""A compact `entry_added` event as validated, and a compact snapshot's timeline entry: every
value typed as its model field is (for the type checker, any tuple)."""

ENTRY_ROW_ADAPTER: TypeAdapter[tuple[Any, ...]] = TypeAdapter(EntryRow)


def compact_event_json(event_json: str) -> str:
    """One element of a `compact_events` frame from an event as the store serialised it: an
    array for `entry_added`, the event's own JSON for anything else.

    Raises:
        ValueError: the text is not an event object (a damaged stored row).
    """
    event = pydantic_core.from_json(event_json)
    if not isinstance(event, dict):
        raise ValueError("an event is a JSON object")
    body = event["body"]
    if not isinstance(body, dict) or body.get("type") != "entry_added":
        return event_json
    row = [event[name] for name in _EVENT_FIELDS] + [body[name] for name in _BODY_FIELDS]
    if not all(_is_utc_text(row[n]) for n in _ROW_TIME_POSITIONS):
        return event_json  # an old log's time with an offset: a row would not validate
    return pydantic_core.to_json(row).decode()


_ROW_TIME_POSITIONS: Final = tuple(ENTRY_ROW_FIELDS.index(name) for name in _ROW_TIMES)


def _is_utc_text(value: object) -> bool:
    # As pydantic writes a UTC time (`Z`), or as the store does (`+00:00`).
    return value is None or (isinstance(value, str) and value.endswith(("Z", "+00:00")))


def compact_state_json(state_json: str) -> str:
    """A serialised `IncidentState` as a compact snapshot's `state`: the same object, with each
    timeline entry an array of its values in `SNAPSHOT_ROW_FIELDS` order.

    Raises:
        ValueError: the text is not a state's JSON (a damaged stored snapshot).
    """
    try:
        state = pydantic_core.from_json(state_json)
        state["timeline"] = [
            [entry[name] for name in SNAPSHOT_ROW_FIELDS] for entry in state["timeline"]
        ]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a state: {exc}") from exc
    return pydantic_core.to_json(state).decode()


class CompactState(IncidentState):
    """An `IncidentState` as a `compact_snapshot` frame carries it: each timeline entry a row
    of its values, validated as a typed tuple and built into its entry only when read."""

    timeline: list[SnapshotRow] = Field(default_factory=list)  # type: ignore[assignment]
    # (A row list here, a `Timeline` of those rows in the state `to_state` makes.)

    def to_state(self) -> IncidentState:
        """The state itself, its timeline holding the rows until each entry is read."""
        values = dict(self.__dict__)
        values["timeline"] = Timeline.of_rows(values["timeline"])
        return trusted(IncidentState, values, set(self.model_fields_set))


CompactElement = tuple[Any, ...] | Event
"""One element of a validated `compact_events` frame: an `entry_added` row, or any event."""


def apply_compact(
    state: IncidentState, incident_id: int, elements: list[CompactElement]
) -> Sequence[Event]:
    """Apply the elements after the state's seq in place, as `apply_events` would apply the
    events they stand for (the ones the state already holds are skipped), and return those
    events; rows go into the timeline as rows (each built into its entry when read, see
    `Timeline`) and become events only if those are read.

    Raises:
        ProjectionError: as `apply_events` (an element does not follow the state's seq).
    """
    held = state.seq
    start = next((n for n, element in enumerate(elements) if _seq(element) > held), len(elements))
    applied = elements[start:] if start else elements
    # In runs: consecutive rows are added at once, consecutive events applied at once.
    is_row = [type(element) is tuple for element in applied]
    changes = compress(range(1, len(applied)), map(ne, is_row, islice(is_row, 1, None)))
    for run_start, run_end in pairwise([0, *changes, len(applied)] if applied else []):
        run = applied[run_start:run_end]
        if type(run[0]) is tuple:
            add_entry_rows(state, run)  # type: ignore[arg-type]
        else:
            apply_events(state, run)  # type: ignore[arg-type]
    return _AppliedEvents(incident_id, applied)


def _seq(element: CompactElement) -> int:
    return element[0] if isinstance(element, tuple) else element.seq


class _AppliedEvents(Sequence[Event]):
    """The events a compact frame stood for, each built when it is first read."""

    def __init__(self, incident_id: int, elements: list[CompactElement]) -> None:
        self._incident_id = incident_id
        self._elements = elements

    def __len__(self) -> int:
        return len(self._elements)

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | Sequence[Event]:
        if isinstance(index, slice):
            return _AppliedEvents(self._incident_id, self._elements[index])
        element = self._elements[index]
        if isinstance(element, Event):
            return element
        event = _entry_event(self._incident_id, element)
        self._elements[index] = event
        return event


def _entry_event(incident_id: int, row: tuple[Any, ...]) -> Event:
    """The event a validated row stands for, built without validating it again."""
    seq, at, actor, command_id, kind, text, occurred_at, correlation_id, tags, typed_at = row
    body = trusted(
        EntryAdded,
        {
            "type": "entry_added",
            "kind": kind,
            "text": text,
            "occurred_at": occurred_at,
            "correlation_id": correlation_id,
            "tags": list(tags),
            "typed_at": typed_at,
        },
    )
    fields = {
        "incident_id": incident_id,
        "seq": seq,
        "at": at,
        "actor": actor,
        "command_id": command_id,
        "body": body,
    }
    return trusted(Event, fields)


# The functions above unpack rows and name fields for speed: all of them, in the models' order.
if ENTRY_ROW_FIELDS != (
    "seq",
    "at",
    "actor",
    "command_id",
    "kind",
    "text",
    "occurred_at",
    "correlation_id",
    "tags",
    "typed_at",
) or tuple(Event.model_fields) != (*_FRAME_FIELDS, *_EVENT_FIELDS, "body"):
    raise AssertionError("the event models changed: update the compact encoding to their fields")
if {
    name
    for name in ENTRY_ROW_FIELDS
    if "datetime" in str((Event.model_fields.get(name) or EntryAdded.model_fields[name]).annotation)
} != set(_ROW_TIMES):
    raise AssertionError("the event models changed: update the compact encoding to their fields")
