"""Two nodes on one PostgreSQL database for the cluster's triage tests: started in process,
optionally taking Alertmanager's webhook over HTTP, with a console on each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient
from warroom.config import ServerConfig
from warroom.node import WarroomNode, start_node
from warroom.server.http_endpoints import WEBHOOK_PATH, HttpSettings
from warroom.users import create_user

TOKEN = "webhook-secret-for-the-cluster-tests"


def notification(fingerprint: str, name: str) -> dict[str, Any]:
    """Alertmanager's webhook notification (version 4) of one alert that started firing."""
    started = datetime.now(UTC) - timedelta(minutes=1)
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "status": "firing",
        "receiver": "warroom",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": name, "severity": "critical"},
                "annotations": {"summary": f"{name} on {fingerprint}"},
                "startsAt": started.isoformat(),
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": fingerprint,
            }
        ],
    }


async def _start(pg_url: str, webhook: bool) -> WarroomNode:
    if not webhook:
        return await start_node(pg_url, TEST_SETTINGS)
    config = ServerConfig.model_validate({"alertmanager": {"webhook_token": TOKEN}})
    return await start_node(pg_url, TEST_SETTINGS, config=config, http=HttpSettings(port=0))


@asynccontextmanager
async def two_nodes(
    pg_url: str, *, webhook: bool = True
) -> AsyncIterator[tuple[WarroomNode, WarroomNode]]:
    """Nodes A and B on the database; with `webhook`, each takes Alertmanager's notifications
    on an HTTP port of its own (see `deliver`)."""
    a = await _start(pg_url, webhook)
    try:
        b = await _start(pg_url, webhook)
        try:
            yield a, b
        finally:
            await b.close()
    finally:
        await a.close()


@asynccontextmanager
async def consoles_on_two_nodes(
    pg_url: str, *, webhook: bool = True
) -> AsyncIterator[tuple[WarroomNode, WarroomNode, WarroomClient, WarroomClient]]:
    """`two_nodes` with alice's console started on node A and bob's on node B."""
    tokens = [await create_user(pg_url, name) for name in ("alice", "bob")]
    async with two_nodes(pg_url, webhook=webhook) as (a, b):
        on_a, on_b = WarroomClient(a.url, tokens[0]), WarroomClient(b.url, tokens[1])
        try:
            for client in (on_a, on_b):
                await client.start()
            yield a, b, on_a, on_b
        finally:
            for client in (on_a, on_b):
                await client.close()


async def deliver(node: WarroomNode, body: dict[str, Any]) -> None:
    """Post a notification to the node's webhook, as Alertmanager does; it must be taken."""
    assert node.http is not None
    async with httpx.AsyncClient(base_url=node.http.url, timeout=10) as http:
        reply = await http.post(
            WEBHOOK_PATH, json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        )
    assert reply.status_code == 200, reply.text
