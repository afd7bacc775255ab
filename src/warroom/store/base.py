"""The narrow storage interface the server depends on; nothing above it knows it is SQLite."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol, runtime_checkable

from pydantic import BaseModel

from warroom.domain.events import Event
from warroom.domain.incident import IncidentState, IncidentSummary
from warroom.domain.projection import PROJECTION_VERSION
from warroom.domain.triage import TriageItem
from warroom.domain.triage_log import TriageRecord


class StoreError(Exception):
    """The store cannot do what was asked (disk full, file locked or read-only, corrupt file).

    The message is meant for a person: it says what is wrong and where.
    """


class StaleAppend(StoreError):
    """An append was decided against an out-of-date copy of its incidents: another node of a
    shared database committed to them first (or already committed one of the command ids).
    Nothing was written; the writer catches up on `incidents` and decides again.

    Only a store shared by several nodes raises it; a single-node store is never stale.
    """

    def __init__(self, where: str, incidents: Collection[int]) -> None:
        self.incidents = sorted(incidents)
        """The incidents whose log moved on since the writer read it."""
        super().__init__(
            f"could not write to {where}: incidents {self.incidents} changed on another node"
        )


class TriageDecided(StoreError):
    """Triage items a write would decide (dismiss) were decided first by another node of a shared
    database. Nothing was written; `items` are the items as stored, with that decision."""

    def __init__(self, where: str, items: Sequence[TriageItem]) -> None:
        self.items = list(items)
        ids = [item.id for item in self.items]
        super().__init__(f"could not write to {where}: triage items {ids} were already decided")


class User(BaseModel):
    """A person who can connect. Only a hash of their token is ever stored."""

    name: str
    token_hash: str
    created_at: datetime


def _state_version() -> str:
    schema = json.dumps(IncidentState.model_json_schema(), sort_keys=True)
    return f"{PROJECTION_VERSION}-{hashlib.sha256(schema.encode()).hexdigest()[:16]}"


STATE_VERSION: Final[str] = _state_version()
"""Which domain made a snapshot: the projection's version and a hash of the state's schema. A
snapshot of another version is ignored and the incident is rebuilt from its events, so a change
of the model never serves a state the new code would not have built."""


@dataclass(frozen=True)
class StoredSnapshot:
    """An incident's state as JSON after event `seq`, written by this version of the domain."""

    incident_id: int
    seq: int
    state_json: str


CommandKey = tuple[str, str]
"""(actor, command id): what makes a write idempotent."""


class EventStore(Protocol):
    """An append-only, durable event log per incident with a summary and a snapshot of each
    incident beside it, plus the user table and the triage log.

    Everything the sequencer needs to hold only the live incidents in memory is here: the list
    of summaries, one incident's snapshot and events, and the command-id lookup for retries of
    writes to incidents that are not in memory.
    """

    async def close(self) -> None: ...

    async def append(
        self,
        events: Sequence[Event],
        summaries: Sequence[IncidentSummary] = (),
        snapshots: Sequence[StoredSnapshot] = (),
    ) -> None:
        """Commit `events` with the summaries and snapshots of the incidents they changed in one
        durable transaction: all of them or none. A summary or snapshot replaces the previous one
        of its incident. For an incident of `events` whose summary is not given, the store
        derives it (and a snapshot) from the log itself: slower, for tools that write events
        alone; the sequencer always hands them in.

        Raises:
            StoreError: nothing was written.
        """
        ...

    async def incident_summaries(self) -> list[IncidentSummary]:
        """Every incident's line in the list, in id order (archived ones too)."""
        ...

    async def load_snapshot(self, incident_id: int) -> StoredSnapshot | None:
        """The incident's latest snapshot if this version of the domain wrote it, else None."""
        ...

    async def events_json(self, incident_id: int, after: int = 0) -> list[str]:
        """The incident's events with seq > `after` as `Event` JSON, in seq order, archived ones
        included."""
        ...

    async def find_commands(
        self, keys: Collection[CommandKey]
    ) -> dict[CommandKey, tuple[int, int]]:
        """Which of these (actor, command id) pairs were committed, as (stream, seq): the
        incident id and event seq, or `TRIAGE_LOG` and the triage log record's seq."""
        ...

    async def archive(self, before: datetime) -> list[int]:
        """Move the events of incidents whose post-mortem is done and that were resolved before
        `before` out of the live log into the archive; they stay readable. Returns their ids.

        Raises:
            StoreError: nothing was moved.
        """
        ...

    async def add_user(self, user: User) -> None:
        """Add a user. Raises StoreError if the name is taken."""
        ...

    async def remove_user(self, name: str) -> bool: ...

    async def users(self) -> list[User]: ...

    async def users_version(self) -> int:
        """A number that changes whenever the user table may have changed, also when another
        process changed it (`warroom user revoke`). Cheap: the server asks every second."""
        ...

    def data_version_now(self) -> int | None:
        """A number that changes whenever anything at all is committed to the store (by this
        process or another), read at once without waiting for a thread or a round trip: the
        same number twice means nothing was committed in between, so the user table did not
        change either. None when the store cannot tell so (PostgreSQL), or not right now."""
        ...

    async def save_triage(self, item: TriageItem) -> None:
        """Insert or replace one triage item."""
        ...

    async def open_triage(self, item: TriageItem, after: int) -> TriageItem:
        """Save a new item and return it as stored. One process numbers its own items, so
        SQLite saves it as given. A shared store numbers it after every item in the database,
        whichever node opened them, unless another node opened an item with the same
        `group_key` after item `after` (the newest this node knows for that key; 0 for none):
        then nothing is written and that item is returned.

        Raises:
            StoreError: nothing was written.
        """
        ...

    async def load_triage(self) -> list[TriageItem]: ...

    async def append_triage(
        self, records: Sequence[TriageRecord], items: Sequence[TriageItem]
    ) -> None:
        """Commit triage log records and the items they changed in one transaction.

        Raises:
            StoreError: nothing was written.
        """
        ...

    async def load_triage_log(self) -> list[TriageRecord]:
        """The whole triage log, oldest first."""
        ...


@runtime_checkable
class SharedEventStore(EventStore, Protocol):
    """An event store several nodes write to at once (PostgreSQL). Its `append` refuses a batch
    decided against an out-of-date incident with `StaleAppend`."""

    async def last_seqs(self, incident_ids: Collection[int]) -> dict[int, int]:
        """The last committed seq of each of these incidents that has events.

        Raises:
            StoreError: the store cannot be read.
        """
        ...

    async def summaries_changed(
        self, incident_ids: Collection[int], after_id: int
    ) -> list[IncidentSummary]:
        """The summaries of these incidents and of every incident with an id above `after_id`,
        in id order.

        Raises:
            StoreError: the store cannot be read.
        """
        ...

    async def append_triage_numbered(
        self, records: Sequence[TriageRecord], items: Sequence[TriageItem]
    ) -> list[TriageRecord]:
        """`append_triage`, numbering the records after the last one any node committed (their
        own seqs are this node's guess); returns them as committed.

        Raises:
            TriageDecided: some of `items` were decided by another node since this one read
                them; nothing was written.
            StoreError: nothing was written.
        """
        ...

    async def triage_changed(self, after: int) -> tuple[int, list[TriageItem]]:
        """The triage items any node wrote since change number `after` (-1: all of them, also
        those written before items had change numbers), in id order, and the change number to
        ask after next time.

        Raises:
            StoreError: the store cannot be read.
        """
        ...

    def holding(
        self,
        incident_ids: Collection[int],
        after: Mapping[int, int] | None = None,
        commands: Collection[CommandKey] = (),
    ) -> AbstractAsyncContextManager[HeldRead]:
        """Hold these incidents' write locks until the block's first `append` of events
        commits (or the block ends); the block's reads see the latest commits. Once the locks
        are granted, and in the same round trip, read the events committed after `after`'s
        seq of each incident it names and which of `commands` were committed (`HeldRead`).

        Raises:
            StoreError: the store cannot be reached.
        """
        ...


@dataclass(frozen=True)
class HeldRead:
    """What `SharedEventStore.holding` read once it held the locks: the latest, since nobody
    else can commit to those incidents until the block commits."""

    read: frozenset[int]
    """The incidents whose events were read (those `after` named)."""
    events: dict[int, list[str]]
    """Incident id -> its events (as `Event` JSON, in seq order) after the seq asked for; an
    incident with none is left out."""
    commands: dict[CommandKey, tuple[int, int]]
    """The command keys asked for that were committed, as `find_commands` answers."""
    looked_up: frozenset[CommandKey]
    """The command keys asked for (found or not)."""


NOTHING_READ: Final = HeldRead(frozenset(), {}, {}, frozenset())
