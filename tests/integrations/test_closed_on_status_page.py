"""The public status page keeps listing recently resolved incidents after their post-mortem is
marked done, when they have left the server's memory and after a restart."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.config import HistorySettings, ServerConfig
from warroom.domain.commands import (
    ApproveExternalUpdate,
    DeclareIncident,
    DraftExternalUpdate,
    SetPhase,
)
from warroom.domain.phase import Phase
from warroom.node import WarroomNode, start_node
from warroom.users import create_user

QUICK_TO_FORGET = ServerConfig(history=HistorySettings(idle_minutes=1e-9))
"""A closed incident leaves memory as soon as nobody follows it."""


async def public_titles(server: WarroomNode) -> list[tuple[str, str, bool]]:
    async with httpx.AsyncClient(trust_env=False) as http:
        reply = await http.get(f"http://127.0.0.1:{server.port}/status.json")
    return [(i["title"], i["state"], i["active"]) for i in reply.json()["incidents"]]


async def close_with_public_update(client: WarroomClient) -> int:
    incident = (
        await client.execute(DeclareIncident(id=new_id(), title="internal: db01 died", severity=2))
    ).incident_id
    draft = await client.execute(
        DraftExternalUpdate(
            id=new_id(),
            incident_id=incident,
            title="Checkout errors",
            text="Some checkouts fail; we are on it.",
            state="investigating",
            components=["Checkout"],
        )
    )
    await client.execute(
        ApproveExternalUpdate(id=new_id(), incident_id=incident, draft_id=draft.seq)
    )
    for phase, expected in (
        (Phase.RESOLVED, Phase.DECLARED),
        (Phase.POSTMORTEM_DONE, Phase.RESOLVED),
    ):
        await client.execute(
            SetPhase(id=new_id(), incident_id=incident, phase=phase, expected=expected)
        )
    return incident


async def test_a_closed_incident_stays_on_the_status_page_out_of_memory_and_after_restart(
    db_path: Path,
) -> None:
    token = await create_user(db_path, "alice")
    async with await start_node(db_path, TEST_SETTINGS, config=QUICK_TO_FORGET) as first:
        alice = WarroomClient(first.url, token)
        await alice.start()
        incident = await close_with_public_update(alice)
        first.hub.sweep()
        await alice.list_incidents()  # answered after the sweep queued before it
        assert first.hub.incident_state(incident) is None, "the closed incident left memory"
        assert await public_titles(first) == [("Checkout errors", "investigating", False)]
        await alice.close()

    async with await start_node(db_path, TEST_SETTINGS, config=QUICK_TO_FORGET) as second:
        assert second.hub.incident_state(incident) is None  # not loaded at start
        await second.integrations.status.closed_loaded.wait()
        assert await public_titles(second) == [("Checkout errors", "investigating", False)]
