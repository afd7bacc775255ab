"""An incident's state after any event N, fast on long logs: checkpoints of the folded state and
the moments a review jumps between (severity, phase and role changes).

The state is only ever made by `projection.apply_event`; this module decides where to start
folding from. Every `CHECKPOINT_EVERY` events a checkpoint keeps the state as it stood, and a
jump folds forward from the nearest checkpoint at or before it, so no jump applies more than
that many events whatever the incident's length. Stepping back one event would fold up to that
many too, so the first step back in a window of `CHECKPOINT_EVERY` events also keeps finer
checkpoints across it, every `FINE_EVERY` events, on its way: each next step back there folds
fewer than `FINE_EVERY`. Only the latest window has them, so their memory stays bounded.

Copying a 100,000-entry state whole would take longer than the jump may, so a checkpoint shares
the timeline's entries with the states made from it. That is safe because the projection changes
an existing entry, checklist item or public draft only after looking it up through
`IncidentState.entry`, `item` or `external_update`: the state made here answers each lookup with
a private copy put in the looked-up object's place, so the shared object is never written. The
header and the roster are copied one level (the projection replaces role tenures rather than
changing them). tests/domain/test_replay_index.py
folds every step of a generated incident both ways, checkpoints revisited after, and compares.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel

from warroom.domain.checklist import ChecklistItem
from warroom.domain.communications import ExternalUpdate
from warroom.domain.events import (
    Event,
    EventBody,
    IcAccepted,
    PhaseChanged,
    RoleAssigned,
    RoleUnassigned,
    SeverityChanged,
)
from warroom.domain.incident import IncidentState
from warroom.domain.instants import order_key
from warroom.domain.projection import ProjectionError, apply_event, start_state
from warroom.domain.timeline import TimelineEntry
from warroom.domain.timeline_list import Timeline

CHECKPOINT_EVERY = 500
"""Events between checkpoints: the most a jump folds (about 60 ms on a busy 2-core machine, see
docs/performance.md). 200 checkpoints for 100,000 events, each a list of references to the
entries of its time: about 70 MB for a 100,000-entry incident."""

FINE_EVERY = 25
"""Events between the finer checkpoints kept in the window being stepped back through: the most
a step back folds once the window has them. Making them costs a clone each (a list of the
entries' references: about 0.5 ms at 100,000 entries), 20 for a window, once."""


class ChangeKind(StrEnum):
    """The changes a review jumps between."""

    SEVERITY = "severity"
    PHASE = "phase"
    ROLE = "role"
    """A role assigned, taken away, or the IC handed over."""


def change_kind(body: EventBody) -> ChangeKind | None:
    """Which kind of change an event is, if it is one a review jumps to."""
    match body:
        case SeverityChanged():
            return ChangeKind.SEVERITY
        case PhaseChanged():
            return ChangeKind.PHASE
        case RoleAssigned() | RoleUnassigned() | IcAccepted():
            return ChangeKind.ROLE
    return None


class _CopyOnLookup(IncidentState):
    """A state that shares its entries, items and drafts with a checkpoint and copies each one
    the moment the projection looks it up to change it."""

    def entry(self, entry_id: int) -> TimelineEntry | None:
        index = self.timeline.index_of(entry_id)
        if index is None:
            return None
        own = self.timeline[index] = _copy(self.timeline[index])
        return own

    def item(self, item_id: int) -> ChecklistItem | None:
        return _own(self.checklist, item_id)

    def external_update(self, draft_id: int) -> ExternalUpdate | None:
        return _own(self.external_updates, draft_id)


_Model = TypeVar("_Model", bound=BaseModel)
_Identified = TypeVar("_Identified", ChecklistItem, ExternalUpdate)


def _own(items: list[_Identified], wanted: int) -> _Identified | None:
    """Put a copy of the element whose id is `wanted` in its place and return it."""
    # Ids are handed out in increasing order (item numbers, draft seqs), so a binary search
    # finds them; the scan is only for a list that is somehow not in order.
    index = bisect_left(items, wanted, key=lambda i: i.id)
    if not (index < len(items) and items[index].id == wanted):
        index = next((n for n, i in enumerate(items) if i.id == wanted), -1)
        if index < 0:
            return None
    own = items[index] = _copy(items[index])
    return own


def _copy(model: _Model) -> _Model:
    """A copy of `model` whose lists and dicts are its own; their elements are shared.

    One level is enough: the projection changes a looked-up object's own fields and appends to
    its lists, and it replaces (never changes) what those lists hold. A deep copy would cost a
    millisecond for an entry with a long history, which a jump cannot afford.
    """
    own = model.model_copy()
    for name, value in own.__dict__.items():
        if isinstance(value, list | dict):
            own.__dict__[name] = value.copy()
    return own


def _clone(state: IncidentState) -> _CopyOnLookup:
    """A state equal to `state` that can be folded on without changing `state`: its lists are
    new lists of the same (shared) elements, its models (header, roster) copied one level."""
    fields: dict[str, object] = {}
    for name in IncidentState.model_fields:
        value = getattr(state, name)
        if isinstance(value, list):
            value = list(value)
        elif isinstance(value, Timeline):
            value = value.copy()
        elif isinstance(value, BaseModel):
            value = _copy(value)
        fields[name] = value
    return _CopyOnLookup.model_construct(**fields)  # type: ignore[arg-type]


class ReplayIndex:
    """One incident's log, ready to show the state after any of its events."""

    def __init__(
        self,
        events: Sequence[Event],
        *,
        checkpoint_every: int = CHECKPOINT_EVERY,
        fine_every: int = FINE_EVERY,
    ):
        """Fold the whole log once, keeping a checkpoint every `checkpoint_every` events (and,
        later, one every `fine_every` in the window being stepped back through).

        Raises:
            ProjectionError: the log is empty, has a gap, or was not made by the rules.
        """
        if not events:
            raise ProjectionError("an incident log cannot be empty")
        if checkpoint_every < 1 or fine_every < 1:
            raise ValueError("checkpoint_every and fine_every must be at least 1")
        self.events: tuple[Event, ...] = tuple(events)
        self._every = checkpoint_every
        self._fine_every = fine_every
        self._fine_window = -1
        """The window (a checkpoint's number) that `_fine` covers; -1 before any step back."""
        self._fine: list[IncidentState] = []
        """States after events `start + k * fine_every` of that window, from its start up to the
        furthest step back made there; never folded on."""
        self._times = [order_key(e.at) for e in self.events]
        self._changes: dict[ChangeKind, list[int]] = {kind: [] for kind in ChangeKind}
        working = _clone(start_state(self.events[0]))
        self._checkpoints: list[IncidentState] = [_clone(working)]
        """`_checkpoints[k]` is the state after event `k * every + 1`; never folded on."""
        for event in self.events[1:]:
            apply_event(working, event)
            if (event.seq - 1) % checkpoint_every == 0:
                self._checkpoints.append(_clone(working))
        for event in self.events:
            kind = change_kind(event.body)
            if kind is not None:
                self._changes[kind].append(event.seq)
        self._current: IncidentState = working
        """The state last handed out; stepping forward folds on it."""

    @property
    def last(self) -> int:
        """The last event's seq: the incident as it stands now."""
        return self.events[-1].seq

    def event(self, seq: int) -> Event:
        """Event number `seq` (1 is the declaration)."""
        return self.events[self._clamp(seq) - 1]

    def state_at(self, seq: int) -> IncidentState:
        """The state right after event `seq` (clamped to 1..last).

        The state returned is the index's own: it is changed by the next call, so callers show it
        and keep nothing of it.
        """
        seq = self._clamp(seq)
        current = self._current
        window = (seq - 1) // self._every
        start = window * self._every + 1
        if start <= current.seq <= seq:
            # Ahead of where we are and no checkpoint between: fold on.
            for event in self.events[current.seq : seq]:
                apply_event(current, event)
            return current
        if window == self._fine_window and self._fine:
            fine = min((seq - start) // self._fine_every, len(self._fine) - 1)
            current = _clone(self._fine[fine])
        else:
            current = _clone(self._checkpoints[window])
            if start <= self._current.seq <= start + self._every:
                # Back from within the window (or its first step past): more steps back are
                # likely, so keep finer checkpoints on the way, this once.
                self._fine_window, self._fine = window, [_clone(current)]
        for event in self.events[current.seq : seq]:
            apply_event(current, event)
            # Past the furthest finer checkpoint of this window: keep the next one.
            if (
                window == self._fine_window
                and event.seq - start == len(self._fine) * self._fine_every
            ):
                self._fine.append(_clone(current))
        self._current = current
        return current

    def changed_entry_ids(self, seq: int) -> frozenset[int]:
        """Ids of the timeline entries event `seq` added or changed (entry ids are seqs)."""
        body = self.event(seq).body
        touched = getattr(body, "entry_id", None)
        return frozenset({seq} if touched is None else {seq, touched})

    def at(self, seq: int) -> datetime:
        """When event `seq` was committed: the incident's own clock at that step."""
        return self.event(seq).at

    def seq_at_time(self, when: datetime) -> int:
        """The last event committed at or before `when` (1 when `when` is before them all)."""
        return max(1, bisect_right(self._times, order_key(when)))

    def minute_later(self, seq: int, minutes: int = 1) -> int:
        """The step a minute after `seq`: the last event within the minute, and always at least
        one event on, so the key never stands still (a minute back: at least one event back)."""
        target = self.seq_at_time(self.at(seq) + timedelta(minutes=minutes))
        if minutes > 0:
            return self._clamp(max(target, seq + 1))
        return self._clamp(min(target, seq - 1))

    def next_change(self, seq: int, kind: ChangeKind) -> int | None:
        """The first change of `kind` after event `seq`, or None when there is none."""
        changes = self._changes[kind]
        index = bisect_right(changes, seq)
        return changes[index] if index < len(changes) else None

    def previous_change(self, seq: int, kind: ChangeKind) -> int | None:
        """The last change of `kind` before event `seq`, or None when there is none."""
        changes = self._changes[kind]
        index = bisect_left(changes, seq)
        return changes[index - 1] if index else None

    def _clamp(self, seq: int) -> int:
        return min(max(seq, 1), self.last)
