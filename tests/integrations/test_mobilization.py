"""Paging, team notifications and #incidents updates against real local HTTP endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SETTINGS
from tests.support.client_sync import caught_up
from tests.support.recording_server import RecordingServer, Reply
from warroom.client.session import WarroomClient, new_id
from warroom.config import ServerConfig
from warroom.domain.commands import (
    AssignRole,
    DeclareIncident,
    PostStatusUpdate,
    SetPhase,
    SetSeverity,
)
from warroom.domain.events import SERVER_ACTOR
from warroom.domain.phase import Phase
from warroom.domain.severity import Severity
from warroom.server.app import WarroomServer
from warroom.users import create_user

ROUTING_KEY = "R0UT1NGKEY0000000000000000000001"
FAST_RETRY = {"max_attempts": 3, "initial_delay": 0, "max_delay": 0}


@pytest.fixture
def pagerduty() -> Iterator[RecordingServer]:
    with RecordingServer(Reply(202, {"status": "success", "dedup_key": "x"})) as running:
        yield running


@pytest.fixture
def slack_team() -> Iterator[RecordingServer]:
    with RecordingServer(Reply(200, "ok")) as running:
        yield running


@pytest.fixture
def slack_incidents() -> Iterator[RecordingServer]:
    with RecordingServer(Reply(200, "ok")) as running:
        yield running


@pytest.fixture
async def wired(
    db_path: Path,
    pagerduty: RecordingServer,
    slack_team: RecordingServer,
    slack_incidents: RecordingServer,
) -> AsyncIterator[tuple[WarroomServer, WarroomClient]]:
    config = ServerConfig.model_validate(
        {
            "call_link": "https://meet.example/{channel}",
            "pagerduty": {
                "routing_key": ROUTING_KEY,
                "events_url": f"{pagerduty.url}/v2/enqueue",
                "retry": FAST_RETRY,
            },
            "slack_team": {"webhook_url": f"{slack_team.url}/team", "retry": FAST_RETRY},
            "slack_incidents": {"webhook_url": f"{slack_incidents.url}/inc", "retry": FAST_RETRY},
        }
    )
    token = await create_user(db_path, "alice")
    await create_user(db_path, "dana")
    async with await WarroomServer.start(db_path, TEST_SETTINGS, config=config) as server:
        client = WarroomClient(server.url, token)
        await client.start()
        yield server, client
        await client.close()


def system_texts(client: WarroomClient, incident_id: int) -> list[str]:
    state = client.states[incident_id]
    return [e.text for e in state.timeline if e.author == SERVER_ACTOR]


async def declare(client: WarroomClient, severity: int) -> int:
    ack = await client.execute(
        DeclareIncident(id=new_id(), title="Payments <down>", severity=severity)
    )
    await client.follow(ack.incident_id)
    return ack.incident_id


async def test_sev1_pages_on_call_with_channel_and_call_link(
    wired: tuple[WarroomServer, WarroomClient], pagerduty: RecordingServer
) -> None:
    server, client = wired
    incident = await declare(client, 1)
    await caught_up(client, server, incident)
    [page] = pagerduty.requests
    body = page.json()
    assert page.path == "/v2/enqueue"
    assert (body["routing_key"], body["event_action"]) == (ROUTING_KEY, "trigger")
    assert body["payload"]["severity"] == "critical"
    assert "incident-" in str(body["payload"]["custom_details"])
    assert "https://meet.example/incident-" in str(body)
    [note] = [t for t in system_texts(client, incident) if "PagerDuty" in t]
    assert note.startswith("Declaration: paged on-call via PagerDuty (SEV1, #incident-")
    assert note.endswith(": delivered (1 attempt)")


async def test_sev3_notifies_the_owning_team_instead_of_paging(
    wired: tuple[WarroomServer, WarroomClient],
    pagerduty: RecordingServer,
    slack_team: RecordingServer,
) -> None:
    server, client = wired
    incident = await declare(client, 3)
    await caught_up(client, server, incident)
    assert pagerduty.requests == []
    [message] = slack_team.requests
    assert "Payments &lt;down&gt;" in message.json()["text"]
    assert any("notified the owning team" in t for t in system_texts(client, incident))


async def test_escalation_pages_and_resolution_resolves_the_page(
    wired: tuple[WarroomServer, WarroomClient], pagerduty: RecordingServer
) -> None:
    server, client = wired
    incident = await declare(client, 3)
    await client.execute(
        SetSeverity(
            id=new_id(), incident_id=incident, severity=Severity.SEV2, expected=3, reason="r"
        )
    )
    await caught_up(client, server, incident)
    await client.execute(
        SetPhase(id=new_id(), incident_id=incident, phase=Phase.RESOLVED, expected=Phase.DECLARED)
    )
    await caught_up(client, server, incident)
    actions = [r.json()["event_action"] for r in pagerduty.requests]
    assert actions == ["trigger", "resolve"]
    dedup = {r.json()["dedup_key"] for r in pagerduty.requests}
    assert len(dedup) == 1
    texts = system_texts(client, incident)
    assert any(t.startswith("Escalation: paged on-call") for t in texts)
    assert any(t.startswith("Resolved the PagerDuty page") for t in texts)


async def test_failed_page_is_retried_and_the_failure_is_on_the_timeline(
    wired: tuple[WarroomServer, WarroomClient], pagerduty: RecordingServer
) -> None:
    server, client = wired
    pagerduty.always(Reply(503, {"status": "unavailable"}))
    incident = await declare(client, 1)
    await caught_up(client, server, incident)
    assert len(pagerduty.requests) == 3
    [note] = [t for t in system_texts(client, incident) if "PagerDuty" in t]
    assert note.endswith("FAILED after 3 attempts (HTTP 503)")


async def test_internal_update_goes_to_incidents_channel(
    wired: tuple[WarroomServer, WarroomClient], slack_incidents: RecordingServer
) -> None:
    server, client = wired
    incident = await declare(client, 2)
    await client.execute(AssignRole(id=new_id(), incident_id=incident, role="cl", user="dana"))
    await client.execute(
        PostStatusUpdate(
            id=new_id(), incident_id=incident, status="Checkout <b>failing</b>", impact="60%"
        )
    )
    await caught_up(client, server, incident)
    [message] = slack_incidents.requests
    text = message.json()["text"]
    assert "Status: Checkout &lt;b&gt;failing&lt;/b&gt;" in text
    assert "Impact: 60%" in text
    assert any("sent to #incidents: delivered" in t for t in system_texts(client, incident))
