"""The websocket server: handshake (health check, status page, bearer tokens), per-connection
loop, shutdown of the listener, and the limits that keep one client (or one user) from taking
the server's memory, CPU or file descriptors from everyone else (`warroom.server.limits`)."""

from __future__ import annotations

import asyncio
import logging
import re
import resource
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from ipaddress import IPv4Network, IPv6Network, ip_address
from pathlib import Path
from typing import Any, Protocol, get_args

from websockets import http11
from websockets.asyncio.server import Server, ServerConnection, serve, unix_serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from warroom import __version__
from warroom.domain.commands import DeclareIncident, DismissTriage, IncidentCommand
from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.limits import MAX_FRAME_BYTES
from warroom.domain.links import ServiceLinks
from warroom.protocol.endpoint import unix_url
from warroom.protocol.frames import ClientFrame, Feature, Subscribe, Welcome
from warroom.protocol.handshake import (
    ACCEPT_HEADER,
    CONSOLE_HEADER,
    FEATURES_HEADER,
    MAX_HANDSHAKE_HEADER_BYTES,
    MAX_HANDSHAKE_HEADER_LINE,
    MAX_HANDSHAKE_HEADERS,
    MAX_HANDSHAKE_SUBSCRIBES,
    SUBSCRIBE_HEADER,
    SUBSCRIBED_HEADER,
)
from warroom.protocol.parse import frame_id, parse_client_frame
from warroom.server import logthrottle
from warroom.server.auth import Authenticator, UsersUnavailable
from warroom.server.connection import CLOSE_POLICY, Connection
from warroom.server.hub import error_frame
from warroom.server.limits import ServerLimits
from warroom.server.ratelimit import FrameBudget, LeftBudgets, TokenBucket
from warroom.server.sequencer import Sequencer
from warroom.server.sign_in_throttle import console_id
from warroom.store.base import StoreError

log = logging.getLogger(__name__)

_HANDSHAKE_FEATURES = ",".join(
    sorted({Feature.COLUMNAR_SNAPSHOT, Feature.COLUMNAR_EVENTS, Feature.PACKED_SNAPSHOT})
)
"""Features named in the handshake's answer rather than in `welcome` (`FEATURES_HEADER`)."""
_ACCEPTABLE = frozenset({Feature.COLUMNAR_EVENTS.value, Feature.PACKED_SNAPSHOT.value})
"""The encodings a handshake's `ACCEPT_HEADER` may ask for: subscribe fields, each set in
every subscribe the handshake carries."""
_STATUS_PAGES = frozenset({"/status", "/status/", "/status.json"})

_WRITES = (DeclareIncident, DismissTriage, *get_args(IncidentCommand))

FD_RESERVE = 64
"""File descriptors kept for everything but client sockets: the database and its journal, log
files, the integrations' HTTP connections, the listening sockets."""
ACCEPT_BATCH = 16
"""Connections the event loop accepts in one go (asyncio's `backlog`, which it also makes the
listen backlog until `LISTEN_BACKLOG` replaces that)."""
LISTEN_BACKLOG = 1024
"""Connections the kernel completes and holds until the server accepts them. At asyncio's 16, a
burst of consoles connecting at once (after a restart, or 200 joining in the bench) overflowed
it: the kernel dropped the handshakes over it and their consoles tried again a second later
(13 to 18 of 200 joins in the bench, so the 200 took a second longer than the floor). Held
connections cost the server no descriptor: it still accepts them `ACCEPT_BATCH` at a time, so
the reserve for the pipeline below holds."""
ACCEPT_PIPELINE = 4
"""Batches of sockets that can be open without the gate holding them back: asyncio accepts a
batch in one loop iteration, builds their transports in the next and calls `connection_made`
(where the gate counts) in the one after, while accepting a batch each time; a socket the gate
refuses is closed one iteration later still. That many batches of descriptors are kept free,
so a burst of connections cannot take the last one (accept() would fail with EMFILE)."""

_LEADING_ID = re.compile(
    r'\s*\{\s*(?:"type"\s*:\s*"[a-z_]{1,40}"\s*,\s*)?"id"\s*:\s*"([^"\\]{1,64})"'
)
"""The id of a frame that begins `{"type": ..., "id": ...` (as every console frame does), read
without parsing the frame."""
_PARSE_FOR_ID = 4_096
"""A refused frame up to this size is parsed for its id anyway: that costs microseconds."""

_COSTLY_FRAME_BYTES = 16 * 1024
"""Frames larger than this are parsed one at a time server-wide, one per turn of the event loop
(`WarroomServer._costly_parse`); smaller ones parse in microseconds."""

_TURN_BYTES = 64 * 1024
"""Bytes of frames (parse cost grows with them) one connection handles before others' turn."""
_FRAME_OVERHEAD = 1024
"""What a frame counts for beyond its bytes, so a stream of tiny frames also takes turns."""

Network = IPv4Network | IPv6Network


@dataclass(frozen=True)
class ServerSettings:
    """How the server listens and how much it lets one console do."""

    host: str = "127.0.0.1"
    port: int = 8765
    """0 picks a free port; `WarroomServer.port` tells which."""
    rate: float = 50.0
    """Messages per second one connection may send on average."""
    burst: int = 200
    send_queue: int = 4_096
    """Frames queued for one console before it is considered stuck and dropped (also bounded in
    bytes: `limits.send_buffer_bytes`)."""
    limits: ServerLimits = field(default_factory=ServerLimits)
    trusted_proxies: tuple[Network, ...] = ()
    """Reverse proxies whose `X-Forwarded-For` names the client (see server/README.md)."""
    unix_socket: Path | None = None
    """Listen on this Unix socket instead of `host` and `port`: the private endpoint of the
    local mode, reachable only through its owner's 0700 directory (`warroom.paths`)."""


class ConnectionGate:
    """Counts the server's TCP connections from accept to close. Over `soft`, handshakes are
    answered 503; over `hard`, a new socket is closed at once, before it costs more than its
    descriptor, so the process never runs out of them."""

    def __init__(self, soft: int, hard: int) -> None:
        self.soft = soft
        self.hard = hard
        self.open = 0

    @classmethod
    def for_process(cls, max_connections: int) -> ConnectionGate:
        """Caps that fit `max_connections` and the file descriptor limit (RLIMIT_NOFILE)."""
        nofile, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if nofile == resource.RLIM_INFINITY:
            nofile = 1 << 20
        hard = max(1, nofile - FD_RESERVE - ACCEPT_PIPELINE * ACCEPT_BATCH)
        soft = max(1, min(max_connections, hard - max(1, hard // 10)))
        if soft < max_connections:
            log.warning(
                "at most %d connections at once: the file descriptor limit is %d "
                "(raise LimitNOFILE or `ulimit -n` for more)",
                soft,
                nofile,
            )
        return cls(soft, hard)

    def opened(self) -> bool:
        """Count a new socket; False if it must be closed at once."""
        self.open += 1
        return self.open <= self.hard

    def closed(self) -> None:
        self.open -= 1

    @property
    def full(self) -> bool:
        return self.open > self.soft


class AuthenticatedConnection(ServerConnection):
    """A server connection that remembers whose token opened it, counted by its server's gate
    from the moment its socket is accepted."""

    user: str | None = None
    gate: ConnectionGate | None = None
    handshake_frames: tuple[str, ...] = ()
    """The `subscribe` frames its handshake carried (`SUBSCRIBE_HEADER`), handled first."""
    handshake_accepts: frozenset[str] = frozenset()
    """The encodings its handshake's subscribes ask for too (`ACCEPT_HEADER`: `_ACCEPTABLE`)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self.gate is not None and not self.gate.opened():
            assert isinstance(transport, asyncio.Transport)
            transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.gate is not None:
            self.gate.closed()


def _gated(gate: ConnectionGate) -> type[AuthenticatedConnection]:
    class GatedConnection(AuthenticatedConnection):
        pass

    GatedConnection.gate = gate
    return GatedConnection


def client_address(remote: str, forwarded: list[str], trusted: tuple[Network, ...]) -> str:
    """The client's address: the socket's peer, or, when that peer is a trusted proxy, the
    nearest address in `X-Forwarded-For` that is not one (proxies append, so the entries a
    client wrote itself come first and are never believed)."""
    hops = [hop.strip() for value in forwarded for hop in value.split(",")]
    address = remote
    while _is_trusted(address, trusted) and hops:
        hop = hops.pop()
        try:
            ip_address(hop)
        except ValueError:
            break  # not an address (e.g. "unknown"): the proxy before it is all we know
        address = hop
    return address


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


class StatusPages(Protocol):
    """The public status page as the server serves it (the status publisher keeps it current)."""

    @property
    def html(self) -> str: ...

    @property
    def json(self) -> str: ...


class WarroomServer:
    """The websocket front of one node: it authenticates consoles and hands their frames to the
    sequencer. It builds nothing itself; `warroom.node` wires it to the hub and integrations."""

    def __init__(
        self,
        hub: Sequencer,
        auth: Authenticator,
        settings: ServerSettings,
        *,
        links: Mapping[str, ServiceLinks] | None = None,
        status_pages: StatusPages | None = None,
        features: Collection[Feature] = (),
    ):
        self.hub = hub
        self.auth = auth
        # The node builds the Authenticator before the server's settings are known to it.
        auth.read_seconds = settings.limits.users_read_seconds
        self.settings = settings
        self._links = dict(links or {})
        # Compact catch-up is part of every server; the rest depends on the configuration.
        self._features = sorted({*features, Feature.COMPACT, Feature.COMPACT_SNAPSHOT})
        self._status_pages = status_pages
        self._server: Server | None = None
        self.gate = ConnectionGate.for_process(settings.limits.max_connections)
        self._sessions: dict[str, set[Connection]] = {}
        self._someone_left = asyncio.Event()
        """Set whenever a connection ends, for `until_connections_at_most` to count again."""
        self._user_writes: dict[str, TokenBucket] = {}
        self._left_budgets = LeftBudgets()
        """Closed connections' frame allowances, taken up by their users' next connections."""
        self._user_declarations: dict[str, TokenBucket] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._unthrottle_log: Callable[[], None] | None = None
        self._costly_parse = asyncio.Lock()
        """Taken to parse a large frame. Without it every flooding connection parsed one large
        frame per turn of the loop, so each turn cost one parse per flooder and a write or a
        health check waited that long for every step it needs; with it a turn costs at most one
        (FIFO: the flooders take turns among themselves, everyone else goes between)."""

    async def listen(self) -> None:
        """Start accepting connections on `settings.unix_socket`, or else on `settings.host` and
        `settings.port`."""
        _bound_handshake_reading()
        options: dict[str, Any] = dict(
            process_request=self._process_request,
            process_response=self._process_response,
            create_connection=_gated(self.gate),
            max_size=MAX_FRAME_BYTES,
            open_timeout=self.settings.limits.handshake_timeout_seconds,
            backlog=ACCEPT_BATCH,
            # Per-connection deflate compresses every broadcast frame once per console: it cost
            # a third of the server's CPU and 50 KB per idle console in the benchmarks. A TLS
            # proxy in front may compress instead.
            compression=None,
            server_header=f"warroom/{__version__}",
        )
        if self.settings.unix_socket is not None:
            self._server = await unix_serve(self._handle, self.settings.unix_socket, **options)
        else:
            self._server = await serve(
                self._handle, self.settings.host, self.settings.port, **options
            )
        for listening in self._server.sockets:
            # listen() again on a listening socket only sets its backlog. Called on a duplicate
            # (same socket, another descriptor): asyncio hands out wrappers without listen().
            with listening.dup() as same_socket:
                same_socket.listen(LISTEN_BACKLOG)
        self._unthrottle_log = logthrottle.install()
        self._watcher = asyncio.create_task(self._watch_users(), name="warroom-user-watch")
        log.info("warroom server listening on %s", self.url)

    @property
    def port(self) -> int:
        """The TCP port listened on; 0 on a Unix socket."""
        assert self._server is not None
        if self.settings.unix_socket is not None:
            return 0
        port: int = next(iter(self._server.sockets)).getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """Where clients connect: `ws://host:port`, or `unix:/path` for a Unix socket."""
        if self.settings.unix_socket is not None:
            return unix_url(self.settings.unix_socket)
        return f"ws://{self.settings.host}:{self.port}"

    @property
    def connections(self) -> int:
        """How many consoles and commands are connected now, over all users."""
        return sum(len(sessions) for sessions in self._sessions.values())

    async def until_connections_at_most(self, count: int) -> None:
        """Return once no more than `count` connections are open."""
        while self.connections > count:
            self._someone_left.clear()
            await self._someone_left.wait()

    async def close(self) -> None:
        """Stop accepting and close every connection (1001 going away)."""
        if self._watcher is not None:
            self._watcher.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._unthrottle_log is not None:
            self._unthrottle_log()
            self._unthrottle_log = None

    async def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        if request.path == "/healthz":
            return conn.respond(HTTPStatus.OK, "ok\n")
        if request.path in _STATUS_PAGES and self._status_pages is not None:
            return self._status_page(conn, self._status_pages, request.path)
        if self.gate.full:
            response = conn.respond(
                HTTPStatus.SERVICE_UNAVAILABLE,
                f"server full: {self.gate.soft} connections open; try again shortly\n",
            )
            response.headers["Retry-After"] = "5"
            return response
        # Before the token: junk headers cost no users read, and an accepted connection keeps
        # its request (so its headers) as long as it is open.
        if _header_bytes(request) > MAX_HANDSHAKE_HEADER_BYTES:
            return conn.respond(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                f"the handshake's headers exceed {MAX_HANDSHAKE_HEADER_BYTES} bytes\n",
            )
        # get_all: a repeated header is a refusal like a wrong one, not a 500 (`get` raises).
        authorization = request.headers.get_all("Authorization")
        scheme, _, token = (
            authorization[0].partition(" ") if len(authorization) == 1 else ("", "", "")
        )
        remote = str(conn.remote_address[0]) if conn.remote_address else "?"
        peer = client_address(
            remote, request.headers.get_all("X-Forwarded-For"), self.settings.trusted_proxies
        )
        try:
            user = await self.auth.identify(
                token.strip() if scheme.lower() == "bearer" else None,
                peer,
                console_id(request.headers.get_all(CONSOLE_HEADER)),
            )
        except UsersUnavailable as exc:
            log.error("sign-in refused: the user table could not be read: %s", exc)
            response = conn.respond(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "unavailable: the server cannot read its users right now; try again shortly\n",
            )
            response.headers["Retry-After"] = "5"
            return response
        if user is None:
            response = conn.respond(HTTPStatus.UNAUTHORIZED, "missing or invalid bearer token\n")
            response.headers["WWW-Authenticate"] = 'Bearer realm="warroom"'
            return response
        if len(self._sessions.get(user, ())) >= self.settings.limits.connections_per_user:
            return conn.respond(
                HTTPStatus.TOO_MANY_REQUESTS,
                f"{user} already has {self.settings.limits.connections_per_user} connections "
                "open; close one first\n",
            )
        subscribes = request.headers.get_all(SUBSCRIBE_HEADER)
        if len(subscribes) > MAX_HANDSHAKE_SUBSCRIBES:
            return conn.respond(
                HTTPStatus.BAD_REQUEST,
                f"at most {MAX_HANDSHAKE_SUBSCRIBES} {SUBSCRIBE_HEADER} headers; send the rest "
                "as frames\n",
            )
        # Kept on the connection itself: a client that drops between this check and the upgrade
        # leaves nothing behind in the server.
        assert isinstance(conn, AuthenticatedConnection)
        conn.user = user
        conn.handshake_frames = tuple(subscribes)
        conn.handshake_accepts = _ACCEPTABLE.intersection(
            name.strip(_HTTP_BLANKS)
            for value in request.headers.get_all(ACCEPT_HEADER)
            for name in value.split(",")
        )
        return None

    def _process_response(
        self, conn: ServerConnection, request: Request, response: Response
    ) -> None:
        """Tells an upgraded client which of its handshake's subscribes will be answered and
        what this server offers beyond `welcome.features` (`protocol.handshake`)."""
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:
            return
        assert isinstance(conn, AuthenticatedConnection)
        response.headers[SUBSCRIBED_HEADER] = str(len(conn.handshake_frames))
        response.headers[FEATURES_HEADER] = _HANDSHAKE_FEATURES

    def _status_page(self, conn: ServerConnection, status: StatusPages, path: str) -> Response:
        """The public status page: approved updates only, no token needed, read-only."""
        is_json = path == "/status.json"
        response = conn.respond(HTTPStatus.OK, status.json if is_json else status.html)
        # `respond` already set text/plain; headers are a multi-map, so replace, not add.
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = (
            "application/json" if is_json else "text/html; charset=utf-8"
        )
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
        response.headers["Cache-Control"] = "no-cache"
        return response

    async def _handle(self, ws: ServerConnection) -> None:
        assert isinstance(ws, AuthenticatedConnection)
        user = ws.user
        assert user is not None  # process_request refused the handshake otherwise
        limits = self.settings.limits
        budget = self._left_budgets.take(
            user,
            lambda: FrameBudget(
                self.settings.rate, self.settings.burst, limits.bytes_per_second, limits.burst_bytes
            ),
        )
        conn = Connection(ws, user, self.settings.send_queue, budget, limits.send_buffer_bytes)
        sessions = self._sessions.setdefault(user, set())
        sessions.add(conn)
        sender = asyncio.create_task(conn.run_sender())
        try:
            if len(sessions) > limits.connections_per_user:
                # Handshakes that raced past the check in `_process_request`.
                conn.drop(
                    f"{user} already has {limits.connections_per_user} connections open",
                    CLOSE_POLICY,
                )
            elif user not in self.auth.user_names:
                conn.revoked = True
                conn.drop(f"user {user} was revoked", CLOSE_POLICY)
            else:
                welcome = Welcome(
                    server=f"warroom/{__version__}",
                    user=user,
                    links=self._links,
                    features=self._features,
                )
                conn.send(welcome.model_dump_json())
                # As if they were the first frames sent: the same budget, parsing and order.
                for carried in ws.handshake_frames:
                    await self._receive(conn, carried, handshake=True, accepts=ws.handshake_accepts)
            since_turn = 0
            async for raw in ws:
                await self._receive(conn, raw)
                # Frames already buffered are returned without a pause, so a connection that
                # sent many (or large, costly) frames would keep the loop to itself: give the
                # others a turn after every `_TURN_BYTES` of frames. Not after every frame: the
                # sequencer commits what arrived together as one group.
                since_turn += len(raw) + _FRAME_OVERHEAD
                if since_turn >= _TURN_BYTES:
                    since_turn = 0
                    await asyncio.sleep(0)
        except ConnectionClosed:
            pass
        finally:
            self._left_budgets.give_back(user, budget)
            sessions.discard(conn)
            if not sessions:
                del self._sessions[user]
            self._someone_left.set()
            self.hub.disconnect(conn)
            sender.cancel()

    async def _watch_users(self) -> None:
        """End the connections of revoked users soon after `warroom user revoke`."""
        while True:
            await asyncio.sleep(self.settings.limits.user_check_seconds)
            try:
                changed = await self.auth.users_changed()
            except StoreError as exc:
                log.warning("cannot check the user table: %s", exc)
                continue
            if changed:
                self._end_revoked()

    def _end_revoked(self) -> None:
        names = self.auth.user_names
        for user, sessions in list(self._sessions.items()):
            if user in names:
                continue
            log.info("user %s was revoked: closing their %d connections", user, len(sessions))
            for conn in list(sessions):
                conn.revoked = True
                conn.drop(f"user {user} was revoked", CLOSE_POLICY)

    async def _receive(
        self,
        conn: Connection,
        raw: str | bytes,
        handshake: bool = False,
        accepts: frozenset[str] = frozenset(),
    ) -> None:
        """Handle one frame (`handshake`: carried by the handshake; `accepts`: the encodings a
        subscribe there asks for too)."""
        try:
            await self._receive_frame(conn, raw, handshake, accepts)
        except Exception:  # one bad frame must never take the connection (or server) down
            log.exception("unexpected failure on a frame from %s", conn.user)
            failure = DomainError(ErrorCode.INTERNAL, "internal error; nothing was changed")
            conn.send(error_frame(None, failure))

    async def _receive_frame(
        self, conn: Connection, raw: str | bytes, handshake: bool, accepts: frozenset[str]
    ) -> None:
        # Charged before parsing: a refused frame costs the same whatever it holds.
        over = conn.budget.take(len(raw))
        if over is not None:
            limit = DomainError(ErrorCode.RATE_LIMITED, f"{over}; this one was not processed")
            conn.send(error_frame(_refused_frame_id(raw), limit))
            return
        if handshake and not raw.isascii():
            # websockets reads header bytes as ISO-8859-1: the UTF-8 of `"h-é"` would be read,
            # and its id echoed, as `"h-Ã©"`. JSON escapes (`\u00e9`) carry any character.
            not_ascii = DomainError(
                ErrorCode.BAD_FRAME,
                f"a {SUBSCRIBE_HEADER} header is ASCII (write other characters as JSON escapes, "
                "\\uXXXX); this one was not processed",
            )
            conn.send(error_frame(None, not_ascii))
            return
        if len(raw) > _COSTLY_FRAME_BYTES:
            async with self._costly_parse:
                parsed = _parse(raw)
                await asyncio.sleep(0)  # the rest of the loop's turn belongs to the others
        else:
            parsed = _parse(raw)
        if isinstance(parsed, _Refused):
            conn.send(error_frame(parsed.frame_id, parsed.error))
            return
        frame = parsed
        if handshake and not isinstance(frame, Subscribe):
            only_subscribes = DomainError(
                ErrorCode.INVALID,
                f"a {SUBSCRIBE_HEADER} header carries a subscribe frame only; this one was not "
                "processed",
            )
            conn.send(error_frame(frame.id, only_subscribes))
            return
        if handshake and accepts and isinstance(frame, Subscribe):
            frame = frame.model_copy(update=dict.fromkeys(accepts, True))
        if isinstance(frame, _WRITES):
            refusal = self._refuse_write(conn, frame)
            if refusal is not None:
                conn.send(error_frame(frame.id, refusal))
                return
        self.hub.submit(conn, frame)

    def _refuse_write(self, conn: Connection, frame: Any) -> DomainError | None:
        """Why a write may not go to the sequencer: its user was revoked, or wrote (or declared)
        too much over all their connections."""
        if conn.revoked:
            return DomainError(ErrorCode.FORBIDDEN, f"user {conn.user} was revoked")
        limits = self.settings.limits
        writes = self._user_writes.get(conn.user)
        if writes is None:
            writes = TokenBucket(limits.writes_per_second_per_user, limits.write_burst_per_user)
            self._user_writes[conn.user] = writes
        declarations = None
        if isinstance(frame, DeclareIncident):
            declarations = self._user_declarations.get(conn.user)
            if declarations is None:
                per_minute = limits.declarations_per_minute_per_user
                declarations = TokenBucket(per_minute / 60, per_minute)
                self._user_declarations[conn.user] = declarations
            if not declarations.can_take():
                return DomainError(
                    ErrorCode.RATE_LIMITED,
                    f"{conn.user} declared more than {limits.declarations_per_minute_per_user} "
                    "incidents in a minute; this one was not processed",
                )
        if not writes.take():
            return DomainError(
                ErrorCode.RATE_LIMITED,
                f"more than {limits.writes_per_second_per_user:g} writes per second by "
                f"{conn.user}; this one was not processed",
            )
        if declarations is not None:
            declarations.take()
        return None


@dataclass(frozen=True)
class _Refused:
    frame_id: str | None
    error: DomainError


def _parse(raw: str | bytes) -> ClientFrame | _Refused:
    """The frame, or why it is refused and the id to answer (reading it costs a second parse)."""
    try:
        return parse_client_frame(raw)
    except DomainError as exc:
        return _Refused(frame_id(raw), exc)


def _bound_handshake_reading() -> None:
    """Hold websockets' handshake reader to `MAX_HANDSHAKE_HEADERS` lines of at most
    `MAX_HANDSHAKE_HEADER_LINE` bytes. Its limits are module-wide settings (its documented
    `WEBSOCKETS_MAX_NUM_HEADERS` and `WEBSOCKETS_MAX_LINE_LENGTH`, read when it is imported), so
    they are lowered here, never raised: a handshake still being sent held up to 128 lines of
    8 KiB, 635 KiB of server memory per pending handshake before its token is read."""
    http11.MAX_NUM_HEADERS = min(http11.MAX_NUM_HEADERS, MAX_HANDSHAKE_HEADERS)
    http11.MAX_LINE_LENGTH = min(http11.MAX_LINE_LENGTH, MAX_HANDSHAKE_HEADER_LINE)


_HTTP_BLANKS = " \t"
"""The blanks HTTP allows around a list's elements (RFC 9110 OWS); `str.strip()` would also take
a no-break space, which is part of a name, not around it."""


def _header_bytes(request: Request) -> int:
    """The bytes of a handshake's header names and values (no separators)."""
    return sum(len(name) + len(value) for name, value in request.headers.raw_items())


def _refused_frame_id(raw: str | bytes) -> str | None:
    """The id of a frame refused unread: parsed if small, else read from its first bytes."""
    if isinstance(raw, bytes):
        return None
    if len(raw) <= _PARSE_FOR_ID:
        return frame_id(raw)
    found = _LEADING_ID.match(raw, 0, 256)
    return found[1] if found else None
