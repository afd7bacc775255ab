"""Where a store lives, from what a person typed: a SQLite path or a PostgreSQL URL.

A PostgreSQL URL never carries a password: command lines are visible to every user of the host
(`ps`), and config files get copied around. The password comes from a file or the standard `PG*`
environment instead (see `PostgresStore.open`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from warroom.store.base import StoreError

POSTGRES_SCHEMES = ("postgresql", "postgres")
_NO_PASSWORD_HERE = (
    "put it in a password file (`db_password_file` in the server config, PGPASSFILE or "
    "~/.pgpass) or the PGPASSWORD variable instead"
)


@dataclass(frozen=True)
class PostgresUrl:
    """A checked `postgresql://USER@HOST:PORT/DB` URL (query options such as `host=` for a
    socket directory or `sslmode=` pass through to the driver)."""

    dsn: str
    display: str
    """The URL as shown in messages and logs (identical: it holds no secret)."""


def is_postgres(text: str) -> bool:
    return text.partition("://")[0].lower() in POSTGRES_SCHEMES


def parse_postgres_url(text: str) -> PostgresUrl:
    """Check a PostgreSQL URL.

    Raises:
        StoreError: not a postgresql:// URL, no database name, or a password in it (the message
            never repeats the URL, which would repeat the password).
    """
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  # parses the port: a bad one raises here, not in the driver
    except ValueError as exc:
        raise StoreError(f"not a usable PostgreSQL URL: {exc}") from None
    if parts.scheme.lower() not in POSTGRES_SCHEMES:
        raise StoreError("a PostgreSQL URL starts with postgresql://")
    query = dict(parse_qsl(parts.query))
    if parts.password is not None or "password" in query:
        raise StoreError(f"the database URL must not hold a password: {_NO_PASSWORD_HERE}")
    if not parts.path.strip("/"):
        raise StoreError(f"the database URL names no database: {text} (add /DBNAME)")
    return PostgresUrl(dsn=text, display=text)


def parse_location(text: str) -> Path | PostgresUrl:
    """`postgresql://…` is a PostgreSQL database; `sqlite:PATH` or a plain path is a SQLite file."""
    if is_postgres(text):
        return parse_postgres_url(text)
    if text.startswith("sqlite:"):
        text = text.removeprefix("sqlite:").removeprefix("//")
        if not text:
            raise StoreError("sqlite: needs a path, e.g. sqlite:/var/lib/warroom/warroom.db")
    return Path(text).expanduser()
