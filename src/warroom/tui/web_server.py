"""`warroom web`: the console in a browser, one console process per browser session.

Textualize's textual-serve runs a command for every browser that connects and draws its screen
with xterm.js. The command is `warroom --sign-in --server URL`: each session asks for its own
token and gets exactly that user's permissions, because the server decides them from the token.
The web server runs as one Unix user for many people, so nothing of that user's own identity may
reach the sessions: the token variables are removed from the environment they inherit, and
`--sign-in` reads no token file, console.toml token or local token (see `warroom.tui.launch`).
All sessions reach the server from this host's address, but each is its own console process and
names itself in its handshake, so the server's sign-in throttle slows only the session that typed
wrong tokens (`warroom.server.sign_in_throttle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
from collections import Counter
from typing import Any, cast

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from warroom.node import ListenError
from warroom.tui.web_gate import ConnectionGate, session_address

HEADER_TIMEOUT = 10.0
"""Seconds a connection has to finish a request (its headers, or a websocket upgrade) once it
opens or its last request was answered: a browser sends them at once, a slowloris never does.
It is aiohttp's keep-alive timeout, which also closes a connection idle that long."""

CONSOLE_EXIT_TIMEOUT = 5.0
"""Seconds a session's console process has to exit once its browser has gone, before it is
killed: it only has to say goodbye to the server."""

HOST_IDENTITY_VARIABLES = ("WARROOM_TOKEN", "WARROOM_TOKEN_FILE")
"""The host user's token settings, which the browser sessions must not inherit."""

MAX_COLUMNS = 500
"""The widest terminal a browser session gets: a wall screen at a small font, and more. The
browser names its size (the page's query, then resize messages) before anyone has signed in, and
the console lays out and draws every cell of it: a size in the millions would take the host's
memory."""
MAX_ROWS = 200
"""The tallest terminal a browser session gets, for the same reason."""


def bounded_size(width: object, height: object) -> tuple[int, int] | None:
    """A browser's terminal size within 1..`MAX_COLUMNS` by 1..`MAX_ROWS`, or None when it is
    not two whole numbers."""
    if not (_is_whole(width) and _is_whole(height)):
        return None
    assert isinstance(width, int)
    assert isinstance(height, int)
    return min(max(width, 1), MAX_COLUMNS), min(max(height, 1), MAX_ROWS)


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _BoundedResize:
    """A session's `AppService` whose resizes are bounded (see `bounded_size`); a resize that
    is not two whole numbers is dropped rather than ending the session."""

    def __init__(self, service: AppService) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)

    async def set_terminal_size(self, width: object, height: object) -> None:
        size = bounded_size(width, height)
        if size is not None:
            await self._service.set_terminal_size(*size)


def session_command(
    server_url: str,
    *,
    theme: str | None,
    incident_id: int | None,
    sign_in_timeout: int | None = None,
) -> str:
    """The shell command textual-serve runs for each browser session (it takes a string)."""
    argv = [sys.executable, "-m", "warroom", "--sign-in", "--server", server_url]
    if sign_in_timeout is not None:
        argv += ["--sign-in-timeout", str(sign_in_timeout)]
    if theme:
        argv += ["--theme", theme]
    if incident_id is not None:
        argv += ["--incident", str(incident_id)]
    return console_shell_command(argv)


def console_shell_command(argv: list[str]) -> str:
    """`argv` as the shell command textual-serve runs, the shell replaced by the console.

    textual-serve starts a session through `sh -c`; without `exec` the shell stays the process it
    holds, so killing a console that will not quit would kill only the shell, and the shell's copy
    of the console's output would keep the session open.
    """
    return "exec " + shlex.join(argv)


class ConsoleWebServer(Server):
    """textual-serve's server, with a bound on sessions, saying on start what it serves."""

    def __init__(
        self,
        command: str,
        *,
        server_url: str,
        host: str,
        port: int,
        public_url: str | None,
        max_sessions: int,
        max_sessions_per_address: int | None = None,
    ) -> None:
        super().__init__(command, host=host, port=port, title="warroom", public_url=public_url)
        self.server_url = server_url
        """The warroom server the browser sessions connect to."""
        self.max_sessions = max_sessions
        """Sessions at once; more are refused with 503."""
        self.max_sessions_per_address = max_sessions_per_address or max_sessions
        """Sessions one browser address holds at once, so one client cannot take every place."""
        self.sessions = 0
        """Sessions running now (their console processes)."""
        self.sessions_by_address: Counter[str] = Counter()
        self.gate = ConnectionGate()
        """Open connections, bounded in all and per address (see `warroom.tui.web_gate`)."""

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        # A session starts a process before anyone has signed in: whoever can reach the page
        # could otherwise fill the host with them.
        if self.sessions >= self.max_sessions:
            raise web.HTTPServiceUnavailable(
                text=f"warroom web: {self.max_sessions} browser sessions are open, the most "
                "it runs at once; try again later"
            )
        address = session_address(request.remote or "?", request.headers.get("X-Forwarded-For"))
        if self.sessions_by_address[address] >= self.max_sessions_per_address:
            raise web.HTTPTooManyRequests(
                text=f"warroom web: {self.max_sessions_per_address} browser sessions are open "
                "from your address, the most one address may hold; close one first"
            )
        self.sessions += 1
        self.sessions_by_address[address] += 1
        try:
            width, height = bounded_size(
                _whole(request.query.get("width")), _whole(request.query.get("height"))
            ) or (80, 24)
            request = request.clone(
                rel_url=request.rel_url.update_query(width=str(width), height=str(height))
            )
            return await super().handle_websocket(request)
        finally:
            self.sessions -= 1
            self.sessions_by_address[address] -= 1
            if self.sessions_by_address[address] <= 0:
                del self.sessions_by_address[address]

    async def listen(
        self, host: str, port: int, *, header_timeout: float = HEADER_TIMEOUT
    ) -> web.AppRunner:
        """Serve on `host`:`port` until the returned runner is cleaned up.

        Raises:
            ListenError: the address is taken or not allowed.
        """
        # textual-serve's own `serve()` owns the event loop; warroom runs it inside its own
        # (the demo's server shares the loop), so the aiohttp app is run here as `serve()` does.
        runner = web.AppRunner(
            await self._make_app(), handle_signals=False, keepalive_timeout=header_timeout
        )
        await runner.setup()
        _gate_connections(runner, self.gate)
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            await runner.cleanup()
            # aiohttp rewords the error around the address; the system's own words say it.
            why = os.strerror(exc.errno).lower() if exc.errno else str(exc)
            raise ListenError(f"cannot serve the web console on {host}:{port}: {why}") from None
        return runner

    async def _process_messages(
        self, websocket: web.WebSocketResponse, app_service: AppService
    ) -> None:
        try:
            await super()._process_messages(
                websocket, cast(AppService, _BoundedResize(app_service))
            )
        finally:
            # textual-serve asks the console to quit but never waits for its process, and waits
            # for its output to end without a bound: a console that would not quit held its
            # session forever, and one slow to exit ran on past `max_sessions` once its session
            # ended. The session ends once the process has exited, killed if it must be.
            stopped = asyncio.ensure_future(app_service.stop())
            await _reaped(app_service)
            await stopped

    async def on_startup(self, app: web.Application) -> None:
        """Says nothing: textual-serve's banner would come before the port is open; warroom
        says what it serves once it listens (`announce`)."""

    def announce(self) -> None:
        # One line, flushed: people (and tests) wait for it to know the page is up.
        print(
            f"warroom web: the console for {self.server_url} on {self.public_url} "
            f"(each browser session signs in with its own token)",
            flush=True,
        )


async def _reaped(app_service: AppService) -> None:
    """Wait for a stopped session's console process to exit; kill it if it will not."""
    # textual-serve keeps the process in a private attribute; without it there is nothing to
    # wait for (tests/web/test_web_sessions_hostile.py checks that sessions' processes end).
    process = getattr(app_service, "_process", None)
    if not isinstance(process, asyncio.subprocess.Process):
        return
    try:
        async with asyncio.timeout(CONSOLE_EXIT_TIMEOUT):
            await process.wait()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


def _gate_connections(runner: web.AppRunner, gate: ConnectionGate) -> None:
    """Have `gate` count (and refuse) every connection the runner's server accepts."""
    server = runner.server
    assert server is not None
    made, lost = server.connection_made, server.connection_lost

    def connection_made(handler: Any, transport: Any) -> None:
        made(handler, transport)
        gate.admit(handler, transport)  # closed at once when refused

    def connection_lost(handler: Any, exc: BaseException | None = None) -> None:
        gate.release(handler)
        lost(handler, exc)

    # aiohttp's server has no hook for this; its handlers call these two on every connection.
    setattr(server, "connection_made", connection_made)  # noqa: B010
    setattr(server, "connection_lost", connection_lost)  # noqa: B010


def _whole(text: str | None) -> int | None:
    try:
        return int(text) if text is not None and len(text) <= 12 else None
    except ValueError:
        return None


async def serve_console(
    server_url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    public_url: str | None = None,
    theme: str | None = None,
    incident_id: int | None = None,
    max_sessions: int,
    max_sessions_per_address: int | None = None,
    sign_in_timeout: int | None = None,
) -> None:
    """Serve the console to browsers until SIGINT or SIGTERM.

    Raises:
        ListenError: the address is taken or not allowed.

    Args:
        server_url: The warroom server every browser session connects to.
        host, port: Where the web page listens (127.0.0.1 by default: put a TLS proxy in front).
        public_url: The address browsers use, when it is not http://host:port (behind a proxy,
            e.g. https://warroom.example.org/console); the page names its websocket from it.
        theme: The console's theme in every session.
        incident_id: Open this incident after sign-in (the demo's).
        max_sessions: Browser sessions at once; more are refused until one ends.
        max_sessions_per_address: Browser sessions one address holds at once (None: no bound
            but `max_sessions`).
        sign_in_timeout: Seconds a session may sit at the sign-in screen without typing
            before its console ends and its place is free (None: no bound).
    """
    for name in HOST_IDENTITY_VARIABLES:
        os.environ.pop(name, None)
    command = session_command(
        server_url, theme=theme, incident_id=incident_id, sign_in_timeout=sign_in_timeout
    )
    server = ConsoleWebServer(
        command,
        server_url=server_url,
        host=host,
        port=port,
        public_url=public_url,
        max_sessions=max_sessions,
        max_sessions_per_address=max_sessions_per_address,
    )
    runner = await server.listen(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        server.announce()
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):
                loop.remove_signal_handler(signum)
        # Closing the browsers' sockets ends every session's console process.
        await runner.cleanup()
