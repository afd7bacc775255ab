"""Real clients for the tests: started as new users of a node, closed when the test ends, and
the incident most tests begin by declaring."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from warroom.client.session import WarroomClient, new_id
from warroom.domain.commands import DeclareIncident

ClientAs = Callable[[str, str], Awaitable[WarroomClient]]
"""`client_as(url, name)`: a started client of the node at `url`, signed in as the new user
`name`."""


@pytest.fixture
async def client_as(add_user: Callable[[str], Awaitable[str]]) -> AsyncIterator[ClientAs]:
    """Start clients as new users of a node; every one is closed when the test ends, passed or
    failed."""
    started: list[WarroomClient] = []

    async def start(url: str, name: str) -> WarroomClient:
        client = WarroomClient(url, await add_user(name))
        started.append(client)
        await client.start()
        return client

    yield start
    for client in started:
        await client.close()


async def declare(client: WarroomClient, title: str, severity: int = 3) -> int:
    """Declare an incident through `client` (who becomes its IC); its id."""
    ack = await client.execute(DeclareIncident(id=new_id(), title=title, severity=severity))
    return ack.incident_id
