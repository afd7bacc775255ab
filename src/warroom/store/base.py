"""The narrow storage interface the server depends on; nothing above it knows it is SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from warroom.domain.events import Event
from warroom.domain.triage import TriageItem
from warroom.domain.triage_log import TriageRecord


class StoreError(Exception):
    """The store cannot do what was asked (disk full, file locked or read-only, corrupt file).

    The message is meant for a person: it says what is wrong and where.
    """


class User(BaseModel):
    """A person who can connect. Only a hash of their token is ever stored."""

    name: str
    token_hash: str
    created_at: datetime


class EventStore(Protocol):
    """An append-only, durable event log per incident, plus the user table."""

    async def close(self) -> None: ...

    async def load_events(self) -> list[Event]:
        """Every event of every incident, ordered by incident then sequence."""
        ...

    async def append(self, events: Sequence[Event]) -> None:
        """Commit `events` in one durable transaction: all of them or none.

        Raises:
            StoreError: nothing was written.
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

    async def save_triage(self, item: TriageItem) -> None:
        """Insert or replace one triage item."""
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
