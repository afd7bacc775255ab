"""Two sequencers (hubs) on one PostgreSQL database with no fan-out between them: what the
second hears of the first is only what a test hands it, or what it reads back itself."""

from __future__ import annotations

import asyncio

from warroom.server.auth import Authenticator
from warroom.server.hub import Hub
from warroom.store.postgres import PostgresStore
from warroom.store.url import parse_postgres_url


async def two_hubs(
    pg_url: str, second_url: str | None = None
) -> tuple[list[PostgresStore], list[Hub], list[asyncio.Task[None]]]:
    """Each hub on a store of its own, loaded from the database and running; close them with
    `close_hubs`. The second reaches the database by `second_url` if given (a proxy)."""
    url = parse_postgres_url(pg_url)
    second = url if second_url is None else parse_postgres_url(second_url)
    stores = [await PostgresStore.open(url), await PostgresStore.open(second)]
    hubs: list[Hub] = []
    tasks: list[asyncio.Task[None]] = []
    for store in stores:
        auth = Authenticator(store)
        await auth.refresh()
        hub = Hub(store, auth)
        await hub.load()
        hubs.append(hub)
        tasks.append(asyncio.create_task(hub.run()))
    return stores, hubs, tasks


async def close_hubs(stores: list[PostgresStore], tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for store in stores:
        await store.close()
