"""The incidents a node holds in memory: the live ones always, any other only while it is used.

An incident is live from its declaration until its post-mortem is marked done (the phase
`postmortem_done`, the plan's last step). Live incidents are loaded when the node starts. Any other
incident is loaded when a console subscribes to it, reads its log or writes to it, and dropped
again once nobody follows it and nobody has used it for `idle_after` seconds. The list of
incidents comes from the per-incident summaries the store keeps beside the events, so start-up
and memory follow the incidents that are open, not the history.

Loading an incident is its latest snapshot plus the events after it. A snapshot is written with
the events once `snapshot_gap` events have passed since the last one, and when the post-mortem is
marked done, so a closed incident opens from its snapshot alone.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from warroom.domain.events import Event
from warroom.domain.incident import IncidentState, IncidentSummary
from warroom.domain.phase import Phase
from warroom.domain.projection import ProjectionError, apply_event, replay, start_state
from warroom.protocol.columnar import columnar_state_json
from warroom.protocol.columnar_events import EventColumns
from warroom.protocol.compact import compact_event_json, compact_state_json
from warroom.protocol.packed import packed_state
from warroom.server.connection import Connection
from warroom.server.limits import CLOSED_INCIDENTS_HELD
from warroom.store.base import EventStore, StoredSnapshot, StoreError

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 256
"""Events between two snapshots of a young incident (see `snapshot_gap`)."""
SNAPSHOT_TAIL_SHARE = 2
"""A grown incident is snapshotted once half of its events came after the last snapshot.

A quarter (4) was measured first: it wrote the disk 1.6-2.2x as much in a burst on a young
incident and cost about 10 % more server CPU per write at 10 clients (docs/performance.md, "the
M = 10 burst regression, settled"); half keeps the burst where it was before snapshots."""


def snapshot_gap(seq: int, snapshot_every: int) -> int:
    """How many events may follow an incident's last snapshot before the next is written.

    A snapshot serialises the whole state, so its cost grows with the incident: at a fixed
    interval a long incident would pay more per event the longer it runs (a whole-state
    `model_dump_json` was a tenth of the server's CPU in a burst). Growing the interval with the
    incident keeps the cost per event constant; loading and catch-up replay at most half
    of the incident after its snapshot."""
    return max(snapshot_every, seq // SNAPSHOT_TAIL_SHARE)


BEHIND_AT_MOST = 1_000
"""Other nodes' events an incident may hold parsed but not applied (`IncidentCache.follow_on`);
beyond, they are applied at once, so an incident nobody here looks at costs bounded memory."""

IDLE_AFTER = 300.0
"""Seconds a closed incident nobody follows stays in memory after its last use."""


def is_live(state: IncidentState) -> bool:
    """Held in memory for good: open, or resolved with the post-mortem still to do."""
    return state.incident.phase is not Phase.POSTMORTEM_DONE


class LoadedIncident:
    """An incident held in memory: its state, its committed events as JSON, its followers.

    A closed incident loaded to be read (its stored snapshot at its last event) keeps the
    snapshot as JSON only: subscribing, reading its log and exporting need nothing else, and
    validating a 2,000-entry state was most of the time to open one. The state is validated the
    first time something asks for it (a write, a server-side feature).
    """

    def __init__(
        self,
        state: IncidentState | None = None,
        frames: list[str] | None = None,
        *,
        unread: StoredSnapshot | None = None,
    ) -> None:
        if (state is None) == (unread is None):
            raise ValueError("a state, or a stored snapshot to read it from")
        self._state = state
        self._unread = unread
        self.frames: list[str] = frames if frames is not None else []
        """Committed events as JSON; frames[n] is event seq n+1. Catch-up is a slice of this."""
        self._compact: list[bytes] = []
        self._event_columns = EventColumns()
        """`frames` in the compact encoding, made when a console first asks for them; UTF-8,
        as they are sent (a reply is then one join, with no encoding of megabytes per reply)."""
        self._compact_snapshot: tuple[int, bytes | None] | None = None
        """The latest snapshot sent compact (its seq and JSON, None if it could not be read)."""
        self._columnar_snapshot: tuple[int, bytes | None] | None = None
        """The latest snapshot sent columnar (its seq and JSON, None if it could not be)."""
        self._packed_snapshot: tuple[int, tuple[bytes, bytes] | None] | None = None
        """The latest snapshot sent packed (its seq, head and columns, None if it could not
        be)."""
        self.subscribers: dict[Connection, None] = {}
        self.snapshot: tuple[int, str] | None = None
        """The latest snapshot as JSON and its seq (the one in the store, or one made for a
        reply): consoles far behind get it and the events after it, so nobody serialises the
        incident for them while it is being written to (see `server.catch_up`)."""
        self.stored_seq = 0
        """The seq of the incident's latest snapshot in the store (0: none)."""
        self.used_at = 0.0
        """When a request last named the incident (the cache's clock)."""
        self._behind: list[Event | str] = []
        """Events other nodes committed, already in `frames` but not yet applied to the state,
        parsed or still as JSON: applied when something first asks for the state (see
        `follow_on`)."""
        if unread is not None:
            self.stored_seq = unread.seq
            self.snapshot = (unread.seq, unread.state_json)

    @property
    def state(self) -> IncidentState:
        """The incident's state, validated from the stored snapshot on first use, with the
        events other nodes committed since applied.

        Raises:
            StoreError: neither the snapshot nor the events make a state (a damaged log).
        """
        if self._state is None:
            assert self._unread is not None
            self._state = _read_snapshot(self._unread, self.frames[: self._unread.seq])
            self._unread = None
        if self._behind:
            self._apply_behind(self._state)
        return self._state

    @state.setter
    def state(self, state: IncidentState) -> None:
        self._state, self._unread, self._behind = state, None, []

    @property
    def seq(self) -> int:
        """The seq of the incident's last committed (or, in a turn, decided) event."""
        if self._behind:
            return len(self.frames)  # frames[n] is event seq n+1, and it holds them all
        return self._unread.seq if self._unread is not None else self.state.seq

    @property
    def behind(self) -> int:
        """How many committed events the state has yet to apply."""
        return len(self._behind)

    def follow_on(self, frames: list[str], events: list[Event | str]) -> None:
        """Take events another node committed after `seq` (`frames` as JSON; `events` the same,
        each parsed or, if nothing needed it parsed yet, as its JSON), applying them to the
        state only when something asks for it.

        A node holds every live incident, but most incidents written on other nodes have no
        follower here: applying each of their events at once (and the summary after it) cost
        every node CPU for every write made on any other, so the more nodes, the more CPU per
        write. Deciding a write, answering a console and every feature reach the events through
        `state`, which applies them first, so they see the latest state all the same."""
        self.frames.extend(frames)
        self._behind.extend(events)

    def _apply_behind(self, state: IncidentState) -> None:
        behind, self._behind = self._behind, []
        first = len(self.frames) - len(behind)
        for n, event in enumerate(behind):
            try:
                if isinstance(event, str):
                    event = Event.model_validate_json(event)
                apply_event(state, event)
            except (ProjectionError, ValueError) as exc:
                # The copy goes back to the events before this one, behind the store: the next
                # notification or check reads the rest back.
                log.error(
                    "incident %d: events from other nodes do not apply: %s", state.incident.id, exc
                )
                applied = first + n
                del self.frames[applied:]
                del self._compact[applied:]
                self._event_columns.forget_after(applied)
                self._state = replay([Event.model_validate_json(f) for f in self.frames])
                return

    @property
    def live(self) -> bool:
        """Held in memory for good (see `is_live`); an unread snapshot is always a closed one."""
        return self._unread is None and is_live(self.state)

    def state_json(self) -> str:
        """The state as JSON now, kept as the latest snapshot."""
        if self.snapshot is None or self.snapshot[0] != self.seq:
            self.snapshot = (self.seq, self.state.model_dump_json())
        return self.snapshot[1]

    def compact_frames(self, seq: int) -> list[bytes] | None:
        """The events up to `seq` as elements of a `compact_events` frame, converted once and
        kept (a console far behind would otherwise cost a parse of every event it missed), or
        None if a stored event cannot be read (the reply is then a plain `events` frame)."""
        compact = self._compact
        if len(compact) < seq:
            try:
                compact.extend(
                    compact_event_json(f).encode() for f in self.frames[len(compact) : seq]
                )
            except (ValueError, KeyError, TypeError):
                log.warning("incident has an unreadable stored event; caught up without compact")
                return None
        return compact

    def columnar_events(self, after: int, seq: int) -> list[bytes] | None:
        """The events after seq `after` up to `seq` as elements of a `columnar_events` frame,
        each event converted once and kept (`EventColumns`), or None if a stored event cannot be
        read (the reply is then sent another way)."""
        columns = self._event_columns
        if len(columns) < seq:
            try:
                columns.extend(self.frames[len(columns) : seq])
            except (ValueError, KeyError, TypeError):
                log.warning("incident has an unreadable stored event; caught up without columns")
                return None
        return columns.elements(self.frames, after, seq)

    def compact_snapshot(self, seq: int, state_json: str) -> bytes | None:
        """The snapshot at `seq` (`state_json`) as a compact snapshot's state (UTF-8), converted
        once and kept while it is the latest, or None if it cannot be read (the reply is then a
        plain `snapshot`)."""
        held = self._compact_snapshot
        if held is None or held[0] != seq:
            try:
                converted: bytes | None = compact_state_json(state_json).encode()
            except ValueError:
                log.warning("incident has an unreadable snapshot; sent without compact")
                converted = None
            held = self._compact_snapshot = (seq, converted)
        return held[1]

    def columnar_snapshot(self, seq: int, state_json: str) -> bytes | None:
        """The snapshot at `seq` (`state_json`) as a columnar snapshot's state (UTF-8), converted
        once and kept while it is the latest, or None if it cannot be read or has a time a column
        cannot carry (the reply is then sent another way)."""
        held = self._columnar_snapshot
        if held is None or held[0] != seq:
            try:
                converted: bytes | None = columnar_state_json(state_json).encode()
            except ValueError as exc:
                log.info("incident's snapshot sent without columns: %s", exc)
                converted = None
            held = self._columnar_snapshot = (seq, converted)
        return held[1]

    def packed_snapshot(self, seq: int, state_json: str) -> tuple[bytes, bytes] | None:
        """The snapshot at `seq` (`state_json`) as a packed snapshot's state head and columns
        (`protocol.packed`), converted once and kept while it is the latest, or None if it
        cannot be packed (the reply is then sent another way)."""
        held = self._packed_snapshot
        if held is None or held[0] != seq:
            try:
                converted: tuple[bytes, bytes] | None = packed_state(state_json)
            except ValueError as exc:
                log.info("incident's snapshot sent without packing: %s", exc)
                converted = None
            held = self._packed_snapshot = (seq, converted)
        return held[1]

    def latest_snapshot(self) -> tuple[int, str]:
        """The latest snapshot (seq, JSON), made now only if the incident has none yet."""
        if self.snapshot is None:
            return self.seq, self.state_json()
        return self.snapshot


_STATE_HEAD = re.compile(r'\{"incident":\{"id":([0-9]{1,18}),')
"""How a serialised `IncidentState` begins: its incident, whose id comes first."""


def _looks_like_state(snapshot: StoredSnapshot, incident_id: int) -> bool:
    """Whether a stored snapshot is framed as this incident's state at its seq: it begins with
    the incident and its id, holds the state's seq right after the incident, and ends as an
    object ends. A closed incident's snapshot is sent as it is, unvalidated (`LoadedIncident`),
    only if it is: a torn, replaced or foreign one is rebuilt from the events instead, as a live
    incident's is. Parsing it to be sure would cost most of what validating it costs (about 20
    ms for 2,000 entries, against 35); this costs a scan. Damage deep inside a well-framed
    snapshot still reaches the console, which refuses it and says so."""
    text = snapshot.state_json
    head = _STATE_HEAD.match(text)
    return (
        head is not None
        and int(head[1]) == incident_id
        and text.endswith("}")
        and f'}},"seq":{snapshot.seq},' in text
    )


def _read_snapshot(snapshot: StoredSnapshot, frames: list[str]) -> IncidentState:
    """A stored snapshot validated into a state; one that cannot be is rebuilt from the events,
    as a load would have done."""
    incident_id = snapshot.incident_id
    try:
        state = IncidentState.model_validate_json(snapshot.state_json)
    except ValidationError:
        log.warning("snapshot of incident %d unreadable; replaying its events", incident_id)
    else:
        if state.seq == snapshot.seq and state.incident.id == incident_id:
            return state
    try:
        return replay([Event.model_validate_json(f) for f in frames])
    except (ValidationError, ProjectionError, ValueError) as exc:
        raise StoreError(f"incident {incident_id} has a damaged log: {exc}") from None


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
        closed_held: int = CLOSED_INCIDENTS_HELD,
    ) -> None:
        self._store = store
        self.closed_held = closed_held
        """Closed incidents nobody follows kept at most (`[limits] closed_incidents_held`)."""
        self.snapshot_every = snapshot_every
        self.idle_after = idle_after
        self._clock = clock
        self.loaded: dict[int, LoadedIncident] = {}
        """Incidents in memory by id. The sequencer decides against these and adds new ones."""
        self.summaries: dict[int, IncidentSummary] = {}
        """Every committed incident's line in the list, by id (see `summary_list`)."""
        self._behind: set[int] = set()
        """Loaded incidents given other nodes' events since their line in `summaries` was made."""

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

    async def ensure_loaded(
        self, incident_ids: Iterable[int], *, writing: Iterable[int] = ()
    ) -> None:
        """Load the named incidents that exist but are not in memory, and mark all of them used.
        One that cannot be loaded is logged and left out (requests for it find no incident);
        so is one about to be written whose stored snapshot and events make no state."""
        now = self._clock()
        named = list(incident_ids)
        loaded_any = False
        for incident_id in named:
            record = self.loaded.get(incident_id)
            if record is None and incident_id in self.summaries:
                try:
                    record = await self.load(incident_id)
                except StoreError as exc:
                    log.error("cannot load incident %d: %s", incident_id, exc)
                    continue
                loaded_any = True
            if record is not None:
                record.used_at = now
        if loaded_any:
            self._drop_closed_over_bound(keep=set(named))
        for incident_id in writing:
            record = self.loaded.get(incident_id)
            if record is None:
                continue
            try:
                record.state  # noqa: B018 - validates a snapshot loaded only to be read
            except StoreError as exc:
                log.error("cannot load incident %d: %s", incident_id, exc)
                del self.loaded[incident_id]

    def mark_used(self, incident_id: int) -> None:
        """Mark a loaded incident used now, as `ensure_loaded` does (eviction reads it)."""
        record = self.loaded.get(incident_id)
        if record is not None:
            record.used_at = self._clock()

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
        if record.stored_seq == 0 and record.seq >= self.snapshot_every:
            # No snapshot of this domain's version (an older model, or none yet): write one now
            # so the next load is quick. Failing to is harmless: the events are all there.
            fresh = StoredSnapshot(incident_id, record.seq, record.state_json())
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
        summary = self.summaries.get(incident_id)
        if (
            snapshot is not None
            and snapshot.seq == len(frames)
            and summary is not None
            and summary.phase is Phase.POSTMORTEM_DONE
            and summary.seq == snapshot.seq
            and _looks_like_state(snapshot, incident_id)
        ):
            # Closed and snapshotted at its last event: a read needs only the JSON.
            return LoadedIncident(frames=frames, unread=snapshot)
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
            if closed_now or state.seq - record.stored_seq >= snapshot_gap(
                state.seq, self.snapshot_every
            ):
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

    def follow_on(self, incident_id: int, frames: list[str], events: list[Event | str]) -> None:
        """Take events another node committed to a loaded incident after its seq, applied to
        its state (and its line) when something asks for them (`LoadedIncident.follow_on`), or
        now once `BEHIND_AT_MOST` wait: the parsed events are kept until then."""
        record = self.loaded[incident_id]
        record.follow_on(frames, events)
        self._behind.add(incident_id)
        if record.behind >= BEHIND_AT_MOST:
            self._lines_current()

    def _lines_current(self) -> None:
        for incident_id in self._behind:
            record = self.loaded.get(incident_id)
            if record is None:
                continue
            try:
                self.summaries[incident_id] = record.state.summary()
            except StoreError as exc:
                log.error("cannot load incident %d: %s", incident_id, exc)
        self._behind.clear()

    def summary_list(self) -> list[IncidentSummary]:
        """Every incident's line, in id order."""
        self._lines_current()
        return [summary for _, summary in sorted(self.summaries.items())]

    def live_states(self) -> list[IncidentState]:
        """The live incidents' states, in id order: what integrations watch."""
        return [r.state for _, r in sorted(self.loaded.items()) if r.live]

    def _drop_closed_over_bound(self, keep: set[int]) -> None:
        """Past `closed_held` closed incidents nobody follows, drop the least recently used of
        them but those in `keep` (the turn's): a closed incident is loaded on demand, and one
        connection reading thousands in a few minutes held them all until they went idle."""
        unfollowed = [
            (record.used_at, incident_id)
            for incident_id, record in self.loaded.items()
            if not record.subscribers and self._closed(incident_id)
        ]
        over = len(unfollowed) - self.closed_held
        if over <= 0:
            return
        droppable = [i for _, i in sorted(unfollowed) if i not in keep]
        for incident_id in droppable[:over]:
            del self.loaded[incident_id]
        log.info(
            "dropped %d closed incidents from memory, over %d held",
            len(droppable[:over]),
            self.closed_held,
        )

    def _closed(self, incident_id: int) -> bool:
        """Committed and closed by its line (the state is not read: it may be an unread
        snapshot, or wait for other nodes' events)."""
        summary = self.summaries.get(incident_id)
        return summary is not None and summary.phase is Phase.POSTMORTEM_DONE

    def evict_idle(self) -> list[int]:
        """Drop closed incidents nobody follows and nobody used for `idle_after` seconds."""
        self._lines_current()  # a dropped incident's line is kept
        now = self._clock()
        idle = [
            incident_id
            for incident_id, record in self.loaded.items()
            if not record.live
            and not record.subscribers
            and now - record.used_at >= self.idle_after
            and incident_id in self.summaries  # committed, not one being declared this turn
        ]
        for incident_id in idle:
            del self.loaded[incident_id]
        if idle:
            log.info("dropped %d idle closed incidents from memory", len(idle))
        return idle
