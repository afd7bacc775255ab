"""Turns timeline entries into one line of styled text each, orders them by when things
happened, and filters them (no textual)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from itertools import accumulate, compress, islice
from operator import is_not, le
from typing import overload

from rich.style import Style
from rich.text import Text

from warroom.domain.instants import as_stored, in_zone, order_key
from warroom.domain.timeline import EntryKind, TimelineEntry
from warroom.domain.timeline_list import Timeline
from warroom.tui.pending import PendingEntry
from warroom.tui.safe_text import clean

AUTHOR_WIDTH = 12
KIND_WIDTH = max(len(kind.value) for kind in EntryKind)


@dataclass(frozen=True)
class TimelineStyles:
    """Styles for the parts of a line, resolved from the stylesheet's component classes."""

    time: Style
    author: Style
    correlation: Style
    note: Style
    """Markers such as "(amended)"."""
    struck: Style
    pending: Style
    kinds: Mapping[EntryKind, Style]


RowKey = tuple[timedelta, float]
"""Where a row sorts: the instant it is about, then the seq of its event (pending rows last)."""


def entry_key(entry: TimelineEntry) -> RowKey:
    return order_key(entry.when), entry.id


def pending_when(pending: PendingEntry) -> datetime:
    """The time a pending entry is about: back-dated, else typed (as its event will say)."""
    return pending.occurred_at or pending.typed_at or pending.submitted_at


def pending_key(pending: PendingEntry) -> RowKey:
    # After every committed entry of the same instant: its seq, once it has one, is the highest.
    return order_key(pending_when(pending)), float("inf")


class PositionsInOrder:
    """The positions of one log's entries sorted by their keys, with what a shorter list of the
    same log (a replay's earlier state: the first `count` positions) needs to find its rows."""

    def __init__(self, keys: Sequence[RowKey]) -> None:
        self.in_order = sorted(range(len(keys)), key=keys.__getitem__)
        """Position of each row of the longest list."""
        self.row_of_position = [0] * len(keys)
        for row, position in enumerate(self.in_order):
            self.row_of_position[position] = row
        self.position_of_id = {key[1]: position for position, key in enumerate(keys)}
        """Keys end with the entry's id."""
        self.last_row_before = list(accumulate(self.row_of_position, max, initial=-1))
        """For each count of positions, the last of the longest list's rows they hold."""

    def skipped_rows(self, count: int) -> list[int]:
        """The longest list's rows up to the last one the first `count` positions hold that
        hold a later position (an entry made later about an earlier time: back-dated), sorted.
        Usually none: they are found by a pass over the later positions' rows at C speed."""
        end = self.last_row_before[count] + 1
        if end == count:
            return []
        return sorted(filter(end.__gt__, islice(self.row_of_position, count, None)))


class PositionOrder(Sequence[TimelineEntry]):
    """A replay state's entries sorted by (when, seq), looked up row by row, never copied.

    In one log's states an entry keeps its position (entries are only appended, and an amended
    copy takes the old one's place), so the state's rows are the longest list's sorted positions
    without those the state does not have yet. A row is found with one bisect over the few rows
    skipped (`PositionsInOrder.skipped_rows`), and the entry at its position is the state's own,
    amended copies included."""

    def __init__(self, timeline: Sequence[TimelineEntry], positions: PositionsInOrder) -> None:
        self._timeline = timeline
        self._positions = positions
        self._count = len(timeline)
        self._skipped = positions.skipped_rows(self._count)
        self._shift = [row - n for n, row in enumerate(self._skipped)]
        """A state's row r is the longest list's row r + (how many of these are <= r)."""

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, row: int) -> TimelineEntry: ...

    @overload
    def __getitem__(self, row: slice) -> Sequence[TimelineEntry]: ...

    def __getitem__(self, row: int | slice) -> TimelineEntry | Sequence[TimelineEntry]:
        if isinstance(row, slice):
            return [self[n] for n in range(*row.indices(self._count))]
        if row < 0:
            row += self._count
        if not 0 <= row < self._count:
            raise IndexError(row)
        longest_row = row + bisect_right(self._shift, row)
        return self._timeline[self._positions.in_order[longest_row]]

    def row_of(self, entry_id: int) -> int | None:
        """The row of the entry with this id, if the state has it."""
        position = self._positions.position_of_id.get(entry_id)
        if position is None or position >= self._count:
            return None
        longest_row = self._positions.row_of_position[position]
        return longest_row - bisect_left(self._skipped, longest_row)


class TimelineOrder:
    """One incident's entries in the order things happened, by (when, seq).

    The client's entry list is in arrival order and grows in place; this keeps a sorted copy up
    to date by inserting only the new entries (a bisect each, at the end in the common case), so
    a 10,000-entry timeline costs no more per event than a short one. A new list (a snapshot
    replaced the state) is compared with the last one, element by element by identity, and only
    what differs is taken out and put in; a new list that differs in more than a quarter is
    sorted anew. A replay's states (`replaced_in_place`) are all of one log, and are shown
    through the log's positions sorted once (`PositionOrder`), without a copy.
    """

    def __init__(self, *, replaced_in_place: bool = False) -> None:
        self._replaced = replaced_in_place
        """Whether the source's elements may be replaced in place (a replay's states put a copy
        in an entry's place to amend it): then every update looks the rows up in the source
        itself (`PositionOrder`), so an amended copy is never missed."""
        self._key_of: dict[int, RowKey] | None = {} if replaced_in_place else None
        """Keys by entry id, for a replay: its states are all of one log, where an id names one
        entry whose `when` never changes, and working the key out again for 100,000 entries on
        every jump would cost more than the jump may take."""
        self._position_keys: list[RowKey] = []
        """For a replay: the key of the entry at each position of the longest list seen. In one
        log's states an entry keeps its position (entries are only appended, and an amended
        copy takes the old one's place), so the key of a position never changes either."""
        self._positions = PositionsInOrder([])
        """Those positions, sorted by their keys."""
        self._source: list[TimelineEntry] | None = None
        self._known: list[TimelineEntry] = []
        """The entries `entries` holds, in the source's order (the source may change later)."""
        self._keys: list[RowKey] = []
        self.entries: list[TimelineEntry] = []
        """Sorted; the same list object while the source only grows (not used in a replay)."""
        self._in_order: _InOrder | None = None
        """A console's timeline in order; the same view while the timeline only grows."""

    def update(self, source: Timeline | list[TimelineEntry]) -> Sequence[TimelineEntry]:
        """The entries of `source` in order. A console's `Timeline` is ordered by times read
        from its rows, and the entries come out as the view reads them, so a pane shows a
        snapshot or a long catch-up building only the rows it draws. A replay's states hold
        built entries, ordered by position (`PositionOrder`)."""
        if self._replaced:
            return self._order_by_position(
                source.built() if isinstance(source, Timeline) else source
            )
        if isinstance(source, Timeline):
            return self._update_in_place(source)
        timeline = source
        grown = timeline is self._source and len(timeline) >= len(self._known)
        if grown:
            added = timeline[len(self._known) :]
            self._insert(added)
            self._known.extend(added)
            return self.entries
        if not self._follow(timeline):
            keys = [self._key(entry) for entry in timeline]
            ordered = sorted(range(len(timeline)), key=keys.__getitem__)
            self.entries = [timeline[n] for n in ordered]
            self._keys = [keys[n] for n in ordered]
        self._source = timeline
        self._known = list(timeline)
        return self.entries

    def _update_in_place(self, timeline: Timeline) -> Sequence[TimelineEntry]:
        ordered = self._in_order
        if ordered is not None and ordered.timeline is timeline and len(timeline) >= ordered.known:
            start = ordered.known
        else:
            start, ordered = 0, _InOrder(timeline)
            self._in_order, self._keys = ordered, []
        keys: list[RowKey] = list(zip(timeline.order_keys(start), timeline.ids(start), strict=True))
        positions = ordered.positions
        if keys and (not self._keys or self._keys[-1] <= keys[0]) and _ascending(keys):
            # Nearly always: what arrived happened after what is shown, in arrival order.
            self._keys.extend(keys)
            positions.extend(range(start, start + len(keys)))
        elif start == 0:
            by_key = sorted(range(len(keys)), key=keys.__getitem__)
            self._keys = [keys[n] for n in by_key]
            positions[:] = by_key
        else:
            for offset, key in enumerate(keys):
                index = bisect_right(self._keys, key)
                self._keys.insert(index, key)
                positions.insert(index, start + offset)
        ordered.known = len(timeline)
        return ordered

    def _order_by_position(self, timeline: list[TimelineEntry]) -> PositionOrder:
        """A replay's state: its entries in the order of their positions' keys, sorted once for
        the longest list seen, which a shorter one's positions are the start of. Nothing is
        copied: a jump anywhere in a 100,000-entry incident costs what the screen shows."""
        keys = self._position_keys
        count = len(timeline)
        if count and count <= len(keys) and keys[count - 1][1] != timeline[count - 1].id:
            keys.clear()  # not the log the positions were sorted for: sort this one anew
        if count > len(keys):
            keys.extend(map(self._key, timeline[len(keys) :]))
            self._positions = PositionsInOrder(keys)
        return PositionOrder(timeline, self._positions)

    def _key(self, entry: TimelineEntry) -> RowKey:
        if self._key_of is None:
            return entry_key(entry)
        key = self._key_of.get(entry.id)
        if key is None:
            key = self._key_of[entry.id] = entry_key(entry)
        return key

    def _insert(self, added: Sequence[TimelineEntry]) -> None:
        for entry in added:
            key = self._key(entry)
            index = bisect_right(self._keys, key)
            self._keys.insert(index, key)
            self.entries.insert(index, entry)

    def _follow(self, timeline: list[TimelineEntry]) -> bool:
        """Turn the sorted entries of the last list into those of `timeline` by taking out and
        putting in what differs; False (nothing done) when too much does."""
        known = self._known
        most = max(len(known), len(timeline)) // 4 + 1
        if abs(len(known) - len(timeline)) > most:
            return False  # too many added or gone, whatever else differs
        common = min(len(known), len(timeline))
        differ = list(compress(range(common), map(is_not, known, timeline)))
        gone = [known[n] for n in differ] + known[common:]
        if len(gone) + len(timeline) - common > most:
            return False
        for entry in gone:
            # A key is unique (it holds the id), and `when` never changes after an entry is made.
            index = bisect_left(self._keys, self._key(entry))
            if index == len(self.entries) or self.entries[index] is not entry:
                return False  # not where its key says (changed in place?): sort anew
            del self._keys[index], self.entries[index]
        self._insert([timeline[n] for n in differ] + timeline[common:])
        return True


def _ascending(keys: list[RowKey]) -> bool:
    return all(map(le, keys, islice(keys, 1, None)))


class _InOrder(Sequence[TimelineEntry]):
    """A console's timeline in the order things happened: its positions sorted by their keys,
    each entry read from the timeline (and so built) only when the view is read there."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.positions: list[int] = []
        self.known = 0
        """How many of the timeline's entries are placed."""

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, index: int) -> TimelineEntry: ...
    @overload
    def __getitem__(self, index: slice) -> list[TimelineEntry]: ...
    def __getitem__(self, index: int | slice) -> TimelineEntry | list[TimelineEntry]:
        if isinstance(index, slice):
            return [self.timeline[n] for n in self.positions[index]]
        return self.timeline[self.positions[index]]


def pending_rows(entries: Sequence[TimelineEntry], pending: Sequence[PendingEntry]) -> list[int]:
    """The row of each pending entry (taken in `pending_key` order) among sorted `entries`."""
    return [
        bisect_right(entries, pending_key(p), key=entry_key) + n
        for n, p in enumerate(sorted(pending, key=pending_key))
    ]


def timeline_time(moment: datetime, zone: tzinfo | None, today: date | None) -> str:
    """`14:02:05` today; `02 May 14:02:05` another day; `02 May 2023 14:02:05` another year."""
    local = in_zone(moment, zone)
    if local is None:
        return as_stored(moment)
    if today is None or local.date() == today:
        return f"{local:%H:%M:%S}"
    day = f"{local.day:02d} {local:%b}"
    if local.year != today.year:
        day += f" {local.year:04d}"
    return f"{day} {local:%H:%M:%S}"


def kind_label(kind: EntryKind) -> str:
    return kind.value.upper().ljust(KIND_WIDTH)


def entry_line(
    entry: TimelineEntry, zone: tzinfo | None, styles: TimelineStyles, today: date | None = None
) -> Text:
    """One entry as a line: time, kind, author, Correlation-ID, text, markers."""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append(timeline_time(entry.when, zone, today), styles.time)
    # "~" marks a back-dated time: the Scribe recorded it later than it happened.
    line.append("~ " if entry.occurred_at is not None else "  ", styles.time)
    line.append(kind_label(entry.kind), styles.kinds.get(entry.kind, Style()))
    line.append(" ")
    line.append(clean(entry.author)[:AUTHOR_WIDTH].ljust(AUTHOR_WIDTH), styles.author)
    line.append(" ")
    if entry.correlation_id:
        line.append(f"cid:{clean(entry.correlation_id)}", styles.correlation)
        line.append(" ")
    line.append(clean(entry.text), styles.struck if entry.struck else Style())
    if entry.struck:
        reason = f": {clean(entry.struck_reason)}" if entry.struck_reason else ""
        line.append(f"  (struck{reason})", styles.note)
    elif entry.revisions:
        line.append("  (amended)", styles.note)
    return line


NOT_SENT = "  (not sent yet)"
"""The marker after a pending entry; it stays whole however narrow the timeline."""


def pending_line(
    pending: PendingEntry,
    zone: tzinfo | None,
    styles: TimelineStyles,
    today: date | None = None,
    width: int | None = None,
) -> Text:
    """A posted entry the server has not committed yet, greyed as a whole, in the place its
    committed entry will take. Fitted to `width`, its text is cut, never the marker: at 80
    columns a status update's text would otherwise push "(not sent yet)" off the line."""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append(timeline_time(pending_when(pending), zone, today))
    line.append("~ " if pending.occurred_at is not None else "  ")
    line.append(kind_label(pending.kind))
    line.append(" ")
    line.append(clean(pending.author)[:AUTHOR_WIDTH].ljust(AUTHOR_WIDTH))
    line.append(" ")
    if pending.correlation_id:
        line.append(f"cid:{clean(pending.correlation_id)} ")
    text = Text(clean(pending.text), no_wrap=True, end="")
    if width is not None:
        text.truncate(max(1, width - line.cell_len - len(NOT_SENT)), overflow="ellipsis")
    line.append_text(text)
    line.append(NOT_SENT)
    # A span, not the base style: the view sets the base style to the widget's own.
    line.stylize(styles.pending)
    return line


def matches(entry: TimelineEntry, kind: EntryKind | None, needle: str) -> bool:
    """True if `entry` has `kind` (any if None) and contains `needle` (lower-case) in its text,
    author or Correlation-ID."""
    if kind is not None and entry.kind is not kind:
        return False
    if not needle:
        return True
    return (
        needle in entry.text.lower()
        or needle in entry.author.lower()
        or (entry.correlation_id is not None and needle in entry.correlation_id.lower())
    )


def filter_entries(
    entries: Sequence[TimelineEntry], kind: EntryKind | None, needle: str
) -> Sequence[TimelineEntry]:
    """The entries to show; the list itself (no copy) when nothing is filtered, because a
    10,000-entry timeline is redrawn on every burst of events."""
    if kind is None and not needle:
        return entries
    lowered = needle.lower()
    return [entry for entry in entries if matches(entry, kind, lowered)]
