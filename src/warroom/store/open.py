"""Opening the store a location names: a SQLite file or a PostgreSQL database, one interface."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from warroom.store.sqlite import SqliteStore
from warroom.store.url import PostgresUrl, parse_location

if TYPE_CHECKING:
    from warroom.store.postgres import PostgresStore

Store: TypeAlias = "SqliteStore | PostgresStore"
"""Either backend: both are `EventStore`s."""


async def open_store(location: Path | str, *, password_file: Path | None = None) -> Store:
    """Open (creating or migrating the schema if needed) the store at `location`: a `Path` is a
    SQLite file; a string is parsed by `parse_location` (`postgresql://…`, `sqlite:PATH` or a
    path). `password_file` holds the PostgreSQL password; SQLite has none.

    Raises:
        StoreError: the location is malformed, or the store cannot be opened.
    """
    where = location if isinstance(location, Path) else parse_location(location)
    if isinstance(where, PostgresUrl):
        # Imported here: the driver costs a third of a second at start-up, which every SQLite
        # server and CLI command would otherwise pay (and the SIGKILL rounds restart often).
        from warroom.store.postgres import PostgresStore

        return await PostgresStore.open(where, password_file=password_file)
    return await SqliteStore.open(where)


def describe(store: Store) -> str:
    """The store as shown to people: the SQLite file's path, or the URL without a password."""
    return str(store.path) if isinstance(store, SqliteStore) else store.where
