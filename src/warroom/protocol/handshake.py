"""What a client's websocket handshake carries besides its bearer token, and what the server's
answer to it carries besides the upgrade."""

from __future__ import annotations

from typing import Final

CONSOLE_HEADER: Final = "X-Warroom-Console"
"""Names the console process making the handshake: a random id each process makes once, so the
server's sign-in throttle can tell apart the consoles that share an address (the browser
sessions of one `warroom web`, an office behind one NAT). It only separates failure counts and
grants nothing, so the server need not trust it."""

SUBSCRIBE_HEADER: Final = "X-Warroom-Subscribe"
"""A `subscribe` frame (its JSON text), one per header line, which the server handles as the
first frames of the connection, right after its `welcome`: the catch-up of an incident the
client knew it would follow comes one round trip sooner. Read as any frame is (strictly, with
the connection's frame budget); anything but a `subscribe` is refused with an `error` frame."""
MAX_HANDSHAKE_SUBSCRIBES: Final = 16
"""The most `SUBSCRIBE_HEADER` lines a handshake may carry (more: the handshake is refused with
400); a client following more sends the rest after the `welcome`."""

MAX_HANDSHAKE_HEADER_BYTES: Final = 32 * 1024
"""The most bytes a handshake's header names and values may add up to (more: refused with 431,
before the token is read). The websocket library reads up to 128 lines of 8 KiB and keeps the
request for the connection's life: 1.25 MiB of server memory per open connection, 40 MiB for a
user's 32, until this bound (hostile9). `MAX_HANDSHAKE_SUBSCRIBES` subscribes take about 4 KiB."""

MAX_HANDSHAKE_HEADERS: Final = 48
"""The most header lines a server reads in a handshake (more: the connection is refused): a
client's own take about 10 and its subscribes 16, which leaves room for a proxy's."""
MAX_HANDSHAKE_HEADER_LINE: Final = 2048
"""The longest line a server reads in a handshake, in bytes (the request line included)."""

SUBSCRIBED_HEADER: Final = "X-Warroom-Subscribed"
"""In the server's answer to the handshake: how many `SUBSCRIBE_HEADER` lines it took. A server
older than them does not send it, and then a client sends those subscribes after the
`welcome`, as before."""

ACCEPT_HEADER: Final = "X-Warroom-Accept"
"""Encodings the client's `SUBSCRIBE_HEADER` subscribes take beyond those every server that
reads that header knows (`columnar_events`, `packed_snapshot`), comma-separated: a server that
knows one asks for it in each of those subscribes, an older one ignores the header (and would
have refused the subscribe's field). Frames sent after the `welcome` ask for what the server
offers instead."""

FEATURES_HEADER: Final = "X-Warroom-Features"
"""In the server's answer to the handshake: the features it offers that `welcome.features` does
not list, comma-separated, because clients written before them refuse a `welcome` naming a
feature they do not know (`columnar_snapshot`)."""
