"""`TimelineColumns`: a timeline's entries held as one list per field, as a columnar snapshot
carries them, each entry built from its position's values only when read.

A console syncing an incident makes a Python object for every value it is sent. Rows (one typed
tuple per entry, `timeline_list`) cost a tuple, a time or two and the text per entry; columns
cost the text and two integers, and nothing for the kinds and authors, which are numbers into a
short list of the names used (small integers are shared objects in CPython), nor for a column
whose every value is the default, which is left out. Times are integers: microseconds since
1970-01-01 UTC, made into a `datetime` for the entries read, and ordered as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from types import MappingProxyType
from typing import Final, TypeVar, overload

from warroom.domain.timeline import EntryKind, EntryRevision, TimelineEntry, find_mentions
from warroom.domain.trusted import trusted

_T = TypeVar("_T")

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
"""What a column's time counts microseconds from."""
EARLIEST_MICROS: Final = (datetime(1, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)
LATEST_MICROS: Final = (datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC) - EPOCH) // (
    timedelta(microseconds=1)
)
"""The range of a column's time: every one of them is a UTC `datetime`."""


def time_of_micros(micros: int) -> datetime:
    """The UTC time a column's integer stands for (`EARLIEST_MICROS`..`LATEST_MICROS`)."""
    return EPOCH + timedelta(microseconds=micros)


def micros_of_time(when: datetime) -> int:
    """A UTC time as a column's integer (exact: a `datetime` holds whole microseconds)."""
    return (when - EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class TimelineColumns:
    """The entries of a timeline, one list per `TimelineEntry` field, all of one length. A
    column given as None holds the field's default for every entry. Validated by whoever made
    it (the protocol's columnar snapshot): lengths equal, codes within their name lists, times
    within range.

    Columns of `entry_added` events (a columnar catch-up's, `from_events`) are the entries
    those events make: each one's mentions are found in its text when it is built, as the
    projection finds them, and its ids (the events' seqs) are a `range`. A packed snapshot's
    (`protocol.packed`) are arrays and bytes as they came, its texts `JoinedTexts`."""

    ids: Sequence[int]
    kind_codes: Sequence[int]
    kinds: list[EntryKind]
    """The kinds used, which `kind_codes` number from 0."""
    texts: Sequence[str]
    author_codes: Sequence[int]
    authors: list[str]
    """The authors, which `author_codes` number from 0."""
    at: Sequence[int]
    occurred_at: list[int | None] | None = None
    typed_at: list[int | None] | None = None
    next_update_at: list[int | None] | None = None
    correlation_id: list[str | None] | None = None
    tags: list[tuple[str, ...]] | None = None
    mentions: list[tuple[str, ...]] | None = None
    struck: list[bool] | None = None
    struck_reason: list[str | None] | None = None
    revisions: list[tuple[EntryRevision, ...]] | None = None
    from_events: bool = False
    """Made by `entry_added` events: mentions found in the text, the other fields an added
    entry is not given left at their defaults (and out of its `model_fields_set`)."""

    def __len__(self) -> int:
        return len(self.ids)

    def kind(self, index: int) -> EntryKind:
        return self.kinds[self.kind_codes[index]]

    def when_micros(self, index: int) -> int:
        """`TimelineEntry.when` of the entry at `index`, as a column's integer."""
        if self.occurred_at is not None:
            occurred = self.occurred_at[index]
            if occurred is not None:
                return occurred
        at = self.at[index]
        if self.typed_at is not None:
            typed = self.typed_at[index]
            if typed is not None and typed < at:
                return typed
        return at

    def entry(self, index: int) -> TimelineEntry:
        """The entry at `index`, built without validating its values again (its lists fresh)."""
        return trusted(
            TimelineEntry,
            {
                "id": self.ids[index],
                "kind": self.kinds[self.kind_codes[index]],
                "text": self.texts[index],
                "author": self.authors[self.author_codes[index]],
                "at": time_of_micros(self.at[index]),
                "occurred_at": _time_at(self.occurred_at, index),
                "typed_at": _time_at(self.typed_at, index),
                "next_update_at": _time_at(self.next_update_at, index),
                "correlation_id": _value_at(self.correlation_id, index),
                "tags": _list_at(self.tags, index),
                "mentions": self.mentions_at(index),
                "struck": False if self.struck is None else self.struck[index],
                "struck_reason": _value_at(self.struck_reason, index),
                "revisions": _list_at(self.revisions, index),
            },
            None if not self.from_events else set(_ADDED_FIELDS),
        )

    def tail(self, start: int) -> TimelineColumns:
        """The columns of the entries from `start` on (a catch-up's run partly held already)."""
        values = {
            name: column[start:] for name in _SLICED if (column := getattr(self, name)) is not None
        }
        return replace(self, **values)

    def mentions_at(self, index: int) -> list[str]:
        """The mentions of the entry at `index`."""
        if self.from_events:
            return find_mentions(self.texts[index])
        return _list_at(self.mentions, index)


class JoinedTexts(Sequence[str]):
    """A column of texts held as one string and each text's length, a text cut out of the
    string when read: taking in a packed snapshot makes one object for all its texts instead of
    one per entry. The lengths must add up to the string's (whoever made it checked)."""

    __slots__ = ("_ends", "_lengths", "_text")

    def __init__(self, text: str, lengths: Sequence[int]) -> None:
        self._text = text
        self._lengths = lengths
        self._ends: list[int] | None = None
        """Where each text ends in `_text`, added up when a text is first read."""

    def __len__(self) -> int:
        return len(self._lengths)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> JoinedTexts: ...
    def __getitem__(self, index: int | slice) -> str | JoinedTexts:
        ends = self._ends
        if ends is None:
            ends = self._ends = list(accumulate(self._lengths))
        if isinstance(index, slice):
            start, stop, step = index.indices(len(ends))
            if step != 1 or start >= stop:
                return JoinedTexts(
                    "".join(self[n] for n in range(start, stop, step)),
                    [self._lengths[n] for n in range(start, stop, step)],
                )
            begin = ends[start] - self._lengths[start]
            return JoinedTexts(self._text[begin : ends[stop - 1]], self._lengths[start:stop])
        end = ends[index]
        return self._text[end - self._lengths[index] : end]


COLUMN_OF_FIELD: Final[Mapping[str, str]] = MappingProxyType(
    {
        "id": "ids",
        "kind": "kind_codes",
        "text": "texts",
        "author": "author_codes",
        "at": "at",
        "occurred_at": "occurred_at",
        "typed_at": "typed_at",
        "next_update_at": "next_update_at",
        "correlation_id": "correlation_id",
        "tags": "tags",
        "mentions": "mentions",
        "struck": "struck",
        "struck_reason": "struck_reason",
        "revisions": "revisions",
    }
)
"""Each `TimelineEntry` field and the `TimelineColumns` column holding it, one value per entry:
the one list of the entry's fields as columns. The protocol's columnar snapshot names its
columns after the fields and takes them from here (`protocol.columnar`)."""
NAME_LISTS: Final = frozenset({"kinds", "authors"})
"""The columns that are the names `kind_codes` and `author_codes` number, not one per entry."""
OPTIONAL_FIELDS: Final = tuple(
    field
    for field, column in COLUMN_OF_FIELD.items()
    if next(f for f in fields(TimelineColumns) if f.name == column).default is None
)
"""The fields whose column may be left out, when every entry holds the field's default."""
_SLICED: Final = tuple(COLUMN_OF_FIELD.values())


def unmatched_columns(entry_fields: Iterable[str], columns: Iterable[str]) -> set[str]:
    """The entry fields without a column in `COLUMN_OF_FIELD`, and the columns (of
    `TimelineColumns` but its name lists and flags) that hold no entry field: empty while the
    entry's fields and the columns match, whatever is added to either."""
    listed_fields, listed_columns = set(COLUMN_OF_FIELD), set(COLUMN_OF_FIELD.values())
    return (set(entry_fields) ^ listed_fields) | (set(columns) ^ listed_columns)


def _per_entry_columns() -> set[str]:
    return {f.name for f in fields(TimelineColumns)} - NAME_LISTS - {"from_events"}


if unmatched := unmatched_columns(TimelineEntry.model_fields, _per_entry_columns()):
    raise AssertionError(f"the entry's fields and its columns differ: {sorted(unmatched)}")
_ADDED_FIELDS: Final = frozenset(
    TimelineEntry.model_fields.keys() - {"next_update_at", "struck", "struck_reason", "revisions"}
)
"""The fields an added entry is given (as `timeline_list.new_entry` sets them)."""


def _time_at(column: list[int | None] | None, index: int) -> datetime | None:
    micros = None if column is None else column[index]
    return None if micros is None else time_of_micros(micros)


def _value_at(column: list[str | None] | None, index: int) -> str | None:
    return None if column is None else column[index]


def _list_at(column: list[tuple[_T, ...]] | None, index: int) -> list[_T]:
    return [] if column is None else list(column[index])
