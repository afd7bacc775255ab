"""Opening the store a location names: a SQLite file or a PostgreSQL database, one interface."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from warroom.store.sqlite import SqliteStore
from warroom.store.url import PostgresUrl, parse_location

if TYPE_CHECKING:
    from warroom.store.postgres import PostgresStore

Store: TypeAlias = "SqliteStore | PostgresStore"
"""Either backend: both are `EventStore`s."""


async def open_store(
    location: Path | str,
    *,
    password_file: Path | None = None,
    sqlite: type[SqliteStore] = SqliteStore,
    observe_commit: Callable[[float], None] | None = None,
) -> Store:
    """Open (creating or migrating the schema if needed) the store at `location`: a `Path` is a
    SQLite file; a string is parsed by `parse_location` (`postgresql://…`, `sqlite:PATH` or a
    path).

    Args:
        password_file: holds the PostgreSQL password; SQLite has none.
        sqlite: the class a SQLite file is opened with (the node passes its timed subclass).
        observe_commit: the PostgreSQL store reports each commit's seconds to it.

    Raises:
        StoreError: the location is malformed, or the store cannot be opened.
    """
    where = location if isinstance(location, Path) else parse_location(location)
    if isinstance(where, PostgresUrl):
        # Imported here: the driver costs a third of a second at start-up, which every SQLite
        # server and CLI command would otherwise pay (and the SIGKILL rounds restart often).
        from warroom.store.postgres import PostgresStore

        return await PostgresStore.open(
            where, password_file=password_file, observe_commit=observe_commit
        )
    return await sqlite.open(where)


def describe(store: Store) -> str:
    """The store as shown to people: the SQLite file's path, or the URL without a password."""
    return str(store.path) if isinstance(store, SqliteStore) else store.where
