"""A node that publishes (a status page folder and a Statuspage-compatible API, recorded by a
stand-in server) with an IC's and a CL's console on one declared incident: the set-up of the
external-update tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.config import ServerConfig
from warroom.domain.commands import AssignRole, DeclareIncident
from warroom.node import WarroomNode, start_node
from warroom.users import create_user


def publishing(folder: Path, statuspage_url: str, **statuspage: Any) -> ServerConfig:
    """The status page written to `folder`, and Statuspage at `statuspage_url` (page1, two
    attempts, no delay), with any more `statuspage` settings."""
    return ServerConfig.model_validate(
        {
            "status_page": {"folder": str(folder)},
            "statuspage": {
                "api_url": f"{statuspage_url}/v1",
                "page_id": "page1",
                "api_key": "k3y",
                **statuspage,
                "retry": {"max_attempts": 2, "initial_delay": 0},
            },
        }
    )


@asynccontextmanager
async def ic_and_cl(
    db_path: Path, config: ServerConfig, title: str
) -> AsyncIterator[tuple[WarroomNode, WarroomClient, WarroomClient, int]]:
    """The node with alice's console (IC: she declares a SEV1 titled `title` and follows it) and
    dana's (its CL); the consoles are closed on leaving."""
    ic_token = await create_user(db_path, "alice")
    cl_token = await create_user(db_path, "dana")
    async with await start_node(db_path, TEST_SETTINGS, config=config) as server:
        ic, cl = WarroomClient(server.url, ic_token), WarroomClient(server.url, cl_token)
        try:
            await ic.start()
            await cl.start()
            declared = DeclareIncident(id=new_id(), title=title, severity=1)
            incident = (await ic.execute(declared)).incident_id
            await ic.execute(AssignRole(id=new_id(), incident_id=incident, role="cl", user="dana"))
            await ic.follow(incident)
            yield server, ic, cl, incident
        finally:
            await ic.close()
            await cl.close()
