"""Starts the console from the command line: connects to the named server, or to (or embeds)
the private local one, then runs the app; or, with `--sign-in` (each browser session of
`warroom web`), asks for the token on screen and keeps it in memory only."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path

from warroom.client.outbox import Outbox
from warroom.client.session import ClientError, Unreachable, WarroomClient
from warroom.config import ServerConfig
from warroom.console_config import client_token, load_console_config
from warroom.demo import PlayedInClock, seed_demo
from warroom.demo_data import DEMO_LINKS
from warroom.local import (
    SharedLocalServer,
    any_server_answers,
    choose_server,
    ensure_local_token,
    local_server,
    local_user_name,
)
from warroom.node import start_node
from warroom.paths import default_db, outbox_file
from warroom.server.app import ServerSettings
from warroom.tui.app import WarroomApp, make_app, make_sign_in_app
from warroom.tui.commands_table import BINDING_IDS
from warroom.tui.replay_app import make_replay_app
from warroom.users import create_user

SIGN_IN_PATIENCE = 15.0
"""Seconds the sign-in screen waits for the server to accept or refuse a token."""


async def launch_tui(args: argparse.Namespace, *, demo: bool) -> int:
    """Run the console until the user quits; returns the exit status."""
    async with AsyncExitStack() as stack:
        if demo and getattr(args, "web", False):
            await serve_demo_in_browser(args, stack)
            return 0
        app = await open_console(args, stack, demo=demo)
        if demo and getattr(args, "replay", False):
            # `warroom demo --replay`: the demo incident's replay, from its first event.
            assert app.start_incident is not None
            events = await app.client.read_log(app.start_incident)
            replay = make_replay_app(events, at=1, theme=getattr(args, "theme", None))
            await replay.run_async()
            return replay.return_code or 0
        await app.run_async()
        return app.return_code or 0
    return 0


async def open_console(
    args: argparse.Namespace, stack: AsyncExitStack, *, demo: bool
) -> WarroomApp:
    """The console for these arguments, its client started; `stack` closes what was opened.

    A server the user named is the only one used: when it does not answer, the console opens
    anyway, says it cannot reach it, keeps retrying and keeps what is typed in the outbox. Only
    without a named server does it start the local server in this process.
    """
    settings = load_console_config(binding_ids=BINDING_IDS)
    incident_id: int | None = getattr(args, "incident", None)
    token: str | None
    shared: SharedLocalServer | None = None
    if getattr(args, "sign_in", False):
        return _sign_in_console(args, stack)
    if demo:
        url, token, incident_id = await start_demo(stack)
        reachable = True
    else:
        choice = choose_server(args.server, settings.server)
        url = choice.url
        token = client_token(args.token, args.token_file, settings)
        if choice.named:
            reachable = await any_server_answers(url)
        else:
            url, embedded = await local_server(default_db())
            if embedded is not None:
                shared = SharedLocalServer(embedded)
                # Runs after this console's client has closed (the stack unwinds in reverse).
                stack.push_async_callback(shared.close_when_unused)
            token = token or await ensure_local_token(default_db())
            reachable = True
        if not token:
            raise ClientError(
                f"no token for {url}: pass --token-file FILE or set WARROOM_TOKEN_FILE "
                "(the server's admin creates one with `warroom user add NAME`)"
            )
    client = WarroomClient(
        url,
        token,
        outbox=Outbox(outbox_file(url, token)),
        max_frame_mib=settings.max_frame_mib,
    )
    # With a server answering, a bad token should fail now with one clear line; without one,
    # the console opens anyway and works offline until the server is back.
    # The incident asked for is followed from the handshake on: its catch-up arrives while the
    # console is still being built.
    await client.start(wait=reachable, follow=[incident_id] if incident_id is not None else [])
    stack.push_async_callback(client.close)
    if shared is not None:
        # Runs just before the client closes, while its connection still counts.
        stack.callback(shared.own_console_closing)
    return make_app(
        client,
        incident_id=incident_id,
        theme=getattr(args, "theme", None) or settings.theme,
        keymap=settings.keys,
    )


async def start_demo(stack: AsyncExitStack) -> tuple[str, str, int]:
    """The demo's own server on a throw-away database, with the SEV1 played in; returns its
    address, the token of the person running the demo, and the incident's id."""
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="warroom-demo-")))
    db = workdir / "demo.db"
    clock = PlayedInClock()
    server = await start_node(
        db, ServerSettings(port=0), clock=clock, timers=True, config=ServerConfig(links=DEMO_LINKS)
    )
    stack.push_async_callback(server.close)
    you = local_user_name()
    token = await create_user(db, you)
    incident_id = await seed_demo(server, db, you, token, clock)
    return server.url, token, incident_id


async def serve_demo_in_browser(args: argparse.Namespace, stack: AsyncExitStack) -> None:
    """`warroom demo --web`: the demo's server, and the console on it for browsers until
    Ctrl+C. The demo's token is printed: the database is thrown away when the demo ends."""
    # Here, not at the top: aiohttp would slow every console's start for the demo's sake.
    from warroom.tui.web_server import serve_console

    url, token, incident_id = await start_demo(stack)
    print(f"warroom demo: open the address below in a browser; sign in with the token {token}")
    await serve_console(
        url,
        host=args.host,
        port=args.port,
        theme=getattr(args, "theme", None),
        incident_id=incident_id,
        max_sessions=args.max_sessions,
        max_sessions_per_address=args.max_sessions_per_address,
        sign_in_timeout=args.sign_in_timeout,
    )


def _sign_in_console(args: argparse.Namespace, stack: AsyncExitStack) -> WarroomApp:
    """The console of one browser session: the token is typed on the sign-in screen and kept
    in this process only. No token is read from the flags, the environment, console.toml or
    the local user's data (they are the host's, not the person's in the browser), and writes
    are kept in memory, not in an outbox file in the host's data folder."""
    if args.token or args.token_file:
        raise ClientError("--sign-in asks for the token on screen: drop --token and --token-file")
    settings = load_console_config(binding_ids=BINDING_IDS)
    choice = choose_server(args.server, settings.server)
    if not choice.named:
        raise ClientError("--sign-in needs the server to sign in to: pass --server URL")

    async def connect(token: str) -> WarroomClient:
        client = WarroomClient(choice.url, token, max_frame_mib=settings.max_frame_mib)
        try:
            # Bounded: the person at the sign-in screen must hear back, even from a server
            # that accepts the connection and never answers.
            async with asyncio.timeout(SIGN_IN_PATIENCE):
                await client.start(wait=True)
        except TimeoutError:
            await client.close()
            raise Unreachable(
                f"{choice.url} did not answer within {SIGN_IN_PATIENCE:g} s"
            ) from None
        except ClientError:
            await client.close()
            raise
        stack.push_async_callback(client.close)
        return client

    return make_sign_in_app(
        choice.url,
        connect,
        incident_id=args.incident,
        theme=args.theme or settings.theme,
        keymap=settings.keys,
        idle_timeout=args.sign_in_timeout,
    )
