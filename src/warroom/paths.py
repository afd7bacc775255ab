"""Where warroom keeps its files: the default database, the local token, outboxes, user themes.

The process-wide environment settings (`WARROOM_HOME`, `WARROOM_THEMES_DIR`, `WARROOM_TOKEN`)
are read here, through the same settings machinery as the config files (`warroom.settings`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import platformdirs

from warroom.settings import WarroomSettings, load_settings

DEFAULT_SERVER = "ws://127.0.0.1:8765"


class EnvironmentSettings(WarroomSettings):
    """Settings only the environment gives: they choose where files are, or are secrets."""

    home: Path | None = None
    """`WARROOM_HOME`: data and config in this one folder (tests and portable installs)."""
    themes_dir: Path | None = None
    """`WARROOM_THEMES_DIR`: a team's shared theme folder, searched after the user's own."""
    token: str | None = None
    """`WARROOM_TOKEN`: the token for scripts; people use a token file (see README)."""


def environment() -> EnvironmentSettings:
    """The `WARROOM_*` environment as it is now (read on every call: tests change it)."""
    return load_settings(EnvironmentSettings, None)


def data_dir() -> Path:
    """`$WARROOM_HOME` if set, else the platform's user data dir."""
    home = environment().home
    return home if home is not None else platformdirs.user_data_path("warroom", appauthor=False)


def config_dir() -> Path:
    """`$WARROOM_HOME` if set, else the platform's user config dir."""
    home = environment().home
    return home if home is not None else platformdirs.user_config_path("warroom", appauthor=False)


def default_db() -> Path:
    return data_dir() / "warroom.db"


def local_token_file() -> Path:
    """The token of the local user that the embedded server creates on first start."""
    return data_dir() / "local-token"


def outbox_file(server_url: str, token: str) -> Path:
    """One outbox per server and identity, so writes are resent to where they were meant."""
    key = hashlib.sha256(f"{server_url}\0{token}".encode()).hexdigest()[:16]
    return data_dir() / "outbox" / f"{key}.jsonl"
