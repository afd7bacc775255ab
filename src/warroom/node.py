"""The composition root: builds one warroom node (store, sequencer, integrations, websocket server),
wires them together and takes them down in order. The CLI, the embedded console server, the demo,
the tests and the benchmarks all start a server through `start_node`, and nothing below this module
knows how the parts fit together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Self

from warroom.config import ServerConfig
from warroom.domain.projection import ProjectionError
from warroom.integrations.setup import Integrations
from warroom.server.app import ServerSettings, WarroomServer
from warroom.server.auth import Authenticator
from warroom.server.hub import Clock, Hub, utc_now
from warroom.store.base import StoreError
from warroom.store.open import Store, describe, open_store

log = logging.getLogger(__name__)


class WarroomNode:
    """A running node bound to one database. Use `async with await start_node(...)`."""

    def __init__(
        self,
        store: Store,
        hub: Hub,
        integrations: Integrations,
        server: WarroomServer,
        config: ServerConfig,
    ) -> None:
        self.store = store
        self.hub = hub
        self.integrations = integrations
        self.server = server
        self.config = config
        self._hub_task = asyncio.create_task(hub.run(), name="warroom-sequencer")

    @property
    def auth(self) -> Authenticator:
        return self.server.auth

    @property
    def settings(self) -> ServerSettings:
        return self.server.settings

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    async def close(self) -> None:
        """Stop accepting, close every connection (1001 going away), stop the integrations, let
        the sequencer finish its turn, then close the database."""
        await self.server.close()
        await self.integrations.close()
        self._hub_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._hub_task
        await self.store.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def start_node(
    db_path: Path | str,
    settings: ServerSettings | None = None,
    *,
    clock: Clock = utc_now,
    config: ServerConfig | None = None,
) -> WarroomNode:
    """Open the database, rebuild the incidents, start the integrations and listen.

    `db_path` is a SQLite file, or a `postgresql://` URL (password from the config's
    `db_password_file` or the `PG*` environment).

    Raises:
        StoreError: the database cannot be opened or holds a damaged event log.
    """
    settings = settings or ServerSettings()
    config = config or ServerConfig()
    store = await open_store(db_path, password_file=config.db_password_file)
    try:
        auth = Authenticator(store)
        await auth.refresh()
        hub = Hub(store, auth, clock)
        await hub.load()
    except ProjectionError as exc:
        await store.close()
        raise StoreError(
            f"{describe(store)} holds a damaged event log ({exc}); restore it from a backup"
        ) from None
    except BaseException:
        await store.close()
        raise
    # An injected clock means the caller drives time, so nothing may run on wall-clock timers.
    integrations = await Integrations.start(hub, store, config, clock, timers=clock is utc_now)
    server = WarroomServer(
        hub, auth, settings, links=config.links, status_pages=integrations.status
    )
    node = WarroomNode(store, hub, integrations, server, config)
    try:
        await server.listen()
    except BaseException:
        await node.close()
        raise
    return node


async def serve_until_signalled(
    db_path: Path | str,
    settings: ServerSettings,
    config: ServerConfig,
    ready: Callable[[WarroomNode], Awaitable[None]] | None = None,
) -> None:
    """Run a node until SIGTERM or SIGINT, then shut down cleanly."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    node = await start_node(db_path, settings, config=config)
    try:
        if ready is not None:
            await ready(node)
        await stop.wait()
        log.info("shutting down")
    finally:
        await node.close()
