"""The columnar catch-up: a console's missed `entry_added` events as runs of columns, validated
in bulk and taken into the timeline as columns (`domain.timeline_columns`) until each entry is
read.

A client that asked for it (`subscribe.columnar_events`, offered as `Feature.COLUMNAR_EVENTS`)
gets a `columnar_events` frame instead of `events` or `compact_events`: its `events` are, in
seq order, runs of consecutive `entry_added` events (`EntryRun`: the first seq, then one array
per field; kinds and actors numbers into lists of the names, times integer microseconds since
1970 UTC) and every other event as the same object as in `events` (docs/protocol.md). A run's
seqs are consecutive by construction, so a run cannot carry a gap. Validating a run makes a
Python object per text and time, not a tuple, its times and an entry per event (sync19).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Final, overload

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, model_validator

from warroom.domain.events import EntryAdded, Event
from warroom.domain.incident import IncidentState
from warroom.domain.projection import add_entry_columns, apply_events
from warroom.domain.timeline import EntryKind
from warroom.domain.timeline_columns import (
    EARLIEST_MICROS,
    LATEST_MICROS,
    TimelineColumns,
    micros_of_time,
    time_of_micros,
)
from warroom.domain.trusted import trusted

Micros = Annotated[int, Field(ge=EARLIEST_MICROS, le=LATEST_MICROS)]
"""A time in a column: microseconds since 1970-01-01 UTC, within the calendar."""
Code = Annotated[int, Field(ge=0)]
"""A number into a run's list of names."""

MIN_RUN: Final = 8
"""Fewer consecutive `entry_added` events than this are sent as objects: a run's names and
keys would cost more than they save, and a log of alternating kinds stays no larger."""

_OPTIONAL: Final[dict[str, Any]] = {
    "command_id": None,
    "occurred_at": None,
    "correlation_id": None,
    "tags": (),
    "typed_at": None,
}
"""The columns left out of a run when every event in it holds the field's default."""


class EntryRun(BaseModel):
    """Consecutive `entry_added` events from `seq` on, one array per field (`text`, `kind`,
    `actor` and `at` for every event; the others only when some event's value is not the
    default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int = Field(ge=1)
    """The first event's seq; the n-th value of each column is the event `seq + n`'s."""
    kinds: list[EntryKind]
    """The kinds `kind` numbers."""
    actors: list[str]
    """The actors `actor` numbers."""
    kind: list[Code]
    actor: list[Code]
    at: list[Micros]
    text: list[str]
    command_id: list[str | None] | None = None
    occurred_at: list[Micros | None] | None = None
    correlation_id: list[str | None] | None = None
    tags: list[tuple[str, ...]] | None = None
    typed_at: list[Micros | None] | None = None

    @model_validator(mode="after")
    def _columns_line_up(self) -> EntryRun:
        count = len(self.text)
        if not count:
            raise ValueError("a run holds at least one event")
        required = (self.kind, self.actor, self.at)
        optional = (getattr(self, name) for name in _OPTIONAL)
        if any(len(column) != count for column in required) or any(
            column is not None and len(column) != count for column in optional
        ):
            raise ValueError("every column holds one value per event")
        if max(self.kind) >= len(self.kinds):
            raise ValueError("a kind's number is not in `kinds`")
        if max(self.actor) >= len(self.actors):
            raise ValueError("an actor's number is not in `actors`")
        return self

    @property
    def last_seq(self) -> int:
        return self.seq + len(self.text) - 1

    def to_columns(self) -> TimelineColumns:
        """The entries these events add, as the timeline keeps them (the lists themselves)."""
        return TimelineColumns(
            ids=range(self.seq, self.seq + len(self.text)),
            kind_codes=self.kind,
            kinds=self.kinds,
            texts=self.text,
            author_codes=self.actor,
            authors=self.actors,
            at=self.at,
            occurred_at=self.occurred_at,
            typed_at=self.typed_at,
            correlation_id=self.correlation_id,
            tags=self.tags,
            from_events=True,
        )

    def event(self, incident_id: int, place: int) -> Event:
        """The event at `place` in the run, built without validating it again."""
        body = trusted(
            EntryAdded,
            {
                "type": "entry_added",
                "kind": self.kinds[self.kind[place]],
                "text": self.text[place],
                "occurred_at": _time_at(self.occurred_at, place),
                "correlation_id": None
                if self.correlation_id is None
                else self.correlation_id[place],
                "tags": [] if self.tags is None else list(self.tags[place]),
                "typed_at": _time_at(self.typed_at, place),
            },
        )
        values = {
            "incident_id": incident_id,
            "seq": self.seq + place,
            "at": time_of_micros(self.at[place]),
            "actor": self.actors[self.actor[place]],
            "command_id": None if self.command_id is None else self.command_id[place],
            "body": body,
        }
        return trusted(Event, values)


def _time_at(column: list[int | None] | None, place: int) -> datetime | None:
    micros = None if column is None else column[place]
    return None if micros is None else time_of_micros(micros)


ColumnarElement = EntryRun | Event
"""One element of a validated `columnar_events` frame: a run of added entries, or any event."""


def apply_columnar(
    state: IncidentState, incident_id: int, elements: list[ColumnarElement]
) -> Sequence[Event]:
    """Apply the elements after the state's seq in place, as `apply_events` would apply the
    events they stand for (those the state already holds are skipped), and return those events;
    runs go into the timeline as columns and become events only if those are read.

    Raises:
        ProjectionError: as `apply_events` (an element does not follow the state's seq); the
            elements before it stay applied.
    """
    held = state.seq
    applied: list[ColumnarElement] = []
    for element in elements:
        if isinstance(element, EntryRun):
            if element.last_seq <= held:
                continue
            if element.seq <= held:
                element = _run_after(element, held)
        elif element.seq <= held:
            continue
        applied.append(element)
    pending: list[Event] = []
    for element in applied:
        if isinstance(element, Event):
            pending.append(element)
            continue
        if pending:
            apply_events(state, pending)
            pending = []
        add_entry_columns(state, element.to_columns())
    if pending:
        apply_events(state, pending)
    return _AppliedEvents(incident_id, applied)


def _run_after(run: EntryRun, held: int) -> EntryRun:
    """The part of a run after seq `held` (which falls inside it)."""
    skip = held + 1 - run.seq
    values: dict[str, Any] = {"seq": held + 1, "kinds": run.kinds, "actors": run.actors}
    for name in ("kind", "actor", "at", "text", *_OPTIONAL):
        column = getattr(run, name)
        values[name] = None if column is None else column[skip:]
    return trusted(EntryRun, values, set(run.model_fields_set))


class _AppliedEvents(Sequence[Event]):
    """The events a columnar frame stood for, each built when it is first read."""

    def __init__(self, incident_id: int, elements: list[ColumnarElement]) -> None:
        self._incident_id = incident_id
        self._elements = elements
        self._starts: list[int] = []
        count = 0
        for element in elements:
            self._starts.append(count)
            count += len(element.text) if isinstance(element, EntryRun) else 1
        self._count = count

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | Sequence[Event]:
        if isinstance(index, slice):
            return [self[n] for n in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        at = bisect_right(self._starts, index) - 1
        element = self._elements[at]
        if isinstance(element, Event):
            return element
        return element.event(self._incident_id, index - self._starts[at])


class EventColumns:
    """The server's side: a log's events as the columns a run carries, converted once per event
    and kept (an `entry_added` event's values; placeholders for any other event, or one whose
    times a column cannot carry), so each far-behind console costs slicing lists, not parsing
    its events."""

    def __init__(self) -> None:
        self._kinds: dict[str, int] = {}
        self._actors: dict[str, int] = {}
        self._is_entry = bytearray()
        """Per event: 1 if the columns hold it (an `entry_added` event with UTC times)."""
        self._columns: dict[str, list[Any]] = {name: [] for name in _COLUMNS}
        self._given: dict[str, list[int]] = {name: [] for name in _OPTIONAL}
        """Per optional column, the positions (increasing) whose value is not the default: a
        run leaves the column out if none falls in its range."""

    def __len__(self) -> int:
        return len(self._is_entry)

    def forget_after(self, count: int) -> None:
        """Keep the first `count` events only (the log was cut back to them)."""
        del self._is_entry[count:]
        for column in self._columns.values():
            del column[count:]
        for positions in self._given.values():
            del positions[bisect_left(positions, count) :]

    def extend(self, event_jsons: Sequence[str]) -> None:
        """Convert the events after those held.

        Raises:
            ValueError: a text is not an event object (a damaged stored row); the events before
                it stay converted.
        """
        for event_json in event_jsons:
            self._append(self._converted(event_json))

    def _append(self, values: tuple[Any, ...] | None) -> None:
        position = len(self._is_entry)
        self._is_entry.append(values is not None)
        for name, value in zip(_COLUMNS, values or _PLACEHOLDER, strict=True):
            self._columns[name].append(value)
            if name in _OPTIONAL and value is not None and value != []:
                self._given[name].append(position)

    def _converted(self, event_json: str) -> tuple[Any, ...] | None:
        event = pydantic_core.from_json(event_json)
        if not isinstance(event, dict):
            raise ValueError("an event is a JSON object")
        body = event.get("body")
        if not isinstance(body, dict) or body.get("type") != "entry_added":
            return None
        times = (event.get("at"), body.get("occurred_at"), body.get("typed_at"))
        if not all(value is None or _is_utc_text(value) for value in times):
            return None  # an old log's time with an offset: sent as the event it is
        at, occurred_at, typed_at = (
            None if value is None else micros_of_time(datetime.fromisoformat(value))
            for value in times
        )
        if at is None:
            raise ValueError("an event has a time")
        return (
            self._kinds.setdefault(body["kind"], len(self._kinds)),
            self._actors.setdefault(event["actor"], len(self._actors)),
            at,
            body["text"],
            event.get("command_id"),
            occurred_at,
            body.get("correlation_id"),
            body.get("tags", []),
            typed_at,
        )

    def elements(
        self, event_jsons: Sequence[str], after: int, seq: int, min_run: int = MIN_RUN
    ) -> list[bytes]:
        """The elements of a `columnar_events` frame with the events after seq `after` up to
        `seq` (`event_jsons` the log's events as stored, these columns extended over them);
        fewer than `min_run` consecutive added entries go as objects."""
        parts: list[bytes] = []
        is_entry = self._is_entry
        position = after
        while position < seq:
            end = is_entry.find(0, position, seq)
            end = seq if end < 0 else end
            if end - position >= min_run:
                parts.append(self._run_json(position, end))
            else:
                end = max(end, position + 1)
                parts.extend(text.encode() for text in event_jsons[position:end])
            position = end
        return parts

    def _run_json(self, start: int, end: int) -> bytes:
        run: dict[str, Any] = {
            "seq": start + 1,
            "kinds": list(self._kinds),
            "actors": list(self._actors),
        }
        for name, column in self._columns.items():
            positions = self._given.get(name)
            if positions is not None:
                first = bisect_left(positions, start)
                if first == len(positions) or positions[first] >= end:
                    continue  # every value in the run is the default
            run[name] = column[start:end]
        return pydantic_core.to_json(run)


_COLUMNS: Final = (
    "kind",
    "actor",
    "at",
    "text",
    "command_id",
    "occurred_at",
    "correlation_id",
    "tags",
    "typed_at",
)
"""The columns in the order `EventColumns._converted` gives their values."""
_PLACEHOLDER: Final[tuple[Any, ...]] = (0, 0, 0, "", None, None, None, [], None)
"""The values held for an event the columns do not carry (never sent)."""


def _is_utc_text(value: object) -> bool:
    # As pydantic writes a UTC time (`Z`), or as the store does (`+00:00`).
    return isinstance(value, str) and value.endswith(("Z", "+00:00"))


# A run carries every field of `entry_added` and of its event but the frame's incident.
if set(EntryRun.model_fields) - {"kinds", "actors"} != (
    set(Event.model_fields) - {"incident_id", "body"}
) | (set(EntryAdded.model_fields) - {"type"}):
    raise AssertionError("the event models changed: update the columnar catch-up to their fields")
