"""The embedded default: find a server at the configured address, or run one in this process.

`warroom` on a fresh machine must just work: when nothing answers on the default loopback
address, the console starts a server on the default SQLite file, creates the local user and keeps
their token in the data dir (readable by the owner only).
"""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from warroom.node import WarroomNode, start_node
from warroom.paths import local_token_file
from warroom.server.app import ServerSettings
from warroom.store.base import StoreError
from warroom.users import create_user

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def health_url(server_url: str) -> str:
    parts = urlsplit(server_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return f"{scheme}://{parts.netloc}/healthz"


async def server_answers(server_url: str, patience: float = 1.0) -> bool:
    """True if a warroom server answers its health check at `server_url`."""
    try:
        async with httpx.AsyncClient(timeout=patience) as http:
            response = await http.get(health_url(server_url))
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def is_local(server_url: str) -> bool:
    """Only a loopback address may be served in-process; a remote one is someone else's."""
    return urlsplit(server_url).hostname in _LOOPBACK


async def start_embedded(server_url: str, db: Path) -> WarroomNode:
    """Serve `db` in this process on the host and port of `server_url`."""
    parts = urlsplit(server_url)
    settings = ServerSettings(host=parts.hostname or "127.0.0.1", port=parts.port or 8765)
    return await start_node(db, settings)


def local_user_name() -> str:
    """The login name, made into a valid warroom user name."""
    try:
        raw = getpass.getuser()
    except (KeyError, OSError):
        raw = ""
    name = re.sub(r"[^a-z0-9._-]", "", raw.lower())[:32].lstrip("._-")
    return name if name and name != "warroom" else "me"


def saved_local_token() -> str | None:
    """The local user's token, if the embedded server has made one on this machine."""
    path = local_token_file()
    return path.read_text().strip() if path.exists() else None


async def ensure_local_token(db: Path) -> str:
    """The local user's token, creating the user on first start."""
    token_file = local_token_file()
    if token_file.exists():
        return token_file.read_text().strip()
    base = local_user_name()
    for suffix in ["", *[f"-{n}" for n in range(2, 20)]]:
        try:
            token = await create_user(db, f"{base}{suffix}")
            break
        except StoreError:
            continue  # the name is taken by someone else on this database
    else:
        raise StoreError(f"could not create a local user in {db}")
    token_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(token_file, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token
