"""Starts the console from the command line: connects to the named server, or to (or embeds)
the private local one, then runs the app."""

from __future__ import annotations

import argparse
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path

from warroom.client.outbox import Outbox
from warroom.client.session import ClientError, WarroomClient
from warroom.config import ServerConfig
from warroom.console_config import client_token, load_console_config
from warroom.demo import seed_demo
from warroom.demo_data import DEMO_LINKS
from warroom.local import (
    choose_server,
    ensure_local_token,
    local_server,
    local_user_name,
    server_answers,
)
from warroom.node import start_node
from warroom.paths import default_db, outbox_file
from warroom.server.app import ServerSettings
from warroom.tui.app import WarroomApp, make_app
from warroom.tui.commands_table import BINDING_IDS
from warroom.tui.replay_app import make_replay_app
from warroom.users import create_user


async def launch_tui(args: argparse.Namespace, *, demo: bool) -> int:
    """Run the console until the user quits; returns the exit status."""
    async with AsyncExitStack() as stack:
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
    if demo:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="warroom-demo-")))
        db = workdir / "demo.db"
        demo_config = ServerConfig(links=DEMO_LINKS)
        server = await start_node(db, ServerSettings(port=0), config=demo_config)
        stack.push_async_callback(server.close)
        you = local_user_name()
        token = await create_user(db, you)
        incident_id = await seed_demo(server, db, you, token)
        url = server.url
        reachable = True
    else:
        choice = choose_server(args.server, settings.server)
        url = choice.url
        token = client_token(args.token, args.token_file, settings)
        if choice.named:
            reachable = await server_answers(url)
        else:
            url, embedded = await local_server(default_db())
            if embedded is not None:
                stack.push_async_callback(embedded.close)
            token = token or await ensure_local_token(default_db())
            reachable = True
        if not token:
            raise ClientError(
                f"no token for {url}: pass --token-file FILE or set WARROOM_TOKEN_FILE "
                "(the server's admin creates one with `warroom user add NAME`)"
            )
    client = WarroomClient(url, token, outbox=Outbox(outbox_file(url, token)))
    # With a server answering, a bad token should fail now with one clear line; without one,
    # the console opens anyway and works offline until the server is back.
    await client.start(wait=reachable)
    stack.push_async_callback(client.close)
    return make_app(
        client,
        incident_id=incident_id,
        theme=getattr(args, "theme", None) or settings.theme,
        keymap=settings.keys,
    )
