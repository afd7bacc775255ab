"""The bare local mode, and which server a console or CLI command talks to.

A server the user names (`--server`, `WARROOM_SERVER`, console.toml) is the only server used:
when it cannot be reached the console says so and keeps retrying, it never starts one of its own,
because a private server during an outage is a split war room.

Without a named server, `warroom` on a fresh machine must just work: it connects to this user's
local server on a Unix socket in a private (0700) directory, or runs one in this process on the
default SQLite file, creating the local user and keeping their token in the data dir (readable by
the owner only). The socket is reachable by its owner alone, so no other user on the host can
receive the local token or pose as the server, as they could on a fixed TCP port.

The console that started the local server is not its only user: every other console the user
opens connects to it. Quitting that first console therefore does not stop the server under the
others (as `tmux` keeps its server while clients are attached): the process stays, says so on
its terminal, and stops the server when the last of them has left, or at Ctrl+C.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import getpass
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from warroom.client.session import ClientError
from warroom.node import WarroomNode, start_node
from warroom.paths import local_socket, local_token_file, private_dir
from warroom.protocol.endpoint import BadServerAddress, server_addresses, unix_socket_of, unix_url
from warroom.server.app import ServerSettings
from warroom.store.base import StoreError
from warroom.users import create_user


@dataclass(frozen=True)
class ServerChoice:
    """The server to talk to, and whether the user named it."""

    url: str
    named: bool
    """True when it came from the flag, the environment or console.toml: then only that server
    is ever used. False for this user's private local server."""


def choose_server(flag: str | None, configured: str | None) -> ServerChoice:
    """The command line wins, then `WARROOM_SERVER` or console.toml (`configured`), then the
    private local server. A named server may be several, comma-separated: the client fails over.

    Raises:
        ClientError: one line naming the address that is not valid.
    """
    named = flag or configured
    if named:
        try:
            addresses = server_addresses(named)
        except BadServerAddress as exc:
            source = "--server" if flag else "the server setting"
            raise ClientError(f"{source}: {exc}") from None
        return ServerChoice(",".join(addresses), named=True)
    return ServerChoice(unix_url(local_socket()), named=False)


def health_url(server_url: str) -> str:
    if unix_socket_of(server_url) is not None:
        return "http://localhost/healthz"
    parts = urlsplit(server_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return f"{scheme}://{parts.netloc}/healthz"


async def any_server_answers(server_urls: str, patience: float = 1.0) -> bool:
    """True if one of the comma-separated servers answers its health check."""
    for url in server_addresses(server_urls):
        if await server_answers(url, patience):
            return True
    return False


async def server_answers(server_url: str, patience: float = 1.0) -> bool:
    """True if a warroom server answers its health check at `server_url` (a URL or `unix:`)."""
    socket = unix_socket_of(server_url)
    transport = httpx.AsyncHTTPTransport(uds=str(socket)) if socket is not None else None
    try:
        async with httpx.AsyncClient(timeout=patience, transport=transport) as http:
            response = await http.get(health_url(server_url))
    except httpx.HTTPError:
        return False
    return response.status_code == 200


@contextlib.asynccontextmanager
async def _socket_lock(directory: Path) -> AsyncIterator[None]:
    """Held while one console looks for the local server and starts it, so two consoles started
    together do not both start one (the second would take over the first one's socket)."""
    fd = os.open(directory / "lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


async def local_server(db: Path) -> tuple[str, WarroomNode | None]:
    """This user's local server: the address of the one already running, or of one started now
    in this process on `db` (returned, for the caller to close).

    Raises:
        ConfigError: the socket's directory is not private to this user.
        StoreError: the database cannot be opened.
    """
    socket = local_socket()
    directory = private_dir(socket.parent)
    url = unix_url(socket)
    async with _socket_lock(directory):
        if await server_answers(url):
            return url, None
        # Nobody answers: a socket file left there is stale (a console that crashed).
        node = await start_node(db, ServerSettings(unix_socket=socket))
        return url, node


OWN_CONNECTION_PATIENCE = 2.0
"""Seconds to let the quitting console's own connection end on the server before any connection
still open is taken for another console's. Its close is seen in a few milliseconds (the server
runs in this process); the patience only bounds a wait that should end long before it."""


def other_consoles_words(count: int) -> str:
    return "1 other console uses" if count == 1 else f"{count} other consoles use"


class SharedLocalServer:
    """The local server started in this process, which the user's other consoles use too."""

    def __init__(self, node: WarroomNode) -> None:
        self.node = node
        self._open_with_own: int | None = None
        """Connections open just before this console closed its own; None until then."""

    def own_console_closing(self) -> None:
        """Count the connections while this process's console still holds one: once the count
        falls below that, its own has ended and whoever is left is another console."""
        self._open_with_own = self.node.server.connections

    async def close_when_unused(self, say: Callable[[str], None] | None = None) -> None:
        """Close the server once no console is connected to it any more.

        Called after this process's own console has quit and closed its connection: while
        other consoles still use the server, `say` tells the user at once why the process has
        not ended (on stderr, the terminal the console was drawn on) and how to stop it now.
        """
        say = say or _to_stderr
        server = self.node.server
        # Waiting for no connection at all, as before, waited the whole patience whenever
        # another console was connected: the terminal stayed blank for two seconds.
        own_gone = 0 if self._open_with_own is None else max(self._open_with_own - 1, 0)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(OWN_CONNECTION_PATIENCE):
                    await server.until_connections_at_most(own_gone)
            if server.connections:
                # Two short lines: one long one wraps mid-word at 80 columns.
                say(f"warroom: {other_consoles_words(server.connections)} the local server "
                    "started here.")  # fmt: skip
                say("warroom: it keeps serving until they quit; Ctrl+C stops it now.")
                await server.until_connections_at_most(0)
                say("warroom: the last console left; the local server stopped.")
        finally:
            await self.node.close()


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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
