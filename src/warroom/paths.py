"""Where warroom keeps its files: the default database, the local token, outboxes, user themes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import platformdirs

DEFAULT_SERVER = "ws://127.0.0.1:8765"


def data_dir() -> Path:
    """`$WARROOM_HOME` if set (tests and portable installs), else the platform's user data dir."""
    home = os.environ.get("WARROOM_HOME")
    return Path(home) if home else platformdirs.user_data_path("warroom", appauthor=False)


def config_dir() -> Path:
    home = os.environ.get("WARROOM_HOME")
    return Path(home) if home else platformdirs.user_config_path("warroom", appauthor=False)


def default_db() -> Path:
    return data_dir() / "warroom.db"


def local_token_file() -> Path:
    """The token of the local user that the embedded server creates on first start."""
    return data_dir() / "local-token"


def outbox_file(server_url: str, token: str) -> Path:
    """One outbox per server and identity, so writes are resent to where they were meant."""
    key = hashlib.sha256(f"{server_url}\0{token}".encode()).hexdigest()[:16]
    return data_dir() / "outbox" / f"{key}.jsonl"
