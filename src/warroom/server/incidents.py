"""The incidents a node holds in memory: the live ones always, any other only while it is used.

An incident is live from its declaration until its post-mortem is marked done (the phase
`postmortem_done`, the plan's last step). Live incidents are loaded when the node starts. Any other
incident is loaded when a console subscribes to it, reads its log or writes to it, and dropped
again once nobody follows it and nobody has used it for `idle_after` seconds. The list of
incidents comes from the per-incident summaries the store keeps beside the events, so start-up
and memory follow the incidents that are open, not the history.

Loading an incident is its latest snapshot plus the events after it. A snapshot is written with
the events every `snapshot_every` events, and when the post-mortem is marked done, so a closed
incident opens from its snapshot alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from warroom.domain.events import Event
from warroom.domain.incident import IncidentState, IncidentSummary
from warroom.domain.phase import Phase
from warroom.domain.projection import ProjectionError, apply_event, start_state
from warroom.server.connection import Connection
from warroom.store.base import EventStore, StoredSnapshot, StoreError

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 256
"""Events between two snapshots of an incident: loading replays at most this many."""

IDLE_AFTER = 300.0
"""Seconds a closed incident nobody follows stays in memory after its last use."""


def is_live(state: IncidentState) -> bool:
    """Held in memory for good: open, or resolved with the post-mortem still to do."""
    return state.incident.phase is not Phase.POSTMORTEM_DONE


@dataclass(eq=False)
class LoadedIncident:
    """An incident held in memory: its state, its committed events as JSON, its followers."""

    state: IncidentState
    frames: list[str] = field(default_factory=list)
    """Committed events as JSON; frames[n] is event seq n+1. Catch-up is a slice of this."""
    subscribers: dict[Connection, None] = field(default_factory=dict)
    snapshot: tuple[int, str] | None = None
    """The latest snapshot as JSON and its seq (the one in the store, or one made for a reply):
    consoles far behind get it and the events after it, so nobody serialises the incident for
    them while it is being written to (see `server.catch_up`)."""
    stored_seq: int = 0
    """The seq of the incident's latest snapshot in the store (0: none)."""
    used_at: float = 0.0
    """When a request last named the incident (the cache's clock)."""

    def state_json(self) -> str:
        """The state as JSON now, kept as the latest snapshot."""
        if self.snapshot is None or self.snapshot[0] != self.state.seq:
            self.snapshot = (self.state.seq, self.state.model_dump_json())
        return self.snapshot[1]

    def latest_snapshot(self) -> tuple[int, str]:
        """The latest snapshot (seq, JSON), made now only if the incident has none yet."""
        if self.snapshot is None:
            return self.state.seq, self.state_json()
        return self.snapshot


@dataclass
class Staged:
    """What a turn writes beside its events: the summaries and snapshots of the incidents they
    changed. Kept in memory only once the commit succeeded."""

    summaries: list[IncidentSummary]
    snapshots: list[StoredSnapshot]


class IncidentCache:
    """Loads, holds and drops incidents for the sequencer; only the sequencer's task calls it."""

    def __init__(
        self,
        store: EventStore,
        *,
        snapshot_every: int = SNAPSHOT_EVERY,
        idle_after: float = IDLE_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self.snapshot_every = snapshot_every
        self.idle_after = idle_after
        self._clock = clock
        self.loaded: dict[int, LoadedIncident] = {}
        """Incidents in memory by id. The sequencer decides against these and adds new ones."""
        self.summaries: dict[int, IncidentSummary] = {}
        """Every committed incident's line in the list, by id."""

    @property
    def last_id(self) -> int:
        """The highest incident id ever committed (in memory or not)."""
        return max(self.summaries, default=0)

    async def start(self) -> None:
        """Read the summaries and load every live incident.

        Raises:
            StoreError: the store cannot be read or holds a damaged incident.
        """
        self.summaries = {s.id: s for s in await self._store.incident_summaries()}
        for summary in self.summaries.values():
            if summary.phase is not Phase.POSTMORTEM_DONE:
                await self.load(summary.id)
        log.info("%d incidents, %d live loaded", len(self.summaries), len(self.loaded))

    async def ensure_loaded(self, incident_ids: Iterable[int]) -> None:
        """Load the named incidents that exist but are not in memory, and mark all of them used.
        One that cannot be loaded is logged and left out (requests for it find no incident)."""
        now = self._clock()
        for incident_id in incident_ids:
            record = self.loaded.get(incident_id)
            if record is None and incident_id in self.summaries:
                try:
                    record = await self.load(incident_id)
                except StoreError as exc:
                    log.error("cannot load incident %d: %s", incident_id, exc)
                    continue
            if record is not None:
                record.used_at = now

    async def load(self, incident_id: int) -> LoadedIncident:
        """Bring one incident into memory: its latest snapshot, then the events after it.

        Raises:
            StoreError: the store cannot be read, or the incident's log is damaged.
        """
        snapshot = await self._store.load_snapshot(incident_id)
        frames = await self._store.events_json(incident_id)
        try:
            record = self._rebuild(incident_id, snapshot, frames)
        except ValidationError as exc:
            problem = exc.errors(include_url=False)[0]["msg"]
            raise StoreError(f"incident {incident_id} has a damaged log: {problem}") from None
        except (ProjectionError, ValueError) as exc:
            raise StoreError(f"incident {incident_id} has a damaged log: {exc}") from None
        record.used_at = self._clock()
        self.loaded[incident_id] = record
        if record.stored_seq == 0 and record.state.seq >= self.snapshot_every:
            # No snapshot of this domain's version (an older model, or none yet): write one now
            # so the next load is quick. Failing to is harmless: the events are all there.
            fresh = StoredSnapshot(incident_id, record.state.seq, record.state_json())
            try:
                await self._store.append((), (), [fresh])
                record.stored_seq = fresh.seq
            except StoreError as exc:
                log.warning("snapshot of incident %d not saved: %s", incident_id, exc)
        return record

    async def read_state(self, incident_id: int) -> IncidentState | None:
        """An incident's committed state, from memory if it is loaded, else read from the store
        without keeping it (for features that look at closed incidents once, such as the status
        page); None if there is no such incident.

        Raises:
            StoreError: the store cannot be read, or the incident's log is damaged.
        """
        record = self.loaded.get(incident_id)
        if record is not None:
            return record.state
        if incident_id not in self.summaries:
            return None
        snapshot = await self._store.load_snapshot(incident_id)
        frames = await self._store.events_json(incident_id)
        try:
            return self._rebuild(incident_id, snapshot, frames).state
        except (ValidationError, ProjectionError, ValueError) as exc:
            raise StoreError(f"incident {incident_id} has a damaged log: {exc}") from None

    def _rebuild(
        self, incident_id: int, snapshot: StoredSnapshot | None, frames: list[str]
    ) -> LoadedIncident:
        if not frames:
            raise ProjectionError("no events")
        # Rows come in seq order and seqs are unique: first 1 and last len(frames) means no gap,
        # also among the events a snapshot stands for.
        first, last = Event.model_validate_json(frames[0]), Event.model_validate_json(frames[-1])
        if first.seq != 1 or last.seq != len(frames):
            raise ProjectionError(f"{len(frames)} events numbered {first.seq} to {last.seq}")
        state: IncidentState | None = None
        start = 0
        if snapshot is not None and snapshot.seq <= len(frames):
            try:
                state = IncidentState.model_validate_json(snapshot.state_json)
            except ValidationError:
                log.warning("snapshot of incident %d unreadable; replaying its events", incident_id)
            else:
                if state.seq == snapshot.seq and state.incident.id == incident_id:
                    start = snapshot.seq
                else:
                    state = None
        if state is None:
            state = start_state(Event.model_validate_json(frames[0]))
            start = 1
        for frame in frames[start:]:
            event = Event.model_validate_json(frame)
            if event.incident_id != incident_id:
                raise ProjectionError(f"event {event.seq} belongs to incident {event.incident_id}")
            apply_event(state, event)
        if state.seq != len(frames):
            raise ProjectionError(f"{len(frames)} events but the state is at seq {state.seq}")
        record = LoadedIncident(state=state, frames=frames)
        if snapshot is not None and start == snapshot.seq:
            record.stored_seq = snapshot.seq
            record.snapshot = (snapshot.seq, snapshot.state_json)
        return record

    def stage(self, events: Iterable[Event]) -> Staged:
        """The summaries and snapshots to commit with `events` (already applied in memory)."""
        staged = Staged([], [])
        for incident_id in sorted({e.incident_id for e in events}):
            record = self.loaded[incident_id]
            state = record.state
            staged.summaries.append(state.summary())
            closed_now = not is_live(state) and record.stored_seq != state.seq
            if closed_now or state.seq - record.stored_seq >= self.snapshot_every:
                staged.snapshots.append(
                    StoredSnapshot(incident_id, state.seq, state.model_dump_json())
                )
        return staged

    def committed(self, staged: Staged) -> None:
        """The turn's commit succeeded: keep what it wrote beside the events."""
        now = self._clock()
        for summary in staged.summaries:
            self.summaries[summary.id] = summary
            self.loaded[summary.id].used_at = now
        for snapshot in staged.snapshots:
            record = self.loaded[snapshot.incident_id]
            record.stored_seq = snapshot.seq
            record.snapshot = (snapshot.seq, snapshot.state_json)

    def summary_list(self) -> list[IncidentSummary]:
        """Every incident's line, in id order."""
        return [summary for _, summary in sorted(self.summaries.items())]

    def live_states(self) -> list[IncidentState]:
        """The live incidents' states, in id order: what integrations watch."""
        return [r.state for _, r in sorted(self.loaded.items()) if is_live(r.state)]

    def evict_idle(self) -> list[int]:
        """Drop closed incidents nobody follows and nobody used for `idle_after` seconds."""
        now = self._clock()
        idle = [
            incident_id
            for incident_id, record in self.loaded.items()
            if not is_live(record.state)
            and not record.subscribers
            and now - record.used_at >= self.idle_after
            and incident_id in self.summaries  # committed, not one being declared this turn
        ]
        for incident_id in idle:
            del self.loaded[incident_id]
        if idle:
            log.info("dropped %d idle closed incidents from memory", len(idle))
        return idle
