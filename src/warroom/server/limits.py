"""How much one connection, one user and the whole server may take: the `[limits]` section of the
server config. Every default is far above what a real incident does, and every refusal names the
limit it hit (see docs/protocol.md, "Limits")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from warroom.domain.limits import MAX_FRAME_BYTES

MiB = 1024 * 1024
USERS_READ_SECONDS = 2.0
"""How long a handshake waits for the store to say who the users are, by default."""
FOLLOWS_PER_CONNECTION = 16
"""Incidents one connection may follow at once, by default (`follows_per_connection`)."""
FOLLOWS_PER_USER = 64
"""Incidents one user may follow at once over all their connections, by default
(`follows_per_user`)."""
CLOSED_INCIDENTS_HELD = 256
"""Closed, unfollowed incidents kept in memory at most, by default (`closed_incidents_held`)."""


class ServerLimits(BaseModel):
    """`[limits]`: per connection, per user and per server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    send_buffer_bytes: int = Field(default=4 * MiB, ge=64 * 1024)
    """Bytes of frames the server keeps queued for one console; a console that lets more pile up
    (it stopped reading) is closed with 1013 and resumes with `since` when it returns. The frame
    being written to the socket is not counted, so any single frame can always be sent."""
    bytes_per_second: int = Field(default=256 * 1024, ge=1024)
    """Bytes of frames one connection may send per second on average, charged before parsing."""
    burst_bytes: int = Field(default=MAX_FRAME_BYTES * 4, ge=MAX_FRAME_BYTES)
    """Bytes one connection may send at once; at least one frame of the largest size."""
    max_connections: int = Field(default=4_096, ge=1)
    """Websocket connections open at once (handshakes included); more get HTTP 503. The server
    lowers it to fit the process's file descriptor limit (RLIMIT_NOFILE) at start."""
    connections_per_user: int = Field(default=32, ge=1)
    """Connections one user may hold open at once; more get HTTP 429."""
    writes_per_second_per_user: float = Field(default=20.0, gt=0)
    """Writes per second one user may make on average, over all their connections."""
    write_burst_per_user: int = Field(default=200, ge=1)
    follows_per_connection: int = Field(default=FOLLOWS_PER_CONNECTION, ge=1)
    """Incidents one connection may follow (subscribe to) at once; a subscribe to one more is
    refused `too_large` and loads nothing. A console follows the incident it shows; without a
    bound, a connection subscribing to thousands of closed incidents made the server load them
    all from the store and hold them while it stayed open (hostile10)."""
    follows_per_user: int = Field(default=FOLLOWS_PER_USER, ge=1)
    """Follows one user may hold at once over all their connections (an incident followed on two
    connections counts twice); a subscribe past it is refused `too_large` and loads nothing.
    Without it, the per-connection bound times `connections_per_user` (32 x 16) was one user's
    only bound. Four consoles each at `follows_per_connection` fit the default."""
    closed_incidents_held: int = Field(default=CLOSED_INCIDENTS_HELD, ge=1)
    """Closed incidents nobody follows that the server keeps in memory after a read loaded them
    (a `read_log`, a subscribe since ended), beside those dropped after `[history]
    idle_minutes`: past it, the least recently used are dropped at once, so reading thousands
    of closed incidents in a few minutes does not hold them all."""
    declarations_per_minute_per_user: int = Field(default=10, ge=1)
    """Incidents one user may declare per minute (each SEV1 or SEV2 pages on-call)."""
    handshake_timeout_seconds: float = Field(default=5.0, gt=0)
    """A connection that has not finished its opening handshake by then is dropped."""
    users_read_seconds: float = Field(default=USERS_READ_SECONDS, gt=0)
    """How long a handshake waits for the store to read the user table; past it (a locked
    SQLite file, PostgreSQL not answering) it is answered 503 `unavailable` with Retry-After,
    well before `handshake_timeout_seconds` would drop it unanswered."""
    user_check_seconds: float = Field(default=1.0, gt=0)
    """How often the server checks whether the user table changed (`warroom user revoke` ends
    that user's connections within about this long)."""


UNLIMITED = ServerLimits(
    send_buffer_bytes=1 << 40,
    bytes_per_second=1 << 40,
    burst_bytes=1 << 40,
    max_connections=1 << 20,
    connections_per_user=1 << 20,
    writes_per_second_per_user=1e9,
    write_burst_per_user=1 << 30,
    declarations_per_minute_per_user=1 << 30,
    follows_per_connection=1 << 20,
    follows_per_user=1 << 30,
    closed_incidents_held=1 << 20,
)
"""For benchmarks and tests that drive the server flat out: the limits lifted, not removed."""
