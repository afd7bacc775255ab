"""The war room against real Prometheus and Alertmanager: an alert opens triage, declaring it
makes an incident whose timeline follows the alert, and metrics snapshots are taken and pinned."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.support.client_sync import caught_up, until
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import CommandRefused, WarroomClient, new_id
from warroom.config import ServerConfig
from warroom.domain.commands import AddEntry, AddService, DeclareIncident
from warroom.domain.errors import ErrorCode
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.domain.triage import TriageItem, TriageStatus
from warroom.monitoring.signals import Level
from warroom.node import WarroomNode, start_node
from warroom.users import create_user

from .synthetic_traffic import SyntheticTraffic

SERVICE = "ledger"  # this module's own service, so other tests' load changes do not reach it
ALERT_WAIT = 30.0
"""Seconds: an alert travels through scrapes, rule evaluation and Alertmanager's group wait."""


@pytest.fixture
def failing_ledger(traffic: SyntheticTraffic) -> Iterator[SyntheticTraffic]:
    traffic.set_load(SERVICE, error_ratio=0.9, rps=20)
    yield traffic
    traffic.set_load(SERVICE, error_ratio=0.0)


def config(alertmanager_url: str, prometheus_url: str, **extra: object) -> ServerConfig:
    return ServerConfig.model_validate(
        {
            "alertmanager": {"url": alertmanager_url, "poll_seconds": 0.5},
            "prometheus": {
                "url": prometheus_url,
                "poll_seconds": 0.5,
                "metrics": {"window": "5s", **extra},
            },
        }
    )


@asynccontextmanager
async def war_room(
    db_path: Path, user: str, settings: ServerConfig
) -> AsyncIterator[tuple[WarroomNode, WarroomClient]]:
    """A node with `settings` and the new user `user`'s console started on it, both closed on
    leaving."""
    token = await create_user(db_path, user)
    async with await start_node(db_path, TEST_SETTINGS, config=settings) as server:
        client = WarroomClient(server.url, token)
        await client.start()
        try:
            yield server, client
        finally:
            await client.close()


@pytest.fixture
async def room(
    db_path: Path, alertmanager_url: str, prometheus_url: str
) -> AsyncIterator[tuple[WarroomNode, WarroomClient]]:
    async with war_room(db_path, "oncall", config(alertmanager_url, prometheus_url)) as running:
        yield running


def ledger_item(client: WarroomClient) -> TriageItem | None:
    items = client.triage.items if client.triage else []
    return next((i for i in items if i.labels.get("service") == SERVICE and i.firing), None)


async def ledger_item_listed(client: WarroomClient) -> TriageItem:
    """Follow the triage list until the failing ledger's alert is on it; that item."""
    await client.follow_triage()
    await until(
        client,
        lambda: ledger_item(client) is not None,
        timeout=ALERT_WAIT,
        what="a triage item for ledger",
    )
    item = ledger_item(client)
    assert item is not None
    return item


async def ledger_incident(client: WarroomClient, title: str, severity: int) -> int:
    """Declare an incident on the ledger service and follow it; its id."""
    ack = await client.execute(DeclareIncident(id=new_id(), title=title, severity=severity))
    await client.follow(ack.incident_id)
    await client.execute(AddService(id=new_id(), incident_id=ack.incident_id, service=SERVICE))
    return ack.incident_id


async def test_alert_opens_triage_then_declared_incident_follows_the_alert(
    room: tuple[WarroomNode, WarroomClient], failing_ledger: SyntheticTraffic
) -> None:
    server, client = room
    item = await ledger_item_listed(client)
    assert item.status is TriageStatus.OPEN
    assert item.labels["alertname"] == "HighErrorRate"
    assert item.title == "High error rate on ledger"
    assert item.proposed_severity is Severity.SEV1  # severity=critical
    assert item.runbook_url == "https://runbooks.example.com/high-error-rate"
    assert client.triage is not None
    assert client.triage.source.ok

    ack = await client.execute(
        DeclareIncident(
            id=new_id(), title=item.title, severity=item.proposed_severity, triage_id=item.id
        )
    )
    incident = ack.incident_id
    state = await client.follow(incident)
    assert state.incident.detection is not None
    assert state.incident.detection.alert_name == "HighErrorRate"
    assert state.incident.detection.time_to_declare(state.incident.declared_at).total_seconds() > 0
    with pytest.raises(CommandRefused) as twice:
        await client.execute(
            DeclareIncident(id=new_id(), title="again", severity=1, triage_id=item.id)
        )
    assert twice.value.code is ErrorCode.CONFLICT

    def alert_entries() -> list[str]:
        return [e.text for e in client.states[incident].timeline if e.kind is EntryKind.ALERT]

    await until(
        client,
        lambda: any(t.startswith("FIRING HighErrorRate") for t in alert_entries()),
        timeout=ALERT_WAIT,
        what="the FIRING entry",
    )
    failing_ledger.set_load(SERVICE, error_ratio=0.0)
    await until(
        client,
        lambda: any(t.startswith("RESOLVED HighErrorRate") for t in alert_entries()),
        timeout=ALERT_WAIT,
        what="the RESOLVED entry",
    )
    assert len([t for t in alert_entries() if t.startswith("FIRING")]) == 1
    triage_view = next(i for i in client.triage.items if i.id == item.id)
    assert (triage_view.status, triage_view.incident_id) == (TriageStatus.DECLARED, incident)
    await caught_up(client, server, incident)


async def test_dismissed_alert_is_recorded_with_its_reason(
    db_path: Path, alertmanager_url: str, prometheus_url: str, failing_ledger: SyntheticTraffic
) -> None:
    settings = config(alertmanager_url, prometheus_url)
    async with war_room(db_path, "oncall", settings) as (_, client):
        item = await ledger_item_listed(client)
        await client.dismiss_triage(item.id, "load test in staging")
        assert client.triage is not None
        dismissed = next(i for i in client.triage.items if i.id == item.id)
        assert dismissed.status is TriageStatus.DISMISSED
        assert (dismissed.decided_by, dismissed.dismiss_reason) == (
            "oncall",
            "load test in staging",
        )
    # Kept across a restart: the item is in the database.
    async with await start_node(db_path, TEST_SETTINGS) as restarted:
        assert restarted.integrations.triage.items[item.id].status is TriageStatus.DISMISSED


async def test_metrics_snapshot_shows_the_error_rate_and_a_broken_query_alone(
    db_path: Path, alertmanager_url: str, prometheus_url: str, failing_ledger: SyntheticTraffic
) -> None:
    broken = {
        "signals": {"broken": {"title": "Broken", "template": "sum(rate(oops[", "unit": "none"}}
    }
    settings = config(alertmanager_url, prometheus_url, **broken)
    async with war_room(db_path, "tl", settings) as (server, client):
        incident = await ledger_incident(client, "Ledger errors", 2)

        def error_rate() -> float | None:
            snapshot = client.metrics.get(incident)
            return snapshot.reading(SERVICE, "error_rate").value if snapshot else None

        await until(
            client, lambda: (error_rate() or 0) > 0.5, timeout=ALERT_WAIT, what="a high error rate"
        )
        snapshot = client.metrics[incident]
        assert snapshot.reading(SERVICE, "error_rate").level is Level.CRITICAL
        assert snapshot.reading(SERVICE, "broken").error
        assert snapshot.reading(SERVICE, "traffic").error is None

        ack = await client.pin_metrics(incident)
        await caught_up(client, server, incident)
        pinned = client.states[incident].entry(ack.seq)
        assert pinned is not None
        assert pinned.kind is EntryKind.METRICS
        assert "Error rate" in pinned.text
        assert pinned.author == "tl"


async def test_war_room_keeps_working_when_prometheus_and_alertmanager_are_down(
    db_path: Path, unused_url: str
) -> None:
    async with war_room(db_path, "ic", config(unused_url, unused_url)) as (server, client):
        await client.follow_triage()
        await until(
            client,
            lambda: client.triage is not None and not client.triage.source.ok,
            timeout=ALERT_WAIT,
            what="the alert source marked unavailable",
        )
        assert client.triage is not None
        assert client.triage.source.error
        incident = await ledger_incident(client, "Blind", 1)
        report = await client.get_metrics(incident)
        assert report.snapshot is not None
        assert all(r.error for r in report.snapshot.readings)
        ack = await client.execute(AddEntry(id=new_id(), incident_id=incident, text="still here"))
        assert ack.seq > 0
        assert server.hub.incident_state(incident) is not None
