"""Where a server is: a `ws://` or `wss://` URL, or `unix:/path` for a Unix socket.

The local mode's server listens on a Unix socket in its owner's private directory, so that no
other user on the host can receive the local token or pose as the server (`warroom.paths`).
Servers and clients name both kinds of address with one string, which also keys the outbox.
"""

from __future__ import annotations

from pathlib import Path

UNIX_SCHEME = "unix:"
"""A server address that starts with this is a Unix socket's path (`unix:/run/…/warroom.sock`)."""


def unix_url(socket: Path) -> str:
    """The address of a server listening on `socket`."""
    return f"{UNIX_SCHEME}{socket}"


def unix_socket_of(url: str) -> Path | None:
    """The socket path of a `unix:` address; None for a `ws://` or `wss://` URL."""
    if not url.startswith(UNIX_SCHEME):
        return None
    return Path(url.removeprefix(UNIX_SCHEME).removeprefix("//"))
