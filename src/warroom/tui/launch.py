"""Starts the console from the command line: finds or embeds a server, then runs the app."""

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
    ensure_local_token,
    is_local,
    local_user_name,
    saved_local_token,
    server_answers,
    start_embedded,
)
from warroom.node import start_node
from warroom.paths import DEFAULT_SERVER, default_db, outbox_file
from warroom.server.app import ServerSettings
from warroom.tui.app import make_app
from warroom.tui.commands_table import BINDING_IDS
from warroom.users import create_user


async def launch_tui(args: argparse.Namespace, *, demo: bool) -> int:
    """Run the console until the user quits; returns the exit status."""
    settings = load_console_config(binding_ids=BINDING_IDS)
    async with AsyncExitStack() as stack:
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
            # The command line wins, then WARROOM_SERVER, then console.toml, then the default.
            url = args.server or settings.server or DEFAULT_SERVER
            reachable = await server_answers(url)
            token = client_token(args.token, args.token_file, settings)
            if not reachable and is_local(url):
                embedded = await start_embedded(url, default_db())
                stack.push_async_callback(embedded.close)
                token = token or await ensure_local_token(default_db())
                reachable = True
            token = token or saved_local_token()
            if not token:
                raise ClientError(
                    f"no token for {url}: pass --token-file FILE or set WARROOM_TOKEN_FILE "
                    "(the server's admin creates one with `warroom user add NAME`)"
                )
        assert token is not None
        client = WarroomClient(url, token, outbox=Outbox(outbox_file(url, token)))
        # With a server answering, a bad token should fail now with one clear line; without one,
        # the console opens anyway and works offline until the server is back.
        await client.start(wait=reachable)
        stack.push_async_callback(client.close)
        app = make_app(
            client,
            incident_id=incident_id,
            theme=getattr(args, "theme", None) or settings.theme,
            keymap=settings.keys,
        )
        await app.run_async()
        return app.return_code or 0
    return 0
