"""Paging, team notifications and #incidents updates against real local HTTP endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.notify.api_shapes import assert_events_v2, assert_slack_webhook
from tests.support.client_sync import caught_up
from tests.support.recording_server import RecordingServer, Reply
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.config import ServerConfig
from warroom.domain.commands import (
    AcceptIc,
    AddService,
    AssignRole,
    DeclareIncident,
    PostStatusUpdate,
    SetPhase,
    SetSeverity,
)
from warroom.domain.events import SERVER_ACTOR
from warroom.domain.incident import POSTMORTEM_DUE_AFTER
from warroom.domain.phase import Phase
from warroom.domain.roles import Role
from warroom.domain.severity import Severity
from warroom.node import WarroomNode, start_node
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
async def dana_token(db_path: Path) -> str:
    return await create_user(db_path, "dana")


@pytest.fixture
async def wired(
    db_path: Path,
    pagerduty: RecordingServer,
    slack_team: RecordingServer,
    slack_incidents: RecordingServer,
    dana_token: str,
) -> AsyncIterator[tuple[WarroomNode, WarroomClient]]:
    config = ServerConfig.model_validate(
        {
            "call_link": "https://meet.example/{channel}",
            "pagerduty": {
                "routing_key": ROUTING_KEY,
                "events_url": f"{pagerduty.url}/v2/enqueue",
                "retry": FAST_RETRY,
            },
            "slack_team": {
                "webhook_url": f"{slack_team.url}/team",
                "service_webhooks": {"payments-api": f"{slack_team.url}/payments-team"},
                "retry": FAST_RETRY,
            },
            "slack_incidents": {"webhook_url": f"{slack_incidents.url}/inc", "retry": FAST_RETRY},
        }
    )
    token = await create_user(db_path, "alice")
    async with await start_node(db_path, TEST_SETTINGS, config=config) as server:
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


async def declared(
    wired: tuple[WarroomNode, WarroomClient], severity: int
) -> tuple[WarroomNode, WarroomClient, int]:
    """`declare` on the wired node, then wait until the client has seen all the declaration set
    off (pages, notifications, their notes on the timeline)."""
    server, client = wired
    incident = await declare(client, severity)
    await caught_up(client, server, incident)
    return server, client, incident


async def set_phase(
    client: WarroomClient, server: WarroomNode, incident: int, phase: Phase, expected: Phase
) -> None:
    await client.execute(
        SetPhase(id=new_id(), incident_id=incident, phase=phase, expected=expected)
    )
    await caught_up(client, server, incident)


async def set_severity(
    client: WarroomClient, server: WarroomNode, incident: int, severity: int, expected: int
) -> None:
    await client.execute(
        SetSeverity(
            id=new_id(),
            incident_id=incident,
            severity=Severity(severity),
            expected=expected,
            reason="spreading",
        )
    )
    await caught_up(client, server, incident)


async def test_sev1_pages_on_call_with_channel_and_call_link(
    wired: tuple[WarroomNode, WarroomClient], pagerduty: RecordingServer
) -> None:
    _, client, incident = await declared(wired, 1)
    [page] = pagerduty.requests
    body = page.json()
    assert_events_v2(body)
    assert body["payload"]["source"] == "warroom"  # no service listed yet
    assert page.path == "/v2/enqueue"
    assert (body["routing_key"], body["event_action"]) == (ROUTING_KEY, "trigger")
    assert body["payload"]["severity"] == "critical"
    assert "incident-" in str(body["payload"]["custom_details"])
    assert "https://meet.example/incident-" in str(body)
    [note] = [t for t in system_texts(client, incident) if "PagerDuty" in t]
    assert note.startswith("Declaration: paged on-call via PagerDuty (SEV1, #incident-")
    assert note.endswith(": delivered (1 attempt)")


async def test_sev3_notifies_the_owning_team_instead_of_paging(
    wired: tuple[WarroomNode, WarroomClient],
    pagerduty: RecordingServer,
    slack_team: RecordingServer,
) -> None:
    _, client, incident = await declared(wired, 3)
    assert pagerduty.requests == []
    [message] = slack_team.requests
    assert "Payments &lt;down&gt;" in message.json()["text"]
    assert any("notified the owning team" in t for t in system_texts(client, incident))


async def test_escalation_pages_and_resolution_resolves_the_page(
    wired: tuple[WarroomNode, WarroomClient], pagerduty: RecordingServer
) -> None:
    server, client = wired
    incident = await declare(client, 3)
    await set_severity(client, server, incident, 2, 3)
    await set_phase(client, server, incident, Phase.RESOLVED, Phase.DECLARED)
    actions = [r.json()["event_action"] for r in pagerduty.requests]
    assert actions == ["trigger", "resolve"]
    dedup = {r.json()["dedup_key"] for r in pagerduty.requests}
    assert len(dedup) == 1
    texts = system_texts(client, incident)
    assert any(t.startswith("Escalation: paged on-call") for t in texts)
    assert any(t.startswith("Resolved the PagerDuty page") for t in texts)


async def test_failed_page_is_retried_and_the_failure_is_on_the_timeline(
    wired: tuple[WarroomNode, WarroomClient], pagerduty: RecordingServer
) -> None:
    server, client = wired
    pagerduty.always(Reply(503, {"status": "unavailable"}))
    incident = await declare(client, 1)
    await caught_up(client, server, incident)
    assert len(pagerduty.requests) == 3
    [note] = [t for t in system_texts(client, incident) if "PagerDuty" in t]
    assert note.endswith("FAILED after 3 attempts (HTTP 503)")


async def test_internal_update_goes_to_incidents_channel(
    wired: tuple[WarroomNode, WarroomClient], slack_incidents: RecordingServer
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
    declared, message = slack_incidents.requests
    assert declared.json()["text"].startswith("*SEV2 declared:*")
    assert_slack_webhook(message.json())
    text = message.json()["text"]
    assert "Status: Checkout &lt;b&gt;failing&lt;/b&gt;" in text
    assert "Impact: 60%" in text
    assert any("sent to #incidents: delivered" in t for t in system_texts(client, incident))


async def test_the_page_is_acknowledged_when_the_phase_leaves_declared(
    wired: tuple[WarroomNode, WarroomClient], pagerduty: RecordingServer
) -> None:
    server, client, incident = await declared(wired, 1)
    await set_phase(client, server, incident, Phase.INVESTIGATING, Phase.DECLARED)
    await set_phase(client, server, incident, Phase.MITIGATING, Phase.INVESTIGATING)
    await set_phase(client, server, incident, Phase.RESOLVED, Phase.MITIGATING)

    bodies = [r.json() for r in pagerduty.requests]
    for body in bodies:
        assert_events_v2(body)
    assert [b["event_action"] for b in bodies] == ["trigger", "acknowledge", "resolve"]
    assert len({b["dedup_key"] for b in bodies}) == 1
    assert any(
        t == "Acknowledged the PagerDuty page (the incident is being worked): delivered (1 attempt)"
        for t in system_texts(client, incident)
    )


async def test_an_unpaged_incident_is_not_acknowledged(
    wired: tuple[WarroomNode, WarroomClient], pagerduty: RecordingServer
) -> None:
    server, client, incident = await declared(wired, 3)
    await set_phase(client, server, incident, Phase.INVESTIGATING, Phase.DECLARED)
    # Escalated into paging while already being worked: on-call is paged, not pre-acknowledged.
    await set_severity(client, server, incident, 2, 3)

    assert [r.json()["event_action"] for r in pagerduty.requests] == ["trigger"]


async def test_sev2_to_sev1_retriggers_the_alert_as_critical_and_says_so(
    wired: tuple[WarroomNode, WarroomClient], pagerduty: RecordingServer
) -> None:
    server, client, incident = await declared(wired, 2)
    await set_severity(client, server, incident, 1, 2)

    first, second = (r.json() for r in pagerduty.requests)
    assert_events_v2(second)
    assert (first["event_action"], second["event_action"]) == ("trigger", "trigger")
    assert first["dedup_key"] == second["dedup_key"]
    assert (first["payload"]["severity"], second["payload"]["severity"]) == ("error", "critical")
    assert second["payload"]["summary"] == (
        f"[SEV1] #{incident} escalated to SEV1 from SEV2: Payments <down>"
    )
    texts = system_texts(client, incident)
    assert any(t.startswith("Escalation: re-triggered the PagerDuty alert as SEV1") for t in texts)


async def test_the_page_names_the_affected_service_as_its_source(
    wired: tuple[WarroomNode, WarroomClient], pagerduty: RecordingServer
) -> None:
    server, client = wired
    incident = await declare(client, 3)
    await client.execute(AddService(id=new_id(), incident_id=incident, service="payments-api"))
    await set_severity(client, server, incident, 2, 3)

    [page] = pagerduty.requests
    assert_events_v2(page.json())
    assert page.json()["payload"]["source"] == "payments-api"


async def test_sev3_goes_to_the_webhook_of_the_team_owning_the_service(
    wired: tuple[WarroomNode, WarroomClient], slack_team: RecordingServer
) -> None:
    server, client = wired
    incident = await declare(client, 3)
    await client.execute(AddService(id=new_id(), incident_id=incident, service="search"))
    await client.execute(AddService(id=new_id(), incident_id=incident, service="payments-api"))
    await caught_up(client, server, incident)
    await set_phase(client, server, incident, Phase.RESOLVED, Phase.DECLARED)

    # Declared by hand with no service: the default webhook. Naming a service with a team of its
    # own tells that team; "search" has none, so nobody new hears of it.
    messages = [(r.path, r.json()) for r in slack_team.requests]
    for _, body in messages:
        assert_slack_webhook(body)
    assert [(path, body["text"].split(":*")[0]) for path, body in messages] == [
        ("/team", "*SEV3 declared"),
        ("/payments-team", "*SEV3 declared"),
        ("/payments-team", "*Resolved"),
    ]
    assert "Services: search, payments-api" in str(messages[1][1]["blocks"])
    texts = system_texts(client, incident)
    assert "Service payments-api: notified its owning team on Slack: delivered (1 attempt)" in texts


async def test_incidents_channel_hears_the_lifecycle(
    wired: tuple[WarroomNode, WarroomClient],
    slack_incidents: RecordingServer,
    dana_token: str,
) -> None:
    server, client = wired
    incident = await declare(client, 2)
    await set_severity(client, server, incident, 1, 2)
    await client.execute(AssignRole(id=new_id(), incident_id=incident, role=Role.IC, user="dana"))
    dana = WarroomClient(server.url, dana_token)
    await dana.start()
    try:
        await dana.follow(incident)
        await dana.execute(AcceptIc(id=new_id(), incident_id=incident))
        # The new IC resolves: alice is an observer now.
        await set_phase(dana, server, incident, Phase.RESOLVED, Phase.DECLARED)
    finally:
        await dana.close()
    await caught_up(client, server, incident)

    bodies = [r.json() for r in slack_incidents.requests]
    for body in bodies:
        assert_slack_webhook(body)
    declared, escalated, handoff, resolved = bodies
    state = server.hub.incident_state(incident)
    assert state is not None
    channel = state.incident.channel
    assert declared["text"] == f"*SEV2 declared:* Payments &lt;down&gt; (#{incident})"
    assert declared["blocks"][1]["elements"][0]["text"] == (
        f"Channel: {channel} | IC: alice | Declared by: alice"
    )
    assert escalated["text"] == (
        f"*#{incident} escalated to SEV1* (from SEV2): Payments &lt;down&gt;"
    )
    assert escalated["blocks"][0]["text"]["text"].endswith("\nReason: spreading")
    assert handoff["text"].startswith(
        f"*#{incident} new Incident Commander:* dana took over from alice (SEV1, "
    )
    resolved_at = state.incident.resolved_at
    assert resolved_at is not None
    due = (resolved_at + POSTMORTEM_DUE_AFTER).strftime("%Y-%m-%d %H:%M UTC")
    assert resolved["text"] == f"*Resolved:* Payments &lt;down&gt; (#{incident}, SEV1)"
    assert resolved["blocks"][1]["elements"][0]["text"].endswith(f"Post-mortem due by {due}")
    texts = system_texts(client, incident)
    for what in ("Declaration", "Severity change to SEV1", "IC handoff to dana", "Resolution"):
        assert f"{what} sent to #incidents: delivered (1 attempt)" in texts
