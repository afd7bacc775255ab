"""A real HTTP server on 127.0.0.1 that records every request and answers from a script.

Outbound clients (PagerDuty, Slack, Alertmanager...) are tested against it instead of a mocking
library, so the bytes on the wire, headers and status handling are all exercised for real.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: Any = "ok"
    """A `str` or `bytes` is sent as is; anything else is sent as JSON."""
    headers: dict[str, str] = field(default_factory=dict)
    disconnect: bool = False
    """Close the connection without answering, as a crashed upstream or a dropped link would."""

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Waiter:
    count: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]


class RecordingServer:
    """Records requests and answers them from a script; use as a context manager.

    Replies queued with `reply_with` are used one per request in order; once the queue is empty
    every request gets `default`.
    """

    def __init__(self, default: Reply | None = None) -> None:
        self.default = default or Reply()
        self._replies: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._waiters: list[_Waiter] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        # Handler threads must not keep the test process alive if a client leaves a connection open.
        self._httpd.daemon_threads = True
        # serve_forever notices shutdown() only between polls; a short poll keeps teardown quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="recording-server",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """Base URL without a trailing slash: `http://127.0.0.1:PORT`."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def reply_with(self, *replies: Reply) -> None:
        """Queue answers for the next requests, in order."""
        with self._lock:
            self._replies.extend(replies)

    def fail_first(self, times: int, status: int = 500) -> None:
        """Answer the next `times` requests with `status`, then fall back to `default`."""
        self.reply_with(*[Reply(status=status, body="upstream trouble")] * times)

    def always(self, reply: Reply) -> None:
        """Answer every request from now on with `reply`."""
        with self._lock:
            self._replies.clear()
            self.default = reply

    async def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until `count` requests have arrived and return them all.

        The timeout only bounds a broken test; a passing test wakes as the request lands.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            if len(self._requests) >= count:
                return list(self._requests)
            waiter = _Waiter(count, loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter.future
        except TimeoutError:
            got = len(self.requests)
            raise AssertionError(f"expected {count} request(s), got {got}") from None
        return self.requests

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _record(self, request: RecordedRequest) -> Reply:
        """Called from a handler thread: store the request, wake waiters, pick the answer."""
        with self._lock:
            self._requests.append(request)
            received = len(self._requests)
            ready = [w for w in self._waiters if w.count <= received]
            self._waiters = [w for w in self._waiters if w.count > received]
            reply = self._replies.popleft() if self._replies else self.default
        for waiter in ready:
            waiter.loop.call_soon_threadsafe(_set_done, waiter.future)
        return reply


class RecordedSleep:
    """Stands in for `asyncio.sleep` in retry loops: remembers each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _make_handler(server: RecordingServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Send each reply in one segment, without Nagle: split writes on loopback otherwise meet
        # the peer's delayed ACK and every request stalls for ~40 ms.
        disable_nagle_algorithm = True
        wbufsize = 64 * 1024

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = RecordedRequest(
                method=self.command,
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
            )
            reply = server._record(request)
            if reply.disconnect:
                self.close_connection = True
                return
            payload, content_type = reply.encoded()
            self.send_response(reply.status)
            headers = {"Content-Type": content_type, **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest output clean; the recorded requests are the log

    return Handler
