"""Where a server is: a `ws://` or `wss://` URL, or `unix:/path` for a Unix socket.

The local mode's server listens on a Unix socket in its owner's private directory, so that no
other user on the host can receive the local token or pose as the server (`warroom.paths`).
Servers and clients name both kinds of address with one string, which also keys the outbox.
A client may be given several, comma-separated, to fail over between the nodes of one cluster.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

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


MAX_SERVER_ADDRESSES = 32
"""Addresses one `--server` value may list: far more nodes than one war room runs. A client
tries each in turn before it says the servers are away, so a pasted list of thousands would
keep that from ever being said."""


class BadServerAddress(ValueError):
    """A server address that is neither a `ws://`/`wss://` URL with a host nor `unix:PATH`."""


def server_addresses(text: str) -> list[str]:
    """The addresses in a `--server` value: one, or several separated by commas for failover
    (tried in their order, then round-robin while the connection keeps dropping).

    Raises:
        BadServerAddress: one line naming the first address that is not valid, and why.
    """
    addresses = [part.strip() for part in text.split(",")]
    if not any(addresses):
        raise BadServerAddress("no server address given")
    if len(addresses) > MAX_SERVER_ADDRESSES:
        raise BadServerAddress(
            f"{len(addresses)} server addresses given; at most {MAX_SERVER_ADDRESSES} (the nodes "
            "of one war room)"
        )
    for address in addresses:
        problem = _address_problem(address)
        if problem is not None:
            raise BadServerAddress(
                f"bad server address {_without_credentials(address)!r}: {problem}"
            )
    return addresses


def _without_credentials(address: str) -> str:
    # A password or token pasted into an address must not reach a terminal, a log or a bug
    # report through the error that refuses it.
    scheme, sep, rest = address.partition("://")
    if not sep:
        return address
    authority, slash, path = rest.partition("/")
    if "@" not in authority:
        return address
    return f"{scheme}://***@{authority.rpartition('@')[2]}{slash}{path}"


def _address_problem(address: str) -> str | None:
    if not address:
        return "empty (two commas in a row, or one at an end?)"
    if address.startswith(UNIX_SCHEME):
        if not str(unix_socket_of(address)).strip():
            return "no socket path after unix:"
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in address):
            return "contains control characters"
        return None
    try:
        parts = urlsplit(address)
        _ = parts.port  # a port that is not a number in range raises here
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("ws", "wss"):
        return "use ws://HOST:PORT, wss://HOST or unix:PATH"
    if not parts.hostname:
        return "no host"
    if "@" in parts.netloc:
        # websockets would send it as HTTP Basic credentials, in the clear on ws://, and every
        # message naming the server would print it; warroom signs in with a bearer token.
        return "credentials do not belong in a server address: pass --token-file FILE"
    if any(ch.isspace() or ord(ch) < 32 for ch in address):
        return "contains spaces or control characters"
    return None
