"""The node's small plain-HTTP listener, beside the websocket port: Alertmanager's webhook
(`POST /alertmanager/webhook`), Prometheus' `/metrics`, and `/healthz` and `/readyz` for probes.

It is its own listener because the websocket handshake parser (websockets' `process_request`)
refuses any request with a body, and a webhook is one. HTTP/1.1 framing is h11's (the sans-I/O
parser httpx is built on); every request is bounded in size and time and answered on its own
connection, then the connection closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus

import h11

from warroom.monitoring.alertmanager import WebhookError, WebhookMessage, parse_webhook

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/alertmanager/webhook"
MAX_BODY_BYTES = 4 * 1024 * 1024
"""Largest webhook body read; a bigger one is refused (413) without being read."""
MAX_HEAD_BYTES = 16 * 1024
"""Request line plus headers."""
REQUEST_SECONDS = 10.0
"""Time a client has to send its whole request: a slow sender cannot hold a connection."""
LINGER_SECONDS = 2.0
"""How long the rest of a refused body is read and dropped before the connection closes."""
MAX_CONNECTIONS = 64
"""Requests served at once; more wait for the listener's backlog."""


@dataclass(frozen=True)
class HttpSettings:
    """Where the plain-HTTP endpoints listen."""

    host: str = "127.0.0.1"
    port: int = 8766
    """0 picks a free port; `HttpEndpoints.port` tells which."""


@dataclass(frozen=True)
class Webhook:
    """Who may push alerts and where they go."""

    token: str
    """The bearer secret Alertmanager sends (`http_config.authorization.credentials`)."""
    receiver: str
    """Only notifications for this Alertmanager receiver are taken."""
    deliver: Callable[[WebhookMessage], Awaitable[None]]


@dataclass(frozen=True)
class Reply:
    status: HTTPStatus
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    extra: tuple[tuple[str, str], ...] = ()


class _TooLarge(Exception):
    pass


class HttpEndpoints:
    """Serves the plain-HTTP endpoints; `warroom.node` gives it what each one answers from."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        ready: Callable[[], Awaitable[str | None]],
        metrics: Callable[[], tuple[bytes, str]] | None = None,
        webhook: Webhook | None = None,
        role: Callable[[], str] | None = None,
    ) -> None:
        """Args:
        ready: None when the node can serve, else why not (checked on every `/readyz`).
        role: a line `/readyz` adds after `ready`, e.g. whether this node runs the integrations.
        metrics: the exposition text and its content type, for `/metrics`.
        webhook: where Alertmanager's notifications go; None: no webhook (404).
        """
        self.settings = settings
        self._ready = ready
        self._metrics = metrics
        self._webhook = webhook
        self._role = role
        self._server: asyncio.Server | None = None
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)
        self.deliveries = 0
        """Webhook notifications taken (for tests and logs)."""

    async def listen(self) -> None:
        """Start listening; raises OSError when the port is taken."""
        self._server = await asyncio.start_server(
            self._serve, self.settings.host, self.settings.port, limit=MAX_HEAD_BYTES
        )
        log.info("http endpoints listening on %s", self.url)

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(asyncio.CancelledError):
                await self._server.wait_closed()

    # --- one connection, one request ------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with self._slots:
            conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
            try:
                try:
                    async with asyncio.timeout(REQUEST_SECONDS):
                        request, body = await self._read(conn, reader)
                except _TooLarge:
                    reply = Reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"request body too large\n")
                except (h11.RemoteProtocolError, ConnectionError, TimeoutError, EOFError):
                    reply = Reply(HTTPStatus.BAD_REQUEST, b"malformed or incomplete request\n")
                else:
                    reply = await self._route(request, body)
                await self._send(conn, writer, reply)
                if reply.status is HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
                    await _linger(reader, writer)
            except Exception:  # one bad client must never take the listener down
                log.exception("unexpected failure answering an HTTP request")
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

    async def _read(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[h11.Request, bytes]:
        request: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                if not data:
                    raise EOFError
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Request):
                request = event
                length = _content_length(event)
                if length is not None and length > MAX_BODY_BYTES:
                    raise _TooLarge
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_BODY_BYTES:
                    raise _TooLarge
            elif isinstance(event, h11.EndOfMessage):
                assert request is not None
                return request, bytes(body)
            elif isinstance(event, h11.ConnectionClosed):
                raise EOFError

    async def _send(self, conn: h11.Connection, writer: asyncio.StreamWriter, reply: Reply) -> None:
        if conn.our_state not in {h11.IDLE, h11.SEND_RESPONSE}:
            return
        headers = [
            ("Content-Type", reply.content_type),
            ("Content-Length", str(len(reply.body))),
            ("Connection", "close"),
            ("Cache-Control", "no-store"),
            *reply.extra,
        ]
        try:
            data = conn.send(h11.Response(status_code=int(reply.status), headers=headers))
            data += conn.send(h11.Data(data=reply.body)) or b""
            data += conn.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError:
            # h11 answers only what the request allows; e.g. a request it could not parse
            # gets the minimal error response it permits.
            return
        writer.write(data or b"")
        with contextlib.suppress(ConnectionError):
            await writer.drain()

    # --- routes ---------------------------------------------------------------------------------

    async def _route(self, request: h11.Request, body: bytes) -> Reply:
        path = request.target.split(b"?", 1)[0]
        method = request.method
        if path == WEBHOOK_PATH.encode():
            if method != b"POST":
                return _not_allowed("POST")
            return await self._on_webhook(request, body)
        routes: dict[bytes, Callable[[], Awaitable[Reply]]] = {
            b"/healthz": self._on_healthz,
            b"/readyz": self._on_readyz,
            b"/metrics": self._on_metrics,
        }
        answer = routes.get(path)
        if answer is None:
            return Reply(HTTPStatus.NOT_FOUND, b"not found\n")
        if method not in {b"GET", b"HEAD"}:
            return _not_allowed("GET")
        return await answer()

    async def _on_healthz(self) -> Reply:
        return Reply(HTTPStatus.OK, b"ok\n")

    async def _on_readyz(self) -> Reply:
        try:
            problem = await self._ready()
        except Exception as exc:  # a failing check means "not ready", never a crash
            problem = f"{type(exc).__name__}: {exc}"
        if problem is None:
            role = "" if self._role is None else f"{self._role()}\n"
            return Reply(HTTPStatus.OK, f"ready\n{role}".encode())
        return Reply(HTTPStatus.SERVICE_UNAVAILABLE, f"not ready: {problem}\n".encode())

    async def _on_metrics(self) -> Reply:
        if self._metrics is None:
            return Reply(HTTPStatus.NOT_FOUND, b"metrics are off\n")
        text, content_type = self._metrics()
        return Reply(HTTPStatus.OK, text, content_type)

    async def _on_webhook(self, request: h11.Request, body: bytes) -> Reply:
        webhook = self._webhook
        if webhook is None:
            return Reply(
                HTTPStatus.NOT_FOUND, b"the webhook is off (no [alertmanager] webhook_token)\n"
            )
        if not _bearer_matches(request, webhook.token):
            log.warning("alertmanager webhook: refused a delivery without the right bearer token")
            return Reply(
                HTTPStatus.UNAUTHORIZED,
                b"missing or invalid bearer token\n",
                extra=(("WWW-Authenticate", 'Bearer realm="warroom"'),),
            )
        try:
            message = parse_webhook(body)
        except WebhookError as exc:
            log.warning("alertmanager webhook: %s", exc)
            return Reply(HTTPStatus.BAD_REQUEST, f"{exc}\n".encode())
        if message.receiver != webhook.receiver:
            problem = (
                f"this notification is for receiver {message.receiver!r}; warroom takes "
                f"{webhook.receiver!r} (its [alertmanager] receiver)"
            )
            log.warning("alertmanager webhook: %s", problem.encode("unicode_escape").decode())
            return Reply(HTTPStatus.UNPROCESSABLE_ENTITY, f"{problem}\n".encode())
        try:
            await webhook.deliver(message)
        except Exception:
            log.exception("alertmanager webhook: the delivery could not be applied")
            return Reply(HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error; the poll reconciles\n")
        self.deliveries += 1
        return Reply(HTTPStatus.OK, b"ok\n")


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Let a client that is still sending a refused body read the answer: closing with its data
    unread would reset the connection and lose the 413. Bounded by time, the data discarded."""
    with contextlib.suppress(OSError, TimeoutError):
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(LINGER_SECONDS):
            while await reader.read(65536):
                pass


def _content_length(request: h11.Request) -> int | None:
    for name, value in request.headers:
        if name == b"content-length":
            return int(value)  # h11 has checked it is one non-negative integer
    return None


def _bearer_matches(request: h11.Request, token: str) -> bool:
    for name, value in request.headers:
        if name == b"authorization":
            scheme, _, given = value.partition(b" ")
            if scheme.lower() == b"bearer":
                return hmac.compare_digest(given.strip(), token.encode())
    return False


def _not_allowed(method: str) -> Reply:
    return Reply(HTTPStatus.METHOD_NOT_ALLOWED, b"method not allowed\n", extra=(("Allow", method),))
