"""The websocket server: handshake (health check, status page, bearer tokens), per-connection
loop, shutdown of the listener."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from warroom import __version__
from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.limits import MAX_FRAME_BYTES
from warroom.domain.links import ServiceLinks
from warroom.protocol.frames import Feature, Welcome
from warroom.protocol.parse import frame_id, parse_client_frame
from warroom.server.auth import Authenticator
from warroom.server.connection import Connection
from warroom.server.hub import error_frame
from warroom.server.ratelimit import TokenBucket
from warroom.server.sequencer import Sequencer

log = logging.getLogger(__name__)

_STATUS_PAGES = frozenset({"/status", "/status/", "/status.json"})


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
    """Frames queued for one console before it is considered stuck and dropped."""


class AuthenticatedConnection(ServerConnection):
    """A server connection that remembers whose token opened it."""

    user: str | None = None


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
        self.settings = settings
        self._links = dict(links or {})
        self._features = sorted(features)
        self._status_pages = status_pages
        self._server: Server | None = None

    async def listen(self) -> None:
        """Start accepting connections on `settings.host` and `settings.port`."""
        self._server = await serve(
            self._handle,
            self.settings.host,
            self.settings.port,
            process_request=self._process_request,
            create_connection=AuthenticatedConnection,
            max_size=MAX_FRAME_BYTES,
            # Per-connection deflate compresses every broadcast frame once per console: it cost
            # a third of the server's CPU and 50 KB per idle console in the benchmarks. A TLS
            # proxy in front may compress instead.
            compression=None,
            server_header=f"warroom/{__version__}",
        )
        log.info("warroom server listening on %s", self.url)

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = next(iter(self._server.sockets)).getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"ws://{self.settings.host}:{self.port}"

    async def close(self) -> None:
        """Stop accepting and close every connection (1001 going away)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        if request.path == "/healthz":
            return conn.respond(HTTPStatus.OK, "ok\n")
        if request.path in _STATUS_PAGES and self._status_pages is not None:
            return self._status_page(conn, self._status_pages, request.path)
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        peer = str(conn.remote_address[0]) if conn.remote_address else "?"
        user = await self.auth.identify(token.strip() if scheme.lower() == "bearer" else None, peer)
        if user is None:
            response = conn.respond(HTTPStatus.UNAUTHORIZED, "missing or invalid bearer token\n")
            response.headers["WWW-Authenticate"] = 'Bearer realm="warroom"'
            return response
        # Kept on the connection itself: a client that drops between this check and the upgrade
        # leaves nothing behind in the server.
        assert isinstance(conn, AuthenticatedConnection)
        conn.user = user
        return None

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
        bucket = TokenBucket(self.settings.rate, self.settings.burst)
        conn = Connection(ws, user, self.settings.send_queue, bucket)
        sender = asyncio.create_task(conn.run_sender())
        welcome = Welcome(
            server=f"warroom/{__version__}", user=user, links=self._links, features=self._features
        )
        conn.send(welcome.model_dump_json())
        try:
            async for raw in ws:
                self._receive(conn, raw)
        except ConnectionClosed:
            pass
        finally:
            self.hub.disconnect(conn)
            sender.cancel()

    def _receive(self, conn: Connection, raw: str | bytes) -> None:
        try:
            self._receive_frame(conn, raw)
        except Exception:  # one bad frame must never take the connection (or server) down
            log.exception("unexpected failure on a frame from %s", conn.user)
            failure = DomainError(ErrorCode.INTERNAL, "internal error; nothing was changed")
            conn.send(error_frame(None, failure))

    def _receive_frame(self, conn: Connection, raw: str | bytes) -> None:
        if not conn.bucket.take():
            limit = DomainError(
                ErrorCode.RATE_LIMITED,
                f"more than {conn.bucket.rate:g} messages per second; this one was not processed",
            )
            conn.send(error_frame(frame_id(raw), limit))
            return
        try:
            frame = parse_client_frame(raw)
        except DomainError as exc:
            conn.send(error_frame(frame_id(raw), exc))
            return
        self.hub.submit(conn, frame)
