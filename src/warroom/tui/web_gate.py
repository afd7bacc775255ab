"""Bounds on what one browser, or a crowd of sockets, may hold of `warroom web`: open connections
in all and per address, and browser sessions per address.

aiohttp closes a connection that has not finished a request within its keep-alive timeout (a
header sent a byte at a time, an upgrade never completed, an idle keep-alive), but holds any
number of them meanwhile: each costs a file descriptor, so a few thousand from one client would
leave the host none. Past `max_open` (or `max_per_address` from one address) a new connection is
closed before aiohttp reads a byte of it.

The page is meant to be served behind a TLS proxy on this host (`--host 127.0.0.1`), so every
connection may come from the loopback address: connections from it are not capped per address
(the proxy's own limits are the place for that), and a session's address is the proxy's last
`X-Forwarded-For` hop, the browser's.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from ipaddress import ip_address

MAX_OPEN = 1_024
"""Connections open at once, whoever holds them; more are closed at once."""
MAX_PER_ADDRESS = 32
"""Connections one (non-loopback) address holds at once: a browser needs one for its session
and a few for the page's files."""


def is_loopback(address: str) -> bool:
    try:
        return ip_address(address).is_loopback
    except ValueError:
        return False


def peer_of(transport: asyncio.BaseTransport) -> str:
    """The peer's IP address, "?" when the socket has none (it closed already)."""
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else "?"


def session_address(peer: str, forwarded: str | None) -> str:
    """Whose session this is: the peer, or, when the peer is a proxy on this host, the last hop
    it appended to `X-Forwarded-For` (the entries before it are the browser's own claims)."""
    if forwarded and is_loopback(peer):
        last = forwarded.rsplit(",", 1)[-1].strip()
        try:
            return str(ip_address(last))
        except ValueError:
            return peer
    return peer


class ConnectionGate:
    """Counts open connections, in all and per address, and refuses those past the bounds."""

    def __init__(self, max_open: int = MAX_OPEN, max_per_address: int = MAX_PER_ADDRESS) -> None:
        self.max_open = max_open
        self.max_per_address = max_per_address
        self._peers: dict[object, str] = {}
        """Each admitted connection's peer, by the connection's handler."""
        self._per_address: Counter[str] = Counter()
        self.refused = 0
        """Connections closed unread since the start."""

    @property
    def open(self) -> int:
        """Connections open now."""
        return len(self._peers)

    def admit(self, handler: object, transport: asyncio.Transport) -> bool:
        """Count a new connection in, or close it (False) when it is one too many."""
        peer = peer_of(transport)
        capped = not is_loopback(peer)
        if self.open >= self.max_open or (
            capped and self._per_address[peer] >= self.max_per_address
        ):
            self.refused += 1
            transport.abort()  # nothing was read: no answer owed, nothing to flush
            return False
        self._peers[handler] = peer
        self._per_address[peer] += 1
        return True

    def release(self, handler: object) -> None:
        """Count a closed connection out (once, and only if it was admitted)."""
        peer = self._peers.pop(handler, None)
        if peer is None:
            return
        self._per_address[peer] -= 1
        if self._per_address[peer] <= 0:
            del self._per_address[peer]
