"""People on the server: adding a user prints their token once and stores only its hash."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from warroom.domain.events import SERVER_ACTOR
from warroom.domain.limits import UserName
from warroom.server.tokens import hash_token, new_token
from warroom.store.base import StoreError, User
from warroom.store.open import open_store


async def create_user(db: Path | str, name: str, *, password_file: Path | None = None) -> str:
    """Add a user to the database at `db` (a SQLite path or a `postgresql://` URL) and return
    their token (shown once, stored hashed)."""
    try:
        TypeAdapter(UserName).validate_python(name)
        if name == SERVER_ACTOR:
            raise ValueError("reserved")
    except (ValidationError, ValueError):
        raise StoreError(
            f"invalid user name {name!r}: use 1-32 lower-case letters, digits, '.', '_' or '-' "
            f"(and not {SERVER_ACTOR!r}, which is the server's own name)"
        ) from None
    store = await open_store(db, password_file=password_file)
    try:
        token = new_token()
        await store.add_user(
            User(name=name, token_hash=hash_token(token), created_at=datetime.now(UTC))
        )
    finally:
        await store.close()
    return token


async def revoke_user(db: Path | str, name: str, *, password_file: Path | None = None) -> None:
    """Remove a user: their token is refused from the next connection on."""
    store = await open_store(db, password_file=password_file)
    try:
        if not await store.remove_user(name):
            raise StoreError(f"no user named {name}")
    finally:
        await store.close()
