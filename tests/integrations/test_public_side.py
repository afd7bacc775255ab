"""The public side on a real server: the internal title never reaches `/status.json` or
Statuspage, and resolving offers the IC a prepared "resolved" update that, once approved, closes
the status page, the folder and the Statuspage incident (recorded by a stand-in server)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.client_sync import caught_up, until
from tests.support.public_room import ic_and_cl, publishing
from tests.support.recording_server import RecordedRequest, RecordingServer, Reply
from warroom.client.session import CommandRefused, WarroomClient, new_id
from warroom.domain.commands import (
    ApproveExternalUpdate,
    DraftExternalUpdate,
    RejectExternalUpdate,
    SetPhase,
)
from warroom.domain.communications import DraftStatus, ExternalUpdate, PublicState
from warroom.domain.errors import ErrorCode
from warroom.domain.events import SERVER_ACTOR
from warroom.domain.phase import Phase
from warroom.node import WarroomNode

INTERNAL_TITLE = "Checkout 5xx error rate above 5% <!channel> & co"
"""Written by responders for responders; it must never be published."""
PUBLIC_TITLE = "Card payments degraded"
COMPONENT_IDS = {"Checkout": "cmp-chk", "Card payments": "cmp-pay"}

# Statuspage's documented incident fields (developer.statuspage.io, "Create an incident" and
# "Update an incident"): what warroom may send, and the values each one takes.
INCIDENT_FIELDS = {"name", "status", "body", "component_ids", "components"}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved"}
COMPONENT_STATUSES = {
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
}


def documented_incident(request: RecordedRequest) -> dict[str, Any]:
    """The `incident` object of a create or update request, checked against the API's fields."""
    body = request.json()
    assert set(body) == {"incident"}
    incident: dict[str, Any] = body["incident"]
    assert set(incident) <= INCIDENT_FIELDS, set(incident) - INCIDENT_FIELDS
    assert incident["status"] in INCIDENT_STATUSES
    assert isinstance(incident["name"], str)
    assert isinstance(incident["body"], str)
    assert set(incident.get("components", {}).values()) <= COMPONENT_STATUSES
    assert set(incident.get("components", {})) == set(incident.get("component_ids", []))
    return incident


@dataclass
class Room:
    server: WarroomNode
    ic: WarroomClient
    cl: WarroomClient
    incident: int
    folder: Path

    async def page(self, path: str = "/status.json") -> httpx.Response:
        async with httpx.AsyncClient(trust_env=False) as http:
            return await http.get(f"http://127.0.0.1:{self.server.port}{path}")

    async def draft(self, text: str, **fields: Any) -> int:
        command = DraftExternalUpdate(id=new_id(), incident_id=self.incident, text=text, **fields)
        return (await self.cl.execute(command)).seq

    async def approve(self, draft_id: int) -> None:
        await self.ic.execute(
            ApproveExternalUpdate(id=new_id(), incident_id=self.incident, draft_id=draft_id)
        )
        await caught_up(self.ic, self.server, self.incident)

    async def resolve(self) -> None:
        phase = self.ic.states[self.incident].incident.phase
        await self.ic.execute(
            SetPhase(
                id=new_id(),
                incident_id=self.incident,
                phase=Phase.RESOLVED,
                expected=phase,
                reason="rollback complete",
            )
        )

    async def prepared_draft(self) -> ExternalUpdate:
        """The resolved update the server drafts after the resolve, as it arrives."""

        def prepared() -> ExternalUpdate | None:
            updates = self.ic.states[self.incident].external_updates
            return next((u for u in updates if u.drafted_by == SERVER_ACTOR), None)

        await until(self.ic, lambda: prepared() is not None, what="the prepared resolved draft")
        draft = prepared()
        assert draft is not None
        return draft


@pytest.fixture
def statuspage() -> Iterator[RecordingServer]:
    with RecordingServer(Reply(201, {"id": "sp-incident-1"})) as running:
        yield running


@pytest.fixture
async def room(db_path: Path, tmp_path: Path, statuspage: RecordingServer) -> AsyncIterator[Room]:
    folder = tmp_path / "public"
    config = publishing(folder, statuspage.url, component_ids=COMPONENT_IDS)
    async with ic_and_cl(db_path, config, INTERNAL_TITLE) as (server, ic, cl, incident):
        yield Room(server, ic, cl, incident, folder)


def assert_never_published(room: Room, statuspage: RecordingServer, *documents: str) -> None:
    for document in documents:
        assert INTERNAL_TITLE not in document
        assert "Checkout 5xx" not in document
    for request in statuspage.requests:
        assert "Checkout 5xx" not in request.body.decode()


async def test_a_draft_without_a_public_title_is_refused_and_nothing_is_published(
    room: Room, statuspage: RecordingServer
) -> None:
    with pytest.raises(CommandRefused) as refused:
        await room.draft("We are looking into failed payments.", state="investigating",
                         components=["Checkout"])  # fmt: skip
    assert refused.value.code is ErrorCode.INVALID
    assert "'Degraded performance: Checkout'" in refused.value.message
    assert INTERNAL_TITLE not in refused.value.message
    await caught_up(room.ic, room.server, room.incident)
    assert room.ic.states[room.incident].external_updates == []
    document = (await room.page()).json()
    assert document["incidents"] == []
    assert statuspage.requests == []


async def test_later_drafts_keep_the_public_title_on_the_page_and_on_statuspage(
    room: Room, statuspage: RecordingServer
) -> None:
    first = await room.draft("Some card payments fail.", title=PUBLIC_TITLE,
                             state="investigating", components=["Checkout"])  # fmt: skip
    await room.approve(first)
    # A later draft brings no title: it keeps the published one, never the internal one.
    second = await room.draft("The cause is found.", state="identified", components=["Checkout"])
    await room.approve(second)
    kept = room.ic.states[room.incident].external_update(second)
    assert kept is not None
    assert kept.title == PUBLIC_TITLE

    document = (await room.page()).text
    assert json.loads(document)["incidents"][0]["title"] == PUBLIC_TITLE
    create, update = statuspage.requests
    assert (create.method, update.method) == ("POST", "PATCH")
    assert documented_incident(create)["name"] == PUBLIC_TITLE
    assert documented_incident(update)["name"] == PUBLIC_TITLE
    assert documented_incident(update)["status"] == "identified"
    html = (await room.page("/status")).text
    folder = (room.folder / "status.json").read_text()
    assert_never_published(room, statuspage, document, html, folder)

    # Changed on purpose: the new title is what the public sees from then on.
    third = await room.draft("A fix is rolling out.", title="Card payments recovering",
                             state="monitoring", components=["Checkout"])  # fmt: skip
    await room.approve(third)
    assert documented_incident(statuspage.requests[-1])["name"] == "Card payments recovering"
    assert (await room.page()).json()["incidents"][0]["title"] == "Card payments recovering"


async def test_resolving_offers_a_resolved_update_that_closes_every_public_side(
    room: Room, statuspage: RecordingServer
) -> None:
    first = await room.draft("Card payments fail.", title=PUBLIC_TITLE, state="identified",
                             components=["Checkout", "Card payments"])  # fmt: skip
    await room.approve(first)
    second = await room.draft("Checkout is still slow.", state="monitoring",
                              components=["Checkout"])  # fmt: skip
    await room.approve(second)
    assert (await room.page()).json()["status"] == "major_outage"
    assert documented_incident(statuspage.requests[0])["components"] == {
        "cmp-chk": "major_outage",
        "cmp-pay": "major_outage",
    }

    await room.resolve()
    draft = await room.prepared_draft()
    # Prepared, not published: it waits for the IC like any other draft.
    assert draft.status is DraftStatus.PENDING
    assert (draft.title, draft.state) == (PUBLIC_TITLE, PublicState.RESOLVED)
    assert draft.components == ["Checkout", "Card payments"]  # every component ever named
    assert draft.text == (
        "This incident has been resolved. Checkout, Card payments are operating normally."
    )
    await caught_up(room.ic, room.server, room.incident)
    assert len(statuspage.requests) == 2
    assert (await room.page()).json()["incidents"][0]["state"] == "monitoring"

    await room.approve(draft.id)
    document = (await room.page()).json()
    assert document["status"] == "operational"
    [public] = document["incidents"]
    assert (public["state"], public["active"], public["title"]) == ("resolved", False, PUBLIC_TITLE)
    assert json.loads((room.folder / "status.json").read_text())["incidents"][0]["state"] == (
        "resolved"
    )
    closing = statuspage.requests[-1]
    assert (closing.method, closing.path) == ("PATCH", "/v1/pages/page1/incidents/sp-incident-1")
    incident = documented_incident(closing)
    assert incident["status"] == "resolved"
    assert incident["name"] == PUBLIC_TITLE
    assert incident["component_ids"] == ["cmp-chk", "cmp-pay"]
    assert incident["components"] == {"cmp-chk": "operational", "cmp-pay": "operational"}
    assert_never_published(room, statuspage, json.dumps(document))


async def test_the_ic_may_decline_the_prepared_update_and_nothing_is_sent(
    room: Room, statuspage: RecordingServer
) -> None:
    first = await room.draft("Card payments fail.", title=PUBLIC_TITLE, state="identified",
                             components=["Checkout"])  # fmt: skip
    await room.approve(first)
    await room.resolve()
    draft = await room.prepared_draft()
    await room.ic.execute(
        RejectExternalUpdate(id=new_id(), incident_id=room.incident, draft_id=draft.id,
                             comment="the page is closed by the vendor's own notice")
    )  # fmt: skip
    await caught_up(room.ic, room.server, room.incident)
    assert [r.method for r in statuspage.requests] == ["POST"]
    # Asking again (as a restart does) prepares nothing: the IC declined on purpose.
    assert await room.server.integrations.status.prepare_resolutions() == 0
