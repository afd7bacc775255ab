"""Dismissing a triage item and pinning metrics are writes like every other: through the real
server they are decided by the rules, acknowledged with a seq, applied once however often they
are retried, refused with nothing changed, kept across a restart and found in the record."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.client_sync import caught_up
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import CommandRefused, WarroomClient, new_id
from warroom.demo_data import metrics_snapshot, waiting_alert
from warroom.domain.commands import DeclareIncident, DismissTriage, PinMetrics
from warroom.domain.errors import ErrorCode
from warroom.domain.events import EntryAdded
from warroom.domain.timeline import EntryKind
from warroom.domain.triage import TriageStatus
from warroom.domain.triage_log import TRIAGE_LOG
from warroom.node import WarroomNode, start_node

AddUser = Callable[[str], Awaitable[str]]


@pytest.fixture
async def oncall(server: WarroomNode, add_user: AddUser) -> AsyncIterator[WarroomClient]:
    client = WarroomClient(server.url, await add_user("oncall"))
    await client.start()
    yield client
    await client.close()


async def open_item(server: WarroomNode) -> int:
    """A firing alert group on the server's triage list; returns its item id."""
    await server.integrations.triage.reconcile([waiting_alert(datetime.now(UTC))])
    (item_id,) = server.integrations.triage.items
    return item_id


async def test_dismissal_is_acknowledged_in_the_triage_log_and_applied_once(
    server: WarroomNode, oncall: WarroomClient
) -> None:
    item_id = await open_item(server)
    await oncall.follow_triage()
    dismissal = DismissTriage(id=new_id(), triage_id=item_id, reason="load test in staging")

    ack = await oncall.execute(dismissal)
    retry = await oncall.execute(dismissal)

    assert (ack.incident_id, ack.seq, ack.duplicate) == (TRIAGE_LOG, 1, False)
    assert (retry.seq, retry.duplicate) == (1, True)
    item = server.integrations.triage.items[item_id]
    assert item.status is TriageStatus.DISMISSED
    assert (item.decided_by, item.dismiss_reason) == ("oncall", "load test in staging")
    (record,) = await server.store.load_triage_log()
    assert (record.seq, record.actor, record.command_id) == (1, "oncall", dismissal.id)
    assert (record.body.triage_id, record.body.reason) == (item_id, "load test in staging")


async def test_dismissing_a_decided_or_unknown_item_is_refused_and_changes_nothing(
    server: WarroomNode, oncall: WarroomClient
) -> None:
    item_id = await open_item(server)
    await oncall.dismiss_triage(item_id, "noise")
    before = server.integrations.triage.items[item_id]

    with pytest.raises(CommandRefused) as again:
        await oncall.dismiss_triage(item_id, "other reason")
    with pytest.raises(CommandRefused) as unknown:
        await oncall.dismiss_triage(item_id + 1, "noise")

    assert again.value.code is ErrorCode.CONFLICT
    assert unknown.value.code is ErrorCode.UNKNOWN_ENTRY
    assert server.integrations.triage.items[item_id] == before
    assert len(await server.store.load_triage_log()) == 1


async def test_dismissal_survives_a_restart_and_its_retry_is_still_answered(
    db_path: Path, add_user: AddUser
) -> None:
    token = await add_user("oncall")
    dismissal_id = new_id()
    async with await start_node(db_path, TEST_SETTINGS) as server:
        item_id = await open_item(server)
        client = WarroomClient(server.url, token)
        await client.start()
        await client.execute(DismissTriage(id=dismissal_id, triage_id=item_id, reason="noise"))
        await client.close()
    async with await start_node(db_path, TEST_SETTINGS) as restarted:
        client = WarroomClient(restarted.url, token)
        await client.start()
        retry = await client.execute(
            DismissTriage(id=dismissal_id, triage_id=item_id, reason="noise")
        )
        await client.close()
        assert (retry.incident_id, retry.seq, retry.duplicate) == (TRIAGE_LOG, 1, True)
        item = restarted.integrations.triage.items[item_id]
        assert (item.status, item.decided_by) == (TriageStatus.DISMISSED, "oncall")
        assert [r.command_id for r in await restarted.store.load_triage_log()] == [dismissal_id]


async def declared(client: WarroomClient) -> int:
    ack = await client.execute(DeclareIncident(id=new_id(), title="Payments down", severity=1))
    await client.follow(ack.incident_id)
    return ack.incident_id


async def test_pin_is_a_timeline_entry_acknowledged_once_and_in_the_log(
    server: WarroomNode, oncall: WarroomClient
) -> None:
    incident = await declared(oncall)
    snapshot = metrics_snapshot(datetime.now(UTC))
    server.integrations.metrics.latest[incident] = snapshot
    pin = PinMetrics(id=new_id(), incident_id=incident)

    ack = await oncall.execute(pin)
    retry = await oncall.execute(pin)

    assert (ack.incident_id, ack.duplicate) == (incident, False)
    assert (retry.seq, retry.duplicate) == (ack.seq, True)
    await caught_up(oncall, server, incident)
    entry = oncall.states[incident].entry(ack.seq)
    assert entry is not None
    assert (entry.kind, entry.author, entry.text) == (
        EntryKind.METRICS,
        "oncall",
        snapshot.to_text(),
    )
    pins = [
        e
        for e in await oncall.read_log(incident)
        if isinstance(e.body, EntryAdded) and e.body.kind is EntryKind.METRICS
    ]
    assert [(e.seq, e.command_id) for e in pins] == [(ack.seq, pin.id)]


async def test_pin_is_refused_for_an_observer_and_without_a_snapshot(
    server: WarroomNode, oncall: WarroomClient, add_user: AddUser
) -> None:
    incident = await declared(oncall)
    observer = WarroomClient(server.url, await add_user("watcher"))
    await observer.start()
    seq_before = server.hub.incident_state(incident).seq  # type: ignore[union-attr]

    with pytest.raises(CommandRefused) as no_snapshot:
        await oncall.pin_metrics(incident)
    server.integrations.metrics.latest[incident] = metrics_snapshot(datetime.now(UTC))
    with pytest.raises(CommandRefused) as forbidden:
        await observer.pin_metrics(incident)
    await observer.close()

    assert no_snapshot.value.code is ErrorCode.INVALID
    assert "Prometheus" in no_snapshot.value.message
    assert forbidden.value.code is ErrorCode.FORBIDDEN
    assert server.hub.incident_state(incident).seq == seq_before  # type: ignore[union-attr]
