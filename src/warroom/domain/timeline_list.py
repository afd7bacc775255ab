"""`Timeline`: an incident's timeline entries as a list that may hold validated rows and builds
each `TimelineEntry` the first time it is read.

A console catching up takes in thousands of entries and shows a screenful; building a Python
model for every entry it was sent was most of what catching up cost it (docs/performance.md,
"Lazy timeline"). A compact catch-up's rows arrive already validated value by value (typed
tuples, `protocol.compact`), so the timeline keeps them as they are and makes the entry at a
position when something reads it, then keeps the entry in the row's place: what is read is
always the same `TimelineEntry` model the projection makes, and changes made to it stay.

Two shapes of row are held, told apart by length: an entry row (`ENTRY_FIELDS`, the entry's
own fields in the model's order, as a compact snapshot carries them) and an added-entry row
(`ADDED_ROW_FIELDS`, the values of an `entry_added` event, as a compact catch-up carries them).
A row's list values (`LIST_FIELDS`: tags, mentions, revisions) may be tuples: validated as
tuples, the empty ones nearly every entry has are all one shared `()` instead of a fresh list
each (three lists per entry were a third of the memory a snapshot's rows took, and a console
catching up pays for fresh memory in page faults: sync17). The entry built gets lists.

A timeline may also hold columns (`TimelineColumns`): a columnar snapshot's, from its first
position, and a columnar catch-up's runs of added entries, appended. Their positions hold None
until read, and the entry is built from the columns of the run holding that position. Inserting
or deleting (which would shift positions) builds every entry first.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, MutableSequence
from datetime import datetime, timedelta
from typing import Any, Final, get_origin, overload

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from warroom.domain.events import EntryAdded, Event
from warroom.domain.instants import order_key
from warroom.domain.timeline import EntryKind, TimelineEntry, entry_when, find_mentions
from warroom.domain.timeline_columns import TimelineColumns
from warroom.domain.trusted import trusted

ENTRY_FIELDS: Final = tuple(TimelineEntry.model_fields)
"""The values of an entry row, in order: every field of `TimelineEntry`."""

ADDED_ROW_FIELDS: Final = (
    *(name for name in Event.model_fields if name not in ("incident_id", "body")),
    *(name for name in EntryAdded.model_fields if name != "type"),
)
"""The values of an added-entry row, in order: the `Event` fields less `incident_id` and
`body`, then the `EntryAdded` fields less `type`."""

LIST_FIELDS: Final = tuple(
    name
    for name, field in TimelineEntry.model_fields.items()
    if get_origin(field.annotation) is list
)
"""The entry fields that are lists, which a row may hold as tuples."""

Row = tuple[Any, ...]
"""A validated row of either shape."""

_ENTRY_ROW_LENGTH: Final = len(ENTRY_FIELDS)
_AT, _OCCURRED_AT, _TYPED_AT = (ENTRY_FIELDS.index(n) for n in ("at", "occurred_at", "typed_at"))
_ADDED_AT, _ADDED_OCCURRED_AT, _ADDED_TYPED_AT = (
    ADDED_ROW_FIELDS.index(n) for n in ("at", "occurred_at", "typed_at")
)
_ADDED_FIELDS_SET: Final = frozenset(
    TimelineEntry.model_fields.keys() - {"next_update_at", "struck", "struck_reason", "revisions"}
)
"""The fields an added entry is given (the rest keep their defaults until amended or struck)."""


_MICROSECOND: Final = timedelta(microseconds=1)
"""A column's time unit; multiplied, a third of the cost of `timedelta(microseconds=...)`."""


def new_entry(
    seq: int,
    at: datetime,
    actor: str,
    kind: EntryKind,
    text: str,
    occurred_at: datetime | None,
    correlation_id: str | None,
    tags: list[str],
    typed_at: datetime | None,
) -> TimelineEntry:
    """The timeline entry an `entry_added` event with these validated values makes (its id is
    the event's seq; its author the event's actor). Every field is named, in the model's order,
    so nothing is merged per entry: a client catching up makes thousands."""
    return trusted(
        TimelineEntry,
        {
            "id": seq,
            "kind": kind,
            "text": text,
            "author": actor,
            "at": at,
            "occurred_at": occurred_at,
            "typed_at": typed_at,
            "next_update_at": None,
            "correlation_id": correlation_id,
            "tags": list(tags),
            "mentions": find_mentions(text),
            "struck": False,
            "struck_reason": None,
            "revisions": [],
        },
        set(_ADDED_FIELDS_SET),
    )


def _entry_of(row: Row) -> TimelineEntry:
    if len(row) == _ENTRY_ROW_LENGTH:
        values = dict(zip(ENTRY_FIELDS, row, strict=True))
        for name in LIST_FIELDS:
            values[name] = list(values[name])
        return trusted(TimelineEntry, values)
    seq, at, actor, _, kind, text, occurred_at, correlation_id, tags, typed_at = row
    return new_entry(seq, at, actor, kind, text, occurred_at, correlation_id, tags, typed_at)


def _id_of(item: TimelineEntry | Row) -> int:
    # Both shapes of row begin with the entry's id (an added entry's id is its event's seq).
    return item[0] if type(item) is tuple else item.id  # type: ignore[union-attr]


def _when_of(item: TimelineEntry | Row) -> datetime:
    if type(item) is not tuple:
        return item.when  # type: ignore[union-attr]
    if len(item) == _ENTRY_ROW_LENGTH:
        return entry_when(item[_AT], item[_OCCURRED_AT], item[_TYPED_AT])
    return entry_when(item[_ADDED_AT], item[_ADDED_OCCURRED_AT], item[_ADDED_TYPED_AT])


def _kind_of(item: TimelineEntry | Row) -> EntryKind:
    if type(item) is not tuple:
        return item.kind  # type: ignore[union-attr]
    kind: EntryKind = item[1] if len(item) == _ENTRY_ROW_LENGTH else item[4]
    return kind


class Timeline(MutableSequence[TimelineEntry]):
    """The entries of an incident in the order they were recorded (by id), each built from its
    row when first read. Reads, writes, slices (as lists), `==` with a list of entries and
    pydantic validation and dumps behave as for `list[TimelineEntry]`, which is what it is
    validated from and dumped as."""

    __slots__ = ("_items", "_rows", "_runs", "_starts")

    def __init__(self, entries: Iterable[TimelineEntry] = ()) -> None:
        self._items: list[TimelineEntry | Row | None] = list(entries)
        """The entries, and rows not read yet in the places of theirs (None: the entry is in
        a run of `_runs`); never rebound, so `built()` hands out the same list
        for the timeline's whole life."""
        self._rows = 0
        """How many of `_items` are still rows (or None)."""
        self._runs: list[TimelineColumns] = []
        """Columns the positions holding None are read from while not built: each run from
        the position in `_starts` at the same index, for its length; never changed, so shared
        by copies."""
        self._starts: list[int] = []

    @classmethod
    def of_rows(cls, rows: list[Row]) -> Timeline:
        """A timeline of validated entry rows (`ENTRY_FIELDS`), taking the list as it is."""
        timeline = cls()
        timeline._items = rows  # type: ignore[assignment]
        timeline._rows = len(rows)
        return timeline

    @classmethod
    def of_columns(cls, columns: TimelineColumns) -> Timeline:
        """A timeline of validated columns, every entry built when first read."""
        timeline = cls()
        timeline.extend_columns(columns)
        return timeline

    def extend_columns(self, columns: TimelineColumns) -> None:
        """Append validated columns (whose ids follow this timeline's), built when read."""
        self._starts.append(len(self._items))
        self._runs.append(columns)
        self._items.extend([None] * len(columns))
        self._rows += len(columns)

    def _run_at(self, index: int) -> tuple[TimelineColumns, int]:
        """The columns holding the (non-negative) position, and its place in them."""
        run = bisect_right(self._starts, index) - 1
        return self._runs[run], index - self._starts[run]

    def _entry_at(self, index: int) -> TimelineEntry:
        columns, place = self._run_at(index)
        return columns.entry(place)

    def extend_rows(self, rows: list[Row]) -> None:
        """Append validated added-entry rows (`ADDED_ROW_FIELDS`), built when read."""
        self._items.extend(rows)
        self._rows += len(rows)

    @property
    def unbuilt(self) -> int:
        """How many entries are still rows (none once every one was read)."""
        return self._rows

    def built(self) -> list[TimelineEntry]:
        """Every entry built, as the timeline's own list (read it, do not change it): for
        readers that go over all of them and want a plain list's speed."""
        if self._rows:
            items = self._items
            for start, columns in zip(self._starts, self._runs, strict=True):
                for place in range(len(columns)):
                    if items[start + place] is None:
                        items[start + place] = columns.entry(place)
            for index, item in enumerate(items):
                if type(item) is tuple:
                    items[index] = _entry_of(item)
            self._rows = 0
        self._runs = []
        self._starts = []
        return self._items  # type: ignore[return-value]

    def copy(self) -> Timeline:
        """A new timeline of the same entries (and rows)."""
        timeline = Timeline()
        timeline._items = list(self._items)
        timeline._rows = self._rows
        timeline._runs = list(self._runs)
        timeline._starts = list(self._starts)
        return timeline

    __copy__ = copy

    def index_of(self, entry_id: int) -> int | None:
        """The position of the entry with this id, found without building any entry: ids are
        increasing."""
        items = self._items
        if not self._runs:
            index = bisect_left(items, entry_id, key=_id_of)  # type: ignore[arg-type]
        else:
            # A run's positions keep its ids (`__setitem__` sees to it).
            index = bisect_left(range(len(items)), entry_id, key=self._id_at)
        if index < len(items) and self._id_at(index) == entry_id:
            return index
        return None

    def _id_at(self, index: int) -> int:
        item = self._items[index]
        if item is None:
            columns, place = self._run_at(index)
            return columns.ids[place]
        return _id_of(item)

    def kind_at(self, index: int) -> EntryKind:
        """The kind of the entry at `index`, read without building it."""
        item = self._items[index]
        if item is None:
            columns, place = self._run_at(index % len(self._items))
            return columns.kind(place)
        return _kind_of(item)

    def newest_of_kind(self, kind: EntryKind) -> Iterator[TimelineEntry]:
        """The entries of this kind, newest first, building only those (a pane looking for
        the latest status update or metrics reads every entry's kind, not every entry)."""
        for index in range(len(self._items) - 1, -1, -1):
            if self.kind_at(index) is kind:
                yield self[index]

    def whens(self, start: int = 0) -> list[datetime]:
        """`TimelineEntry.when` of the entries from `start` on, read without building them (a
        console orders its timeline by these)."""
        if not self._runs:
            return [_when_of(item) for item in self._items[start:]]  # type: ignore[arg-type]
        return [self._when_at(index) for index in range(start, len(self._items))]

    def order_keys(self, start: int = 0) -> list[timedelta]:
        """`order_key(entry.when)` of the entries from `start` on, read without building them
        (a column's time is an integer, made into the key without a `datetime`)."""
        if not self._runs:
            return list(map(order_key, self.whens(start)))
        items = self._items
        keys: list[timedelta] = []
        for index in range(start, len(items)):
            item = items[index]
            if item is None:
                columns, place = self._run_at(index)
                keys.append(_MICROSECOND * columns.when_micros(place))
            else:
                keys.append(order_key(_when_of(item)))
        return keys

    def ids(self, start: int = 0) -> list[int]:
        """The ids of the entries from `start` on, read without building them."""
        if not self._runs:
            return [_id_of(item) for item in self._items[start:]]  # type: ignore[arg-type]
        return [self._id_at(index) for index in range(start, len(self._items))]

    def _when_at(self, index: int) -> datetime:
        item = self._items[index]
        if item is None:
            return self._entry_at(index).when
        return _when_of(item)

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> TimelineEntry: ...
    @overload
    def __getitem__(self, index: slice) -> list[TimelineEntry]: ...
    def __getitem__(self, index: int | slice) -> TimelineEntry | list[TimelineEntry]:
        if isinstance(index, slice):
            return [self[n] for n in range(*index.indices(len(self._items)))]
        item = self._items[index]
        if item is None:
            item = self._items[index] = self._entry_at(index % len(self._items))
            self._rows -= 1
        elif type(item) is tuple:
            item = self._items[index] = _entry_of(item)
            self._rows -= 1
        return item  # type: ignore[return-value]

    @overload
    def __setitem__(self, index: int, value: TimelineEntry) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[TimelineEntry]) -> None: ...
    def __setitem__(
        self, index: int | slice, value: TimelineEntry | Iterable[TimelineEntry]
    ) -> None:
        if isinstance(index, slice):
            self.built()[index] = value  # type: ignore[assignment]
            return
        if self._runs and index % len(self._items) >= self._starts[0]:
            assert isinstance(value, TimelineEntry)
            if value.id != self._id_at(index % len(self._items)):
                # `index_of` reads the runs' ids for their positions: keep them true.
                self.built()
        item = self._items[index]
        if item is None or type(item) is tuple:
            self._rows -= 1
        self._items[index] = value  # type: ignore[assignment]

    def __delitem__(self, index: int | slice) -> None:
        if isinstance(index, slice):
            del self.built()[index]
            return
        if self._runs:
            self.built()  # positions shift: the columns would no longer line up
        if type(self._items[index]) is tuple:
            self._rows -= 1
        del self._items[index]

    def insert(self, index: int, value: TimelineEntry) -> None:
        if self._runs:
            self.built()
        self._items.insert(index, value)

    def append(self, value: TimelineEntry) -> None:
        self._items.append(value)

    def __iter__(self) -> Iterator[TimelineEntry]:
        if not self._rows:
            return iter(self._items)  # type: ignore[arg-type]
        return self._building_iterator()

    def _building_iterator(self) -> Iterator[TimelineEntry]:
        index = 0
        while index < len(self._items):
            yield self[index]
            index += 1

    def __reversed__(self) -> Iterator[TimelineEntry]:
        if not self._rows:
            return reversed(self._items)  # type: ignore[arg-type]
        return (self[n] for n in range(len(self._items) - 1, -1, -1))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Timeline):
            other = other.built()
        if isinstance(other, list):
            return self.built() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Timeline({self.built()!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # Validated and dumped exactly as `list[TimelineEntry]` (the same JSON schema, so stored
        # snapshots stay valid), then held as a timeline. An after-validator, not a wrap: a wrap
        # makes Python objects of the JSON before validating them, which tripled the cost.
        entries = handler.generate_schema(list[TimelineEntry])
        from_list = core_schema.no_info_after_validator_function(_of_entries, entries)
        return core_schema.json_or_python_schema(
            json_schema=from_list,
            python_schema=core_schema.union_schema(
                [
                    # A timeline given is copied, as a list given would be.
                    core_schema.chain_schema(
                        [
                            core_schema.is_instance_schema(Timeline),
                            core_schema.no_info_plain_validator_function(Timeline.copy),
                        ]
                    ),
                    from_list,
                ],
                mode="left_to_right",
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(
                Timeline.built, return_schema=entries
            ),
        )


def _of_entries(entries: list[TimelineEntry | Row | None]) -> Timeline:
    timeline = Timeline()
    timeline._items = entries  # validated: entries only, taken without copying
    return timeline
