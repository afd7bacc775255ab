"""External updates: a CL cannot publish; an approved update appears on /status, a rejected one
never does; approved updates also go to a Statuspage-compatible API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client_sync import caught_up
from tests.support.public_room import ic_and_cl, publishing
from tests.support.recording_server import RecordingServer, Reply
from warroom.client.session import CommandRefused, WarroomClient, new_id
from warroom.domain.commands import (
    ApproveExternalUpdate,
    DraftExternalUpdate,
    RejectExternalUpdate,
)
from warroom.domain.errors import ErrorCode
from warroom.node import WarroomNode


@pytest.fixture
def statuspage() -> Iterator[RecordingServer]:
    with RecordingServer(Reply(201, {"id": "sp-incident-1"})) as running:
        yield running


@pytest.fixture
async def room(
    db_path: Path, tmp_path: Path, statuspage: RecordingServer
) -> AsyncIterator[tuple[WarroomNode, WarroomClient, WarroomClient, int]]:
    config = publishing(tmp_path / "public", statuspage.url)
    async with ic_and_cl(db_path, config, "payments-db primary lost") as running:
        yield running


async def status_page(server: WarroomNode, path: str = "/status") -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False) as http:
        return await http.get(f"http://127.0.0.1:{server.port}{path}")


def draft(incident: int, text: str) -> DraftExternalUpdate:
    return DraftExternalUpdate(
        id=new_id(),
        incident_id=incident,
        title="Card payments degraded",
        text=text,
        state="investigating",
        components=["Checkout"],
    )


async def test_cl_drafts_but_cannot_publish(
    room: tuple[WarroomNode, WarroomClient, WarroomClient, int],
) -> None:
    server, _, cl, incident = room
    draft_id = (await cl.execute(draft(incident, "We are looking into failed payments."))).seq
    with pytest.raises(CommandRefused) as refused:
        await cl.execute(
            ApproveExternalUpdate(id=new_id(), incident_id=incident, draft_id=draft_id)
        )
    assert refused.value.code is ErrorCode.FORBIDDEN
    page = await status_page(server)
    assert page.status_code == 200
    assert "We are looking into failed payments." not in page.text
    assert "payments-db primary lost" not in page.text  # internal titles never leak


async def test_approved_update_appears_and_rejected_never_does(
    room: tuple[WarroomNode, WarroomClient, WarroomClient, int],
    tmp_path: Path,
    statuspage: RecordingServer,
) -> None:
    server, ic, cl, incident = room
    rejected = (await cl.execute(draft(incident, "Database is on fire <script>x</script>"))).seq
    await ic.execute(
        RejectExternalUpdate(
            id=new_id(), incident_id=incident, draft_id=rejected, comment="too much detail"
        )
    )
    approved = (await cl.execute(draft(incident, "Some card payments are failing."))).seq
    await ic.execute(ApproveExternalUpdate(id=new_id(), incident_id=incident, draft_id=approved))
    await caught_up(ic, server, incident)

    page = await status_page(server)
    assert "Some card payments are failing." in page.text
    assert "Card payments degraded" in page.text
    assert "on fire" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    document = (await status_page(server, "/status.json")).json()
    assert [u["text"] for i in document["incidents"] for u in i["updates"]] == [
        "Some card payments are failing."
    ]
    assert document["status"] == "major_outage"
    assert "Some card payments are failing." in (tmp_path / "public" / "index.html").read_text()

    [create] = statuspage.requests
    assert (create.method, create.path) == ("POST", "/v1/pages/page1/incidents")
    assert create.headers["authorization"] == "OAuth k3y"
    assert create.json()["incident"]["body"] == "Some card payments are failing."
    texts = [e.text for e in ic.states[incident].timeline]
    assert any(
        t.startswith(f"Public update #{approved} published to Statuspage: delivered") for t in texts
    )
    assert any(t == f"alice sent back public update #{rejected}: too much detail" for t in texts)


async def test_second_approval_updates_the_same_statuspage_incident(
    room: tuple[WarroomNode, WarroomClient, WarroomClient, int],
    statuspage: RecordingServer,
) -> None:
    server, ic, cl, incident = room
    for text in ["Investigating.", "Fix deployed, monitoring."]:
        draft_id = (await cl.execute(draft(incident, text))).seq
        await ic.execute(
            ApproveExternalUpdate(id=new_id(), incident_id=incident, draft_id=draft_id)
        )
        await caught_up(ic, server, incident)
    methods = [(r.method, r.path) for r in statuspage.requests]
    assert methods == [
        ("POST", "/v1/pages/page1/incidents"),
        ("PATCH", "/v1/pages/page1/incidents/sp-incident-1"),
    ]


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/status", "text/html; charset=utf-8"), ("/status.json", "application/json")],
)
async def test_status_pages_send_one_content_type(
    room: tuple[WarroomNode, WarroomClient, WarroomClient, int], path: str, content_type: str
) -> None:
    server, *_ = room
    page = await status_page(server, path)
    assert page.headers.get_list("content-type") == [content_type]
