"""The sequencer: the one place where writes are decided, numbered, committed and fanned out.

All requests go through one queue and one task. Each turn takes every request waiting (group
commit), decides them against the in-memory incident state, commits the resulting events in one
durable transaction, and only then broadcasts them and acknowledges their senders. Reads
(subscribe, list) are answered after the turn's commit, so nobody ever sees an uncommitted event.

On a store several nodes share (`SharedEventStore`, PostgreSQL) the same hub is one node of many:
a commit decided against an out-of-date incident is refused by the store (`StaleAppend`) and the
turn is decided again, holding the incidents' locks, after reading what other nodes committed;
refusals are checked against the latest seq before they are sent; and the other nodes' commits
are read and sent to this node's followers when `changed_elsewhere` says so (`server.cluster`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, get_args

from warroom.domain.commands import (
    AssignRole,
    DeclareIncident,
    DismissTriage,
    IncidentCommand,
    PinMetrics,
    SetItemOwner,
)
from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.events import SERVER_ACTOR, Event, EventBody
from warroom.domain.incident import IncidentState, IncidentSummary
from warroom.domain.metrics import MetricsSnapshot
from warroom.domain.phase import Phase
from warroom.domain.projection import ProjectionError, apply_event, replay, start_state
from warroom.domain.rules import NO_SNAPSHOT, decide, decide_declaration, decide_dismissal
from warroom.domain.triage import Detection, TriageItem
from warroom.domain.triage_log import TRIAGE_LOG, TriageRecord, apply_triage_record
from warroom.gc_pause import paused_gc
from warroom.protocol.frames import (
    Ack,
    ClientFrame,
    ErrorFrame,
    IncidentList,
    ListIncidents,
    ReadLog,
    Subscribe,
    Unsubscribe,
    Unsubscribed,
)
from warroom.server.auth import Authenticator
from warroom.server.catch_up import catch_up_frames, current_snapshot_frame, events_frame
from warroom.server.connection import Connection, wire_frame
from warroom.server.inbox import Inbox
from warroom.server.incidents import IncidentCache
from warroom.server.incidents import LoadedIncident as _Incident
from warroom.server.limits import FOLLOWS_PER_CONNECTION, FOLLOWS_PER_USER
from warroom.server.presence import PresenceSender
from warroom.store.base import (
    NOTHING_READ,
    CommandKey,
    EventStore,
    HeldRead,
    SharedEventStore,
    StaleAppend,
    StoreError,
    TriageDecided,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

BATCH_LIMIT = 512
"""Most requests decided and committed in one turn; bounds the latency of a single commit."""
STALE_RETRIES = 8
"""Times a turn is decided again after another node committed to its incidents first (several
nodes on one database) before its writers are told `unavailable` (they resend, same id)."""
CONTENDED_FOR = 1.0
"""Seconds after another node committed to an incident (this node heard of it, or lost a commit
to it) during which this node's turns that write it take its lock before deciding (a shared
database)."""
_ANY_SEQ = 2**62
"""A seq beyond any incident's: catch up whatever the store holds."""
READ_LOG_PAGE_BYTES = 512 * 1024
"""Largest `read_log` reply (one event larger than this is sent alone); see docs/protocol.md."""

_INTERNAL = DomainError(ErrorCode.INTERNAL, "internal error; nothing was changed")
_NOT_SAVED = DomainError(
    ErrorCode.UNAVAILABLE, "not saved: the server could not store it; nothing was changed"
)
"""What a client hears when the commit fails; the cause (and the database's path) goes to the
server's log only."""
_NOT_READ = DomainError(
    ErrorCode.UNAVAILABLE, "nothing was changed: the server could not read what it needs"
)
"""What a client hears when the turn could not load what it needs; the cause is logged."""


_READS = (Subscribe, Unsubscribe, ListIncidents, ReadLog)

_WRITES = (DeclareIncident, DismissTriage, *get_args(IncidentCommand))

ReadHandler = Callable[[Connection, Any], None]
"""Answers a frame the hub routes to a feature (triage, metrics) after the turn's commit."""


class TriageBook(Protocol):
    """The triage items the sequencer decides triage commands and declarations against (the
    triage desk keeps them)."""

    def claim(self, triage_id: int) -> Detection:
        """The detection for an open triage item; raises DomainError if it cannot be declared."""
        ...

    def item(self, triage_id: int) -> TriageItem | None:
        """The item as it stands now; callers do not mutate it."""
        ...

    def decided(self, items: list[TriageItem]) -> None:
        """Items changed by committed triage log records: keep them and tell the followers."""
        ...

    async def catch_up(self) -> None:
        """Read the items other nodes of a shared database wrote, before deciding on them.

        Raises:
            StoreError: the store cannot be read.
        """
        ...


class MetricsSource(Protocol):
    """Where a `pin_metrics` command finds the snapshot it writes down (the metrics desk). Only
    what is already at hand: deciding never waits for Prometheus."""

    def latest_snapshot(self, incident_id: int) -> MetricsSnapshot | None: ...

    def why_none(self, incident_id: int) -> str:
        """Why there is no snapshot to pin, in words for the person who asked."""
        ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def error_frame(frame_id: str | None, error: DomainError) -> str:
    return ErrorFrame(
        id=frame_id, code=error.code, message=error.message, current=error.current
    ).model_dump_json()


@dataclass
class _Request:
    conn: Connection
    frame: ClientFrame


@dataclass
class _ServerWrite:
    """An event the server writes on its own behalf (alerts, reminders, metrics pins)."""

    incident_id: int
    body: EventBody
    actor: str
    command_id: str | None
    """Set when a person's request caused it, so a retried request is applied once."""
    done: asyncio.Future[int]


@dataclass
class _Write:
    """A decided write waiting for its commit: an incident event or a triage log record."""

    conn: Connection
    frame_id: str
    stream: int
    """The incident id, or `TRIAGE_LOG`."""
    seq: int
    duplicate: bool
    event: Event | None = None
    record: TriageRecord | None = None
    item: TriageItem | None = None
    """The triage item as `record` leaves it."""


class _Sweep:
    """A request to drop idle closed incidents, taken in turn with everyone's requests."""


@dataclass
class _Refresh:
    """Another node committed to an incident (or, with no incident, may have: the periodic
    check): read what this node misses, in turn with everyone's requests."""

    incident_id: int | None
    seq: int
    frames: tuple[str, ...] = ()
    """The committed events as `Event` JSON, when the notification carried them."""


@dataclass
class _OtherNodesObserver:
    """An observer of the events other nodes commit, and which of them it needs."""

    observer: Callable[[list[Event]], None]
    kinds: frozenset[str] | None
    """The body `type`s it looks at; None: all."""
    when: Callable[[], bool] | None
    """Whether it needs them now (None: always); e.g. only while this node leads."""


class _Stale(Exception):
    """The turn's commit was refused as decided against out-of-date incidents; memory is back
    to what it was before the turn."""

    def __init__(self, incidents: list[int]) -> None:
        super().__init__(incidents)
        self.incidents = incidents


class Hub:
    """Holds the live incidents in memory (others while they are used) and serialises all
    changes to them: the in-memory `Sequencer` of a single node."""

    def __init__(
        self,
        store: EventStore,
        auth: Authenticator,
        clock: Clock = utc_now,
        *,
        cache: IncidentCache | None = None,
        follows_per_connection: int = FOLLOWS_PER_CONNECTION,
        follows_per_user: int = FOLLOWS_PER_USER,
    ) -> None:
        self._store = store
        self._follows_per_connection = follows_per_connection
        """Incidents one connection may follow at once (`[limits] follows_per_connection`)."""
        self._follows_per_user = follows_per_user
        """Follows one user may hold over all their connections (`[limits] follows_per_user`)."""
        self._follows_by_user: dict[str, int] = {}
        """Follows each user holds now, over all their connections (none: not listed)."""
        self._shared = store if isinstance(store, SharedEventStore) else None
        """The store when other nodes write to it too: refusals are checked against its latest
        state, and an incident this node has not heard of is looked up in it."""
        self._auth = auth
        self._clock = clock
        self._cache = cache or IncidentCache(store)
        # The same dict as the cache's: deciding reads and adds incidents here.
        self._incidents: dict[int, _Incident] = self._cache.loaded
        # Command ids decided this turn, and those found in the store for this turn's requests;
        # emptied after every turn (the store answers for everything committed).
        self._commands: dict[CommandKey, tuple[int, int]] = {}
        self._queue: Inbox[_Request | _ServerWrite | _Sweep | _Refresh] = Inbox()
        self._waiting = False
        """The sequencer waits for a request: no turn is under way, so every incident in memory
        is as committed, and a subscribe arriving now may be answered at once (`submit`)."""
        self._observers: list[Callable[[list[Event]], None]] = []
        self._other_nodes_observers: list[_OtherNodesObserver] = []
        self._subscribe_hooks: list[Callable[[Connection, int], None]] = []
        self._readers: dict[type[Any], ReadHandler] = {}
        self._triage: TriageBook | None = None
        self._metrics: MetricsSource | None = None
        self._triage_seq = 0
        self._turn_triage: set[int] = set()
        self._turn_events: dict[int, list[Event]] = {}
        """This turn's decided, not yet committed events per incident: what a failed apply
        rebuilds the incident with, on top of its committed log."""
        self._presence = PresenceSender(self._followers_of)
        self._contended: dict[int, float] = {}
        """Incidents other nodes commit to, until when their turns here take their locks from
        the start (monotonic seconds)."""

    async def load(self) -> None:
        """Load the live incidents and the incident list (see `warroom.server.incidents`).

        Raises:
            StoreError: the store cannot be read or holds a damaged incident.
        """
        with paused_gc():
            await self._cache.start()
        for entry in await self._store.load_triage_log():
            self._triage_seq = entry.seq

    def sweep(self) -> None:
        """Drop idle closed incidents from memory, in turn with the requests queued before."""
        self._queue.put_nowait(_Sweep())

    async def _sweep_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            self.sweep()

    def submit(self, conn: Connection, frame: ClientFrame) -> None:
        if (
            type(frame) is Subscribe
            and self._waiting
            and self._queue.empty()
            and frame.incident_id in self._incidents
        ):
            # A turn of its own would answer it from the same committed state, one turn of the
            # event loop later: answered now, the console's full sync starts that much sooner
            # (sync21). Nothing is queued or under way, so no event of the incident can be
            # published before this subscriber is added, nor is one in memory uncommitted.
            self._cache.mark_used(frame.incident_id)
            self._answer_reads([_Request(conn, frame)])
            return
        self._queue.put_nowait(_Request(conn, frame))

    def changed_elsewhere(
        self, incident_id: int | None = None, seq: int = 0, frames: tuple[str, ...] = ()
    ) -> None:
        """Another node committed `incident_id` up to `seq` (None: check every incident); its
        missing events (`frames` when the notification carried them, else read from the store)
        are applied and sent to this node's followers, in turn with the requests queued
        before."""
        self._queue.put_nowait(_Refresh(incident_id, seq, frames))

    async def check_other_nodes(self) -> None:
        """Look for what other nodes committed that no notification brought (a lost one, a
        declaration missed while the feed was down), and hand what this node lacks to
        `changed_elsewhere`. The reads (the last seq of each loaded incident, the incidents
        declared since) run here, outside the sequencer: in its turn they held up every
        notification and write queued behind them for two round trips, at every check of every
        node. Only the incidents found behind take a turn, as a notification does.

        Raises:
            StoreError: the store could not be read (the next check tries again).
        """
        if self._shared is None:
            return
        latest = await self._shared.last_seqs(list(self._incidents))
        declared = await self._shared.summaries_changed([], max(self._cache.summaries, default=0))
        # Compared now, against this node's copies as they are after both reads: an incident
        # that caught up meanwhile takes no turn, and one read behind is brought up to the seq
        # read (or beyond) by the turn, which reads the events itself.
        for incident_id, seq in latest.items():
            record = self._incidents.get(incident_id)
            if record is not None and record.seq < seq:
                self.changed_elsewhere(incident_id, seq)
        for summary in declared:
            known = self._cache.summaries.get(summary.id)
            if summary.id not in self._incidents and (known is None or known.seq < summary.seq):
                self.changed_elsewhere(summary.id, summary.seq)

    def add_observer(
        self,
        observer: Callable[[list[Event]], None],
        *,
        other_nodes: bool = True,
        kinds: frozenset[str] | None = None,
        when: Callable[[], bool] | None = None,
    ) -> None:
        """Call `observer` with every turn's committed events, after they are broadcast, and
        (unless `other_nodes` is False) with the events other nodes on a shared database
        committed, as this node reads them: features that one node runs for all (the
        integrations' leader) see every write, whichever node took it. Of those, it gets only
        the events whose body `type` is in `kinds` (None: all), and none while `when` says
        False: this node parses other nodes' events only if something here needs them.

        Observers (paging, status page, reminders) must only schedule work, never block: they
        run inside the sequencer's turn.
        """
        self._observers.append(observer)
        if other_nodes:
            self._other_nodes_observers.append(_OtherNodesObserver(observer, kinds, when))

    def route(self, frame_type: type[Any], handler: ReadHandler) -> None:
        """Answer frames of `frame_type` with `handler`, in order with everyone's writes."""
        self._readers[frame_type] = handler

    def on_subscribe(self, hook: Callable[[Connection, int], None]) -> None:
        """Call `hook` after a console subscribed to an incident and got its state."""
        self._subscribe_hooks.append(hook)

    def attach_triage(self, book: TriageBook) -> None:
        """Decide declarations from triage items and triage commands against `book`."""
        self._triage = book

    def attach_metrics(self, source: MetricsSource) -> None:
        """Pin the snapshots `source` holds."""
        self._metrics = source

    def _followers_of(self, incident_id: int) -> Collection[Connection] | None:
        record = self._incidents.get(incident_id)
        return None if record is None else record.subscribers.keys()

    def send_to_followers(self, incident_id: int, frame: str) -> None:
        """Send a frame to every console following the incident."""
        record = self._incidents.get(incident_id)
        if record is not None:
            wire = wire_frame(frame)
            for conn in list(record.subscribers):
                conn.send(wire)

    @property
    def states(self) -> list[IncidentState]:
        """Every live incident's committed state (open, or resolved with the post-mortem still to
        do), in id order; read-only for callers. Closed incidents are not held in memory."""
        return self._cache.live_states()

    async def record(
        self,
        incident_id: int,
        body: EventBody,
        actor: str = SERVER_ACTOR,
        command_id: str | None = None,
    ) -> int:
        """Append an event as the server itself, in sequence with everyone's writes; returns its
        seq once committed.

        Raises:
            DomainError: unknown incident, an event that does not fit, or a failed commit.
        """
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_ServerWrite(incident_id, body, actor, command_id, done))
        return await done

    @property
    def summaries(self) -> list[IncidentSummary]:
        """Every committed incident's line in the list, live or closed, in id order."""
        return self._cache.summary_list()

    async def read_state(self, incident_id: int) -> IncidentState | None:
        """An incident's committed state, read from the store when it is not in memory (and not
        kept); None if there is no such incident. Raises StoreError if it cannot be read."""
        return await self._cache.read_state(incident_id)

    def incident_state(self, incident_id: int) -> IncidentState | None:
        """The committed state of an incident in memory (every live one, and a closed one while
        it is used), for server-side features; do not mutate it. None also for a closed one
        whose stored snapshot and events make no state (logged)."""
        record = self._incidents.get(incident_id)
        if record is None:
            return None
        try:
            return record.state
        except StoreError as exc:
            log.error("cannot load incident %d: %s", incident_id, exc)
            return None

    def disconnect(self, conn: Connection) -> None:
        """Forget a console that went away and tell the others."""
        conn.closed = True
        for incident_id in conn.subscriptions:
            record = self._incidents.get(incident_id)
            if record is not None and record.subscribers.pop(conn, False) is None:
                self._presence.changed(incident_id)
        self._count_follows(conn.user, -len(conn.subscriptions))
        conn.subscriptions.clear()

    def _count_follows(self, user: str, change: int) -> None:
        held = self._follows_by_user.get(user, 0) + change
        if held > 0:
            self._follows_by_user[user] = held
        else:
            self._follows_by_user.pop(user, None)

    async def run(self) -> None:
        """Process requests until cancelled."""
        sweeper = asyncio.create_task(self._sweep_every(max(1.0, self._cache.idle_after / 2)))
        try:
            await self._run()
        finally:
            sweeper.cancel()

    async def _run(self) -> None:
        while True:
            self._waiting = True
            try:
                taken = [await self._queue.get()]
            finally:
                self._waiting = False
            while len(taken) < BATCH_LIMIT and not self._queue.empty():
                taken.append(self._queue.get_nowait())
            batch = [r for r in taken if isinstance(r, _Request | _ServerWrite)]
            if len(batch) < len(taken):
                refreshes = [r for r in taken if isinstance(r, _Refresh)]
                if refreshes:
                    await self._refresh_from(refreshes)
                if len(refreshes) + len(batch) < len(taken):
                    self._cache.evict_idle()
            if not batch:
                continue
            try:
                await self._turn(batch)
            except Exception:  # the sequencer must outlive any single bad turn
                log.exception("unexpected failure while processing %d requests", len(batch))
                for request in batch:
                    if isinstance(request, _ServerWrite):
                        if not request.done.done():
                            request.done.set_exception(_INTERNAL)
                    else:
                        request.conn.send(
                            error_frame(getattr(request.frame, "id", None), _INTERNAL)
                        )

    async def _turn(self, batch: list[_Request | _ServerWrite]) -> None:
        held = self._contended_in(batch)
        for _ in range(STALE_RETRIES):
            try:
                async with self._holding(held, batch) as read:
                    if held:
                        self._join_queued_writes(batch, held)
                        # Under the locks: what is read now stays the latest until the commit.
                        wanted = self._wanted_while_held(held, read)
                        await self._refresh(full=False, wanted=wanted, carried=read.events)
                    await self._prepare(batch, read)
                    await self._decide_and_commit(batch)
                return
            except _Stale as stale:
                # Another node committed to these incidents since this node last read them:
                # decide the whole batch again, this time holding their locks from the start.
                held |= set(stale.incidents) | _written_incidents(batch)
                self._contended_until(stale.incidents, time.monotonic() + CONTENDED_FOR)
            except StoreError as exc:  # nothing was written
                log.error("cannot read the store: %s", exc)
                self._refuse(batch, _NOT_READ)
                return
            finally:
                self._commands.clear()
        log.error("write refused: still behind other nodes after %d attempts", STALE_RETRIES)
        self._refuse(batch, _NOT_SAVED)

    def _contended_in(self, batch: list[_Request | _ServerWrite]) -> set[int]:
        """The incidents a turn locks before it decides: none, unless it writes one that another
        node committed to first lately (then all it writes, in id order, as a turn decided again
        does). Deciding without the lock and losing the commit cost a round trip and a wait for
        the lock, only to decide again under it."""
        if not self._contended:
            return set()
        written = _written_incidents(batch)
        now = time.monotonic()
        if any(self._contended.get(i, 0.0) > now for i in written):
            return written
        return set()

    def _contended_until(self, incident_ids: list[int], until: float) -> None:
        if any(i not in self._contended for i in incident_ids):
            # Only when one is added: called at every commit heard of, the set stays small.
            now = time.monotonic()
            self._contended = {i: t for i, t in self._contended.items() if t > now}
        self._contended.update(dict.fromkeys(incident_ids, until))

    def _join_queued_writes(self, batch: list[_Request | _ServerWrite], held: set[int]) -> None:
        """Holding the locks of `held`: add to the turn the writes queued behind it to those
        incidents only, up to the first request that is anything else (taken in order, never
        past it), so one lock acquisition commits everything that waited for it. Other nodes'
        notifications about held incidents are dropped: what they tell is read under the locks.

        On one incident written through several nodes, each node otherwise took the lock for the
        batch it started its turn with, while the writes that arrived during its wait (for the
        lock, and for the commit it lost to another node) made turns of their own: more nodes,
        more lock handoffs."""
        while len(batch) < BATCH_LIMIT:
            waiting = self._queue.peek()
            if isinstance(waiting, _Refresh) and waiting.incident_id in held:
                self._queue.get_nowait()
            elif isinstance(waiting, _Request | _ServerWrite) and _writes_only(waiting, held):
                self._queue.get_nowait()
                batch.append(waiting)
            else:
                return

    def _holding(
        self, incident_ids: set[int], batch: list[_Request | _ServerWrite]
    ) -> contextlib.AbstractAsyncContextManager[HeldRead]:
        """The incidents' locks, and once they are granted, in the same round trip, what the turn
        reads before deciding: the events this node misses of those it holds, and which of the
        batch's command ids were committed."""
        if not incident_ids or self._shared is None:
            return contextlib.nullcontext(NOTHING_READ)
        after = {i: self._incidents[i].seq for i in incident_ids if i in self._incidents}
        return self._shared.holding(incident_ids, after, _command_keys(batch))

    def _wanted_while_held(self, held: set[int], read: HeldRead) -> dict[int, int]:
        """The seq `_refresh` brings each held incident up to: the last event read with the
        locks (carried to it, as a notification carries them), or, for one not loaded when the
        locks were asked for, whatever the store holds (read and loaded there)."""
        wanted: dict[int, int] = {}
        for incident_id in held:
            record = self._incidents.get(incident_id)
            frames = read.events.get(incident_id)
            if record is None or incident_id not in read.read:
                wanted[incident_id] = _ANY_SEQ
            elif frames:
                wanted[incident_id] = _seq_of(frames[-1])
            else:
                wanted[incident_id] = record.seq
        return wanted

    async def _refresh_from(self, refreshes: list[_Refresh]) -> None:
        """Catch up on what other nodes committed, as their notifications and checks tell."""
        wanted: dict[int, int] = {}
        carried: dict[int, list[str]] = {}
        full = False
        for refresh in refreshes:
            if refresh.incident_id is None:
                full = True
            else:
                wanted[refresh.incident_id] = max(wanted.get(refresh.incident_id, 0), refresh.seq)
                carried.setdefault(refresh.incident_id, []).extend(refresh.frames)
        try:
            await self._refresh(full=full, wanted=wanted, carried=carried)
        except StoreError as exc:  # repaired by the next notification or check
            log.warning("cannot read the changes of other nodes: %s", exc)
        except Exception:  # the sequencer must outlive a bad refresh
            log.exception("unexpected failure reading the changes of other nodes")

    async def _refresh(
        self, *, full: bool, wanted: dict[int, int], carried: dict[int, list[str]] | None = None
    ) -> None:
        """Bring the incidents in `wanted` up to at least their seq, applying the events this node
        misses (those `carried` by the notifications when they follow on, else read from the
        store) and sending them to its followers. With `full`, check every loaded incident's last
        seq and look for incidents declared since; for an incident this node does not hold, read
        its summary (a new declaration, or a closed incident's changed list line).

        Raises:
            StoreError: the store could not be read; what was read so far is kept.
        """
        if full and self._shared is not None:
            # One index probe per loaded incident, whatever the size of their histories.
            latest = await self._shared.last_seqs(self._incidents)
            for incident_id, seq in latest.items():
                if seq > self._incidents[incident_id].seq:
                    wanted[incident_id] = max(wanted.get(incident_id, 0), seq)
        unheld = [i for i in wanted if i not in self._incidents]
        if full or unheld:
            for summary in await self._summaries_changed(unheld):
                known = self._cache.summaries.get(summary.id)
                if known is None or known.seq < summary.seq:
                    self._cache.summaries[summary.id] = summary
                    wanted[summary.id] = max(wanted.get(summary.id, 0), summary.seq)
        for incident_id, seq in sorted(wanted.items()):
            record = self._incidents.get(incident_id)
            if record is None:
                line = self._cache.summaries.get(incident_id)
                # Every node holds the live incidents; a closed one only while it is used.
                if line is not None and line.phase is not Phase.POSTMORTEM_DONE:
                    # Declared on another node since this one started: all of it is news here.
                    loaded = await self._cache.load(incident_id)
                    self._tell_of_other_nodes([Event.model_validate_json(f) for f in loaded.frames])
            elif record.seq < seq:
                frames = _following_on(
                    incident_id, record.seq, (carried or {}).get(incident_id, ())
                )
                if not frames or _seq_of(frames[-1]) < seq:
                    # Not carried, or a gap before them (a lost notification): read them back.
                    frames = await self._store.events_json(incident_id, after=record.seq)
                await self._apply_others_events(incident_id, record, frames)

    async def _summaries_changed(self, incident_ids: list[int]) -> list[IncidentSummary]:
        if self._shared is None:
            return await self._store.incident_summaries()
        newest = max(self._cache.summaries, default=0)
        return await self._shared.summaries_changed(incident_ids, newest)

    async def _apply_others_events(
        self, incident_id: int, record: _Incident, frames: list[str]
    ) -> None:
        """Apply the events other nodes committed after this node's copy of the incident and
        send them to its followers: the same frames as this node's own writes."""
        if not frames:
            return
        # Another node writes here: this node's next turns that write it lock first. Deciding
        # against this copy would be refused if that node commits again meanwhile (it does,
        # at every commit, on an incident written through several nodes): a commit lost, and
        # the turn's events undone (`_roll_back` replays the incident's log), before deciding
        # again under the lock. Losing a commit first renewed this only once a second.
        self._contended_until([incident_id], time.monotonic() + CONTENDED_FOR)
        events: list[Event] = []
        if not record.subscribers:
            # Nobody here follows it: its state takes the events when something asks for it,
            # and only those an observer wants now are parsed now.
            wanted = self._kinds_observed()
            taken: list[Event | str] = []
            try:
                for frame in frames:
                    kind = _kind_of(frame)
                    if wanted is None or kind is None or kind in wanted:
                        events.append(Event.model_validate_json(frame))
                        taken.append(events[-1])
                    else:
                        taken.append(frame)
            except ValueError:
                events = []  # decided below, as events that do not apply
            else:
                self._cache.follow_on(incident_id, frames, taken)
                self._tell_of_other_nodes(events)
                return
        try:
            for frame in frames:
                events.append(Event.model_validate_json(frame))
                apply_event(record.state, events[-1])
        except (ProjectionError, ValueError) as exc:
            # Its copy is now half-applied: load it afresh, keeping who follows it.
            log.error("incident %d: events from other nodes do not apply: %s", incident_id, exc)
            reloaded = await self._cache.load(incident_id)
            reloaded.subscribers = record.subscribers
            message = current_snapshot_frame(None, incident_id, reloaded)
        else:
            record.frames.extend(frames)
            message = events_frame(None, incident_id, frames)
            self._cache.summaries[incident_id] = record.state.summary()
        wire = wire_frame(message)
        for conn in list(self._incidents[incident_id].subscribers):
            conn.send(wire)
        self._tell_of_other_nodes(events)

    def _kinds_observed(self) -> frozenset[str] | None:
        """The kinds of other nodes' events some observer wants now; None: every kind."""
        kinds: set[str] = set()
        for watching in self._other_nodes_observers:
            if watching.when is None or watching.when():
                if watching.kinds is None:
                    return None
                kinds |= watching.kinds
        return frozenset(kinds)

    def _tell_of_other_nodes(self, events: list[Event]) -> None:
        for watching in self._other_nodes_observers:
            if watching.when is not None and not watching.when():
                continue
            if watching.kinds is None:
                told = events
            else:
                told = [e for e in events if e.body.type in watching.kinds]
            if not told:
                continue
            try:
                watching.observer(told)
            except Exception:  # an integration's bug must never stop the war room
                log.exception("observer %r failed", watching.observer)

    async def _prepare(
        self, batch: list[_Request | _ServerWrite], read: HeldRead = NOTHING_READ
    ) -> None:
        """Bring what the turn needs into memory: the incidents it names that are not loaded,
        and any earlier commit of its write's command ids (idempotency for every incident, in
        memory or not, across restarts), those `read` with the locks aside."""
        incident_ids: set[int] = set()
        written: set[int] = set()
        leaving: dict[Connection, int] = {}
        """Unsubscribes per connection in the batch: a subscribe after one may be answered."""
        users_leaving: dict[str, int] = {}
        """The same per user, over all their connections."""
        for request in batch:
            if isinstance(request, _Request) and isinstance(request.frame, Unsubscribe):
                leaving[request.conn] = leaving.get(request.conn, 0) + 1
                user = request.conn.user
                users_leaving[user] = users_leaving.get(user, 0) + 1
        for request in batch:
            if isinstance(request, _ServerWrite):
                incident_ids.add(request.incident_id)
                written.add(request.incident_id)
                continue
            incident_id = getattr(request.frame, "incident_id", None)
            if self._follow_refusal(
                request, leaving.get(request.conn, 0), users_leaving.get(request.conn.user, 0)
            ):
                continue  # refused when answered: it loads nothing
            if isinstance(incident_id, int) and incident_id > 0:
                incident_ids.add(incident_id)
            if isinstance(request.frame, _WRITES) and isinstance(incident_id, int):
                written.add(incident_id)
        if (
            self._shared is not None
            and self._triage is not None
            and any(_decides_triage(r) for r in batch)
        ):
            # Another node may have decided the item since this node read it.
            await self._triage.catch_up()
        if self._shared is not None and (
            any(i not in self._cache.summaries for i in incident_ids)
            or any(isinstance(r, _Request) and isinstance(r.frame, ListIncidents) for r in batch)
        ):
            # Declared (or changed) on another node, and its notification not here yet.
            await self._refresh(full=True, wanted={})
        if incident_ids:
            await self._cache.ensure_loaded(sorted(incident_ids), writing=sorted(written))
        self._commands.update(read.commands)
        # Those not read with the locks: of writes that joined the turn after the grant.
        keys = _command_keys(batch) - read.looked_up
        if keys:
            self._commands.update(await self._store.find_commands(keys))

    def _refuse(self, batch: list[_Request | _ServerWrite], error: DomainError) -> None:
        for request in batch:
            if isinstance(request, _ServerWrite):
                if not request.done.done():
                    request.done.set_exception(error)
            else:
                request.conn.send(error_frame(getattr(request.frame, "id", None), error))

    async def _decide_and_commit(self, batch: list[_Request | _ServerWrite]) -> None:
        if any(isinstance(r, _Request) and self._names_unknown_user(r.frame) for r in batch):
            await self._auth.refresh()
        self._turn_triage.clear()
        self._turn_events = {}
        writes: list[_Write] = []
        reads: list[_Request] = []
        server_writes: list[tuple[_ServerWrite, Event]] = []
        before = {iid: rec.seq for iid, rec in self._incidents.items()}
        triage_seq = self._triage_seq
        # Refusals and answers from memory wait for the commit: if it turns out the turn was
        # decided against out-of-date incidents, it is decided again and they may differ.
        decided: list[Callable[[], None]] = []
        refused_on: set[int] = set()
        for request in batch:
            if isinstance(request, _ServerWrite):
                known = self._commands.get((request.actor, request.command_id or ""))
                if request.command_id is not None and known is not None:
                    decided.append(functools.partial(request.done.set_result, known[1]))
                    continue
                try:
                    server_writes.append((request, self._decide_server_write(request)))
                except DomainError as exc:
                    refused_on.add(request.incident_id)
                    decided.append(functools.partial(request.done.set_exception, exc))
                except Exception:  # a bug refuses this write only; it left nothing behind
                    log.exception("unexpected failure deciding a server write")
                    decided.append(functools.partial(request.done.set_exception, _INTERNAL))
                continue
            frame = request.frame
            if not isinstance(frame, _WRITES):
                reads.append(request)
                continue
            try:
                writes.append(self._decide(request.conn, frame))
            except DomainError as exc:
                if isinstance(frame, get_args(IncidentCommand)):
                    refused_on.add(frame.incident_id)
                decided.append(functools.partial(request.conn.send, error_frame(frame.id, exc)))
            except Exception:  # a bug refuses this write only; it left nothing behind
                log.exception(
                    "unexpected failure deciding %s from %s", frame.type, request.conn.user
                )
                decided.append(
                    functools.partial(request.conn.send, error_frame(frame.id, _INTERNAL))
                )
        # Keep the turn's events in seq order per incident: client writes and server writes were
        # decided in batch order, so sort by (incident, seq) to commit and publish them in order.
        new_events = sorted(
            [w.event for w in writes if w.event is not None] + [e for _, e in server_writes],
            key=lambda e: (e.incident_id, e.seq),
        )
        triage = [w for w in writes if w.record is not None]
        if refused_on and self._shared is not None:
            try:
                await self._check_refusals_are_current(refused_on, before, new_events)
            except BaseException:
                self._triage_seq = triage_seq
                raise
        refused: dict[tuple[int, int], DomainError] = {}  # unsaved writes by (stream, seq)
        if new_events:
            staged = self._cache.stage(new_events)
            try:
                await self._store.append(new_events, staged.summaries, staged.snapshots)
            except StaleAppend as exc:
                self._roll_back(new_events, before)
                self._triage_seq = triage_seq
                raise _Stale(exc.incidents) from None
            except Exception as exc:  # not committed: memory goes back to what is on disk
                refusal = _refusal_of_commit(exc)
                self._roll_back(new_events, before)
                refused.update({(e.incident_id, e.seq): refusal for e in new_events})
                for server_write, _ in server_writes:
                    server_write.done.set_exception(refusal)
                server_writes = []
                new_events = []
            else:
                self._cache.committed(staged)
        if triage:
            refused.update(await self._commit_triage_refusing_conflicts(triage))
        for reply in decided:
            reply()
        self._publish(new_events)
        for server_write, event in server_writes:
            server_write.done.set_result(event.seq)
        for w in writes:
            if w.duplicate and w.stream == TRIAGE_LOG:
                # A retry in the same turn as its original: the seq the store gave the original.
                w.seq = self._commands.get((w.conn.user, w.frame_id), (TRIAGE_LOG, w.seq))[1]
            # A retry of a write from this very turn was not saved either.
            refusal_of_w = refused.get((w.stream, w.seq))
            w.conn.send(
                self._ack(w) if refusal_of_w is None else error_frame(w.frame_id, refusal_of_w)
            )
        self._answer_reads(reads)
        if new_events:
            for observer in self._observers:
                try:
                    observer(new_events)
                except Exception:  # an integration's bug must never stop the war room
                    log.exception("observer %r failed", observer)

    async def _check_refusals_are_current(
        self, incidents: set[int], before: dict[int, int], new_events: list[Event]
    ) -> None:
        """A refusal must hold against the latest state, not this node's copy of it: if another
        node committed to a refused write's incident, undo the turn and have it decided again.

        Raises:
            _Stale: some of `incidents` moved on; memory is back to what it was.
            StoreError: the store could not be read; memory is back to what it was.
        """
        assert self._shared is not None
        try:
            latest = await self._shared.last_seqs(incidents)
        except StoreError:
            self._roll_back(new_events, before)
            raise
        behind = [i for i, seq in latest.items() if seq > before.get(i, 0)]
        if behind:
            self._roll_back(new_events, before)
            raise _Stale(sorted(behind))

    async def _commit_triage_refusing_conflicts(
        self, writes: list[_Write]
    ) -> dict[tuple[int, int], DomainError]:
        """Commit the turn's triage writes; those whose item another node decided first are
        refused as conflicts (the item as stored is kept) and the others committed without
        them. Returns the refused writes by (stream, seq)."""
        refused: dict[tuple[int, int], DomainError] = {}
        try:
            await self._commit_triage(writes)
        except TriageDecided as exc:
            if self._triage is not None:
                self._triage.decided(exc.items)
            first = {item.id: item for item in exc.items}
            rest = []
            for n, w in enumerate(writes, start=1):
                item = first.get(w.item.id) if w.item is not None else None
                if item is None:
                    rest.append(w)
                    continue
                # Not in the log: a key of its own among the refusals, which the others'
                # seqs (renumbered by the store) cannot take.
                w.seq = -n
                refused[(TRIAGE_LOG, w.seq)] = DomainError(
                    ErrorCode.CONFLICT,
                    f"triage item {item.id} was already {item.status.value}",
                    current=item.status.value,
                )
            if rest:
                refused.update(await self._commit_triage_refusing_conflicts(rest))
        except Exception as exc:
            refusal = _refusal_of_commit(exc)
            refused.update({(TRIAGE_LOG, w.seq): refusal for w in writes})
        return refused

    async def _commit_triage(self, writes: list[_Write]) -> None:
        """Commit the turn's triage log records with the items they change, then hand the items
        to the triage desk; on failure, forget the records as if never decided."""
        records = [w.record for w in writes if w.record is not None]
        items = [w.item for w in writes if w.item is not None]
        try:
            if self._shared is None:
                await self._store.append_triage(records, items)
            else:
                # Other nodes number their dismissals too: the store numbers ours after theirs.
                committed = await self._shared.append_triage_numbered(records, items)
                for write, record in zip(writes, committed, strict=True):
                    write.seq = record.seq
                    self._commands[(record.actor, record.command_id)] = (TRIAGE_LOG, record.seq)
                self._triage_seq = committed[-1].seq
        except Exception:
            for record in records:
                self._commands.pop((record.actor, record.command_id), None)
            self._triage_seq = records[0].seq - 1
            raise
        if self._triage is not None:
            self._triage.decided(items)

    def _decide(self, conn: Connection, frame: ClientFrame) -> _Write:
        assert isinstance(frame, _WRITES)
        if conn.revoked or conn.user not in self._auth.user_names:
            # Checked again here, not only on arrival: a write queued before the revocation was
            # noticed must not be committed after it.
            raise DomainError(ErrorCode.FORBIDDEN, f"user {conn.user} was revoked")
        now = self._clock()
        known = self._commands.get((conn.user, frame.id))
        if known is not None:
            # Also a retry that arrives in the same turn as the original, before its commit.
            return _Write(conn, frame.id, *known, duplicate=True)
        if isinstance(frame, DismissTriage):
            return self._decide_dismissal(conn, frame, now)
        # Deciding only reads; nothing in memory changes until the event is applied, and a failed
        # apply puts the incident back as it was (`_apply`).
        if isinstance(frame, DeclareIncident):
            incident_id = max(max(self._incidents, default=0), self._cache.last_id) + 1
            declared = decide_declaration(frame, now, self._claim(frame.triage_id))
            event = Event(
                incident_id=incident_id,
                seq=1,
                at=now,
                actor=conn.user,
                command_id=frame.id,
                body=declared,
            )
            self._incidents[incident_id] = _Incident(state=start_state(event))
            self._turn_events[incident_id] = [event]
            if frame.triage_id is not None:
                self._turn_triage.add(frame.triage_id)
        else:
            record = self._incidents.get(frame.incident_id)
            if record is None:
                raise DomainError(ErrorCode.UNKNOWN_INCIDENT, f"no incident {frame.incident_id}")
            metrics, no_metrics = self._metrics_for(frame)
            body = decide(
                record.state,
                frame,
                conn.user,
                self._auth.user_names,
                metrics,
                now=now,
                no_metrics=no_metrics,
            )
            event = Event(
                incident_id=frame.incident_id,
                seq=record.state.seq + 1,
                at=now,
                actor=conn.user,
                command_id=frame.id,
                body=body,
            )
            self._apply(record, event)
        self._commands[(conn.user, frame.id)] = (event.incident_id, event.seq)
        return _Write(conn, frame.id, event.incident_id, event.seq, duplicate=False, event=event)

    def _metrics_for(self, frame: IncidentCommand) -> tuple[MetricsSnapshot | None, str]:
        if not isinstance(frame, PinMetrics) or self._metrics is None:
            return None, NO_SNAPSHOT
        snapshot = self._metrics.latest_snapshot(frame.incident_id)
        return snapshot, NO_SNAPSHOT if snapshot else self._metrics.why_none(frame.incident_id)

    def _decide_dismissal(self, conn: Connection, frame: DismissTriage, now: datetime) -> _Write:
        if self._triage is None:
            raise DomainError(ErrorCode.UNKNOWN_ENTRY, "this server has no alert triage")
        if frame.triage_id in self._turn_triage:
            raise DomainError(ErrorCode.CONFLICT, f"triage item {frame.triage_id} is being decided")
        item = self._triage.item(frame.triage_id)
        body = decide_dismissal(item, frame)
        assert item is not None  # decide_dismissal refuses a missing item
        record = TriageRecord(
            seq=self._triage_seq + 1, at=now, actor=conn.user, command_id=frame.id, body=body
        )
        dismissed = apply_triage_record(item, record)
        # Only now, with nothing left that can fail, does the sequencer remember the decision.
        self._triage_seq = record.seq
        self._turn_triage.add(frame.triage_id)
        self._commands[(conn.user, frame.id)] = (TRIAGE_LOG, record.seq)
        return _Write(
            conn, frame.id, TRIAGE_LOG, record.seq, duplicate=False, record=record, item=dismissed
        )

    def _claim(self, triage_id: int | None) -> Detection | None:
        if triage_id is None:
            return None
        if self._triage is None:
            raise DomainError(ErrorCode.UNKNOWN_ENTRY, "this server has no alert triage")
        if triage_id in self._turn_triage:
            raise DomainError(ErrorCode.CONFLICT, f"triage item {triage_id} is being declared")
        return self._triage.claim(triage_id)

    def _decide_server_write(self, request: _ServerWrite) -> Event:
        record = self._incidents.get(request.incident_id)
        if record is None:
            raise DomainError(ErrorCode.UNKNOWN_INCIDENT, f"no incident {request.incident_id}")
        event = Event(
            incident_id=request.incident_id,
            seq=record.state.seq + 1,
            at=self._clock(),
            actor=request.actor,
            command_id=request.command_id,
            body=request.body,
        )
        try:
            self._apply(record, event)
        except ProjectionError as exc:
            raise DomainError(ErrorCode.INVALID, str(exc)) from None
        if request.command_id is not None:
            self._commands[(request.actor, request.command_id)] = (event.incident_id, event.seq)
        return event

    def _apply(self, record: _Incident, event: Event) -> None:
        """Apply a decided event to the incident in memory, so later requests of the turn see it.

        If applying fails, for whatever reason, the incident is rebuilt from its committed log
        and the turn's earlier events before the failure goes on: a refused write leaves no
        trace, not even half of one.
        """
        try:
            apply_event(record.state, event)
        except BaseException:
            record.state = replay(
                [Event.model_validate_json(f) for f in record.frames]
                + self._turn_events.get(event.incident_id, [])
            )
            raise
        self._turn_events.setdefault(event.incident_id, []).append(event)

    def _names_unknown_user(self, frame: ClientFrame) -> bool:
        names = self._auth.user_names
        if isinstance(frame, AssignRole):
            return frame.user not in names
        if isinstance(frame, SetItemOwner):
            return frame.owner is not None and frame.owner not in names
        return False

    def _roll_back(self, events: list[Event], before: dict[int, int]) -> None:
        """Undo a turn whose commit failed: memory goes back to exactly what is on disk."""
        for event in events:
            self._commands.pop((event.actor, event.command_id or ""), None)
        for incident_id in {e.incident_id for e in events}:
            if incident_id not in before:
                del self._incidents[incident_id]
                continue
            record = self._incidents[incident_id]
            record.state = replay([Event.model_validate_json(f) for f in record.frames])

    def _publish(self, events: list[Event]) -> None:
        """Record committed events and send each incident's batch to its followers once."""
        batches: dict[int, list[str]] = {}
        for event in events:
            data = event.model_dump_json()
            self._incidents[event.incident_id].frames.append(data)
            batches.setdefault(event.incident_id, []).append(data)
        for incident_id, frames in batches.items():
            record = self._incidents[incident_id]
            message = wire_frame(events_frame(None, incident_id, frames))
            for conn in list(record.subscribers):
                conn.send(message)

    def _ack(self, write: _Write) -> str:
        return Ack(
            id=write.frame_id, incident_id=write.stream, seq=write.seq, duplicate=write.duplicate
        ).model_dump_json()

    def _follow_refusal(
        self, request: _Request, leaving: int = 0, user_leaving: int = 0
    ) -> DomainError | None:
        """Why the request may not subscribe its connection to one incident more, if it may
        not: past what one connection, or its user over all their connections, may follow
        (resubscribing to one it follows is not one more), even once `leaving` of the
        connection's follows (`user_leaving` of the user's) are unsubscribed."""
        frame, conn = request.frame, request.conn
        if not isinstance(frame, Subscribe) or frame.incident_id in conn.subscriptions:
            return None
        if len(conn.subscriptions) - leaving >= self._follows_per_connection:
            most = self._follows_per_connection
            return DomainError(
                ErrorCode.TOO_LARGE,
                f"a connection follows at most {most} incidents at once; unsubscribe from one "
                "first",
            )
        if self._follows_by_user.get(conn.user, 0) - user_leaving >= self._follows_per_user:
            most = self._follows_per_user
            return DomainError(
                ErrorCode.TOO_LARGE,
                f"a user follows at most {most} incidents at once over all their connections; "
                "unsubscribe from one first",
            )
        return None

    def _answer_reads(self, reads: list[_Request]) -> None:
        for request in reads:
            try:
                self._answer_read(request)
            except Exception:  # a feature's bug answers this read only, not the turn's writes
                log.exception("unexpected failure answering %s", request.frame.type)
                request.conn.send(error_frame(getattr(request.frame, "id", None), _INTERNAL))

    def _answer_read(self, request: _Request) -> None:
        conn, frame = request.conn, request.frame
        if conn.closed:
            return
        handler = self._readers.get(type(frame))
        if handler is not None:
            handler(conn, frame)
            return
        if not isinstance(frame, _READS):
            missing = DomainError(
                ErrorCode.UNKNOWN_TYPE, f"this server does not offer {frame.type}"
            )
            conn.send(error_frame(frame.id, missing))
            return
        if isinstance(frame, ListIncidents):
            summaries = self._cache.summary_list()
            conn.send(IncidentList(id=frame.id, incidents=summaries).model_dump_json())
            return
        assert isinstance(frame, Subscribe | Unsubscribe | ReadLog)
        too_many = self._follow_refusal(request)
        if too_many is not None:
            conn.send(error_frame(frame.id, too_many))
            return
        record = self._incidents.get(frame.incident_id)
        if record is None:
            error = DomainError(ErrorCode.UNKNOWN_INCIDENT, f"no incident {frame.incident_id}")
            conn.send(error_frame(frame.id, error))
            return
        if isinstance(frame, ReadLog):
            conn.send(_log_page(frame, record.frames))
            return
        if isinstance(frame, Unsubscribe):
            record.subscribers.pop(conn, None)
            if frame.incident_id in conn.subscriptions:
                conn.subscriptions.discard(frame.incident_id)
                self._count_follows(conn.user, -1)
            conn.send(Unsubscribed(id=frame.id, incident_id=frame.incident_id).model_dump_json())
            self._presence.changed(frame.incident_id)
            return
        replies = catch_up_frames(
            frame.id,
            frame.incident_id,
            frame.since,
            record,
            compact=frame.compact,
            compact_snapshot=frame.compact_snapshot,
            columnar_snapshot=frame.columnar_snapshot,
            columnar_events=frame.columnar_events,
            packed_snapshot=frame.packed_snapshot,
        )
        for reply in replies:
            conn.send(reply)
        record.subscribers[conn] = None
        if frame.incident_id not in conn.subscriptions:
            conn.subscriptions.add(frame.incident_id)
            self._count_follows(conn.user, 1)
        self._presence.changed(frame.incident_id)
        for hook in self._subscribe_hooks:
            hook(conn, frame.incident_id)


_FRAME_HEAD = re.compile(r'\{"incident_id":(\d+),"seq":(\d+),')
"""How the store writes an event's JSON (`PostgresStore.events_json`): its seq, without parsing."""


def _seq_of(frame: str, incident_id: int | None = None) -> int:
    """The frame's seq; -1 if it is not an event's (of `incident_id`, when given)."""
    head = _FRAME_HEAD.match(frame)
    if head is None or (incident_id is not None and int(head[1]) != incident_id):
        return -1
    return int(head[2])


_FRAME_KIND = re.compile(r'"body":\{"type":"([a-z_]{1,40})"')
"""Where an event's JSON names its body's kind: its first `"body":` (inside a JSON string every
quote is escaped, so the actor or command id cannot hold one), whose first field is `type`."""


def _kind_of(frame: str) -> str | None:
    """The kind (body `type`) of an event's JSON; None if it cannot be told without parsing."""
    kind = _FRAME_KIND.search(frame)
    return None if kind is None else kind[1]


def _following_on(incident_id: int, after: int, frames: Collection[str]) -> list[str]:
    """The carried frames that continue the incident's log ending at `after`, up to the first
    gap."""
    run: list[str] = []
    for frame in frames:
        seq = _seq_of(frame, incident_id)
        if seq == after + len(run) + 1:
            run.append(frame)
        elif seq > after + len(run):
            break  # a gap: the store fills it in (frames not ours, at -1, are skipped)
    return run


def _written_incidents(batch: list[_Request | _ServerWrite]) -> set[int]:
    """The existing incidents a batch writes to (declarations name none yet)."""
    written: set[int] = set()
    for request in batch:
        if isinstance(request, _ServerWrite):
            written.add(request.incident_id)
        elif isinstance(request.frame, get_args(IncidentCommand)):
            written.add(request.frame.incident_id)
    return written


def _command_keys(batch: list[_Request | _ServerWrite]) -> set[CommandKey]:
    """The command keys of a batch's writes, whose earlier commits the turn looks up."""
    keys: set[CommandKey] = set()
    for request in batch:
        if isinstance(request, _ServerWrite):
            if request.command_id is not None:
                keys.add((request.actor, request.command_id))
        elif isinstance(request.frame, _WRITES):
            keys.add((request.conn.user, request.frame.id))
    return keys


def _writes_only(request: _Request | _ServerWrite, incidents: set[int]) -> bool:
    """Whether the request is a write to one of `incidents` that decides no triage item."""
    if isinstance(request, _ServerWrite):
        return request.incident_id in incidents
    frame = request.frame
    return isinstance(frame, get_args(IncidentCommand)) and frame.incident_id in incidents


def _decides_triage(request: _Request | _ServerWrite) -> bool:
    frame = request.frame if isinstance(request, _Request) else None
    return isinstance(frame, DismissTriage) or (
        isinstance(frame, DeclareIncident) and frame.triage_id is not None
    )


def _refusal_of_commit(exc: Exception) -> DomainError:
    """The error a writer gets when the commit failed; the cause is logged, not sent."""
    if isinstance(exc, StoreError):
        log.error("write refused: %s", exc)
        return _NOT_SAVED
    log.error("unexpected failure while committing", exc_info=exc)
    return _INTERNAL


def _log_page(frame: ReadLog, frames: list[str]) -> str:
    """One page of the log: the events after `frame.after`, as many as fit in
    `READ_LOG_PAGE_BYTES` (at least one), so no reply is ever a copy of a whole large log."""
    start = end = min(frame.after, len(frames))
    size = 0
    while end < len(frames) and (end == start or size + len(frames[end]) <= READ_LOG_PAGE_BYTES):
        size += len(frames[end]) + 1  # and its comma
        end += 1
    page = events_frame(frame.id, frame.incident_id, frames[start:end])
    # The events frame ends with its closing brace; `more` goes just before it.
    return f'{page[:-1]},"more":{"true" if end < len(frames) else "false"}}}'
