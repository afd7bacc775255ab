"""The compact catch-up encoding: timeline notes as positional arrays instead of event objects.

A console far behind is sent thousands of `entry_added` events, each one a JSON object that
repeats every key of `Event` and `EntryAdded`. A client that asked for it (`subscribe.compact`,
offered as `Feature.COMPACT`) gets them as arrays of the same values in a fixed order, which it
validates in one pass without building a model per event and turns into events with the
trusted constructors; every other kind of event is sent as the same object as in `events`.

The order is derived here from the models and nowhere else: `ENTRY_ROW_FIELDS` is the `Event`
fields (less `incident_id`, which the frame carries, and `body`) then the `EntryAdded` fields
(less `type`, which every row has). docs/protocol.md describes it for other clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, overload

import pydantic_core
from pydantic import TypeAdapter
from pydantic.fields import FieldInfo

from warroom.domain.events import EntryAdded, Event
from warroom.domain.incident import IncidentState
from warroom.domain.projection import add_entries, apply_events, new_entry
from warroom.domain.timeline import TimelineEntry
from warroom.domain.trusted import trusted

_FRAME_FIELDS: Final = ("incident_id",)
"""Event fields a row leaves out: the frame carries them."""
_EVENT_FIELDS: Final = tuple(
    name for name in Event.model_fields if name not in (*_FRAME_FIELDS, "body")
)
_BODY_FIELDS: Final = tuple(name for name in EntryAdded.model_fields if name != "type")

ENTRY_ROW_FIELDS: Final = (*_EVENT_FIELDS, *_BODY_FIELDS)
"""The values of a compact `entry_added` event, in order: `seq`, `at`, `actor`, `command_id`,
then `kind`, `text`, `occurred_at`, `correlation_id`, `tags`, `typed_at`."""


def _annotation(field: FieldInfo) -> Any:
    return field.rebuild_annotation()


if TYPE_CHECKING:
    EntryRow = tuple[Any, ...]
else:
    EntryRow = tuple[
        tuple(
            [_annotation(Event.model_fields[name]) for name in _EVENT_FIELDS]
            + [_annotation(EntryAdded.model_fields[name]) for name in _BODY_FIELDS]
        )
    ]
"""A compact `entry_added` event as validated: every value typed as its model field is (for
the type checker, any tuple)."""

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
    return pydantic_core.to_json(row).decode()


CompactElement = tuple[Any, ...] | Event
"""One element of a validated `compact_events` frame: an `entry_added` row, or any event."""


def apply_compact(
    state: IncidentState, incident_id: int, elements: list[CompactElement]
) -> Sequence[Event]:
    """Apply the elements after the state's seq in place, as `apply_events` would apply the
    events they stand for (the ones the state already holds are skipped), and return those
    events; rows become timeline entries directly and events only if they are read.

    Raises:
        ProjectionError: as `apply_events` (an element does not follow the state's seq).
    """
    held = state.seq
    start = next((n for n, element in enumerate(elements) if _seq(element) > held), len(elements))
    applied = elements[start:] if start else elements
    entries: list[TimelineEntry] = []
    for element in applied:
        if isinstance(element, tuple):
            seq, at, actor, _, kind, text, occurred_at, correlation_id, tags, typed_at = element
            entries.append(
                new_entry(seq, at, actor, kind, text, occurred_at, correlation_id, tags, typed_at)
            )
            continue
        add_entries(state, entries)
        entries = []
        apply_events(state, [element])
    add_entries(state, entries)
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
            "tags": tags,
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
