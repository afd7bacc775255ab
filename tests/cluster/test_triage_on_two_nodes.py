"""Triage items shared by the nodes of one PostgreSQL database (issue 14): an item opened on one
node is on every node's console, and a decision on it taken on any node is every node's. Two
nodes deciding the same item at once: one wins, the other gets a conflict; a dismissal is numbered
by the database, after every node's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from datetime import UTC, datetime

import pytest

from tests.support.client_sync import until
from tests.support.triage_nodes import consoles_on_two_nodes, deliver, notification
from warroom.client.session import CommandRefused, WarroomClient, new_id
from warroom.demo_data import waiting_alert
from warroom.domain.commands import DeclareIncident
from warroom.domain.errors import ErrorCode
from warroom.domain.events import IncidentDeclared
from warroom.domain.triage import TriageItem, TriageStatus
from warroom.domain.triage_log import TRIAGE_LOG
from warroom.integrations.tasks import TaskSet
from warroom.integrations.triage import TriageDesk
from warroom.protocol.frames import Ack
from warroom.server.auth import Authenticator
from warroom.server.cluster import follow_other_nodes
from warroom.server.hub import Hub, utc_now
from warroom.store.postgres import PostgresStore
from warroom.store.url import parse_postgres_url

ROUNDS = 3


async def one_wins(decisions: Iterable[Awaitable[Ack]], refused_as: str) -> Ack:
    """Two consoles' decisions on the same item at once: exactly one is taken, the other is
    refused as a conflict saying `refused_as`. Returns the winner's ack."""
    outcomes = await asyncio.gather(*decisions, return_exceptions=True)
    acks = [o for o in outcomes if not isinstance(o, BaseException)]
    refusals = [o for o in outcomes if isinstance(o, CommandRefused)]
    assert len(acks) == 1, outcomes
    assert len(refusals) == 1, outcomes
    assert refusals[0].code is ErrorCode.CONFLICT
    assert refused_as in refusals[0].message
    return acks[0]


def status(client: WarroomClient, item_id: int) -> TriageStatus | None:
    assert client.triage is not None
    return next((i.status for i in client.triage.items if i.id == item_id), None)


async def shows(client: WarroomClient, item_id: int, wanted: TriageStatus, what: str) -> None:
    await until(client, lambda: status(client, item_id) is wanted, what=what)


async def test_same_item_dismissed_on_two_nodes_at_once_one_wins_the_other_conflicts(
    pg_url: str,
) -> None:
    async with consoles_on_two_nodes(pg_url, webhook=False) as (a, b, *clients):
        seqs: list[int] = []
        for _ in range(ROUNDS):
            # The same alert group, on the triage list of both nodes.
            now = datetime.now(UTC)
            for node in (a, b):
                await node.integrations.triage.reconcile([waiting_alert(now)])
            item_id = max(a.integrations.triage.items)
            assert item_id == max(b.integrations.triage.items)
            ack = await one_wins(
                (c.dismiss_triage(item_id, f"noise seen by {n}") for n, c in enumerate(clients)),
                "already dismissed",
            )
            assert ack.incident_id == TRIAGE_LOG
            seqs.append(ack.seq)
            for node in (a, b):
                # Dismissed: the next round's alert opens a new item.
                await node.integrations.triage.reconcile([])
        assert seqs == list(range(1, ROUNDS + 1))
        log = await a.store.load_triage_log()
        assert [r.seq for r in log] == seqs


async def test_item_opened_on_one_node_is_listed_and_dismissed_on_the_other(pg_url: str) -> None:
    async with consoles_on_two_nodes(pg_url) as (a, _, on_a, on_b):
        for client in (on_a, on_b):
            await client.follow_triage()
        await deliver(a, notification("a0a0", "DiskFull"))
        item_id = max(a.integrations.triage.items)
        await shows(on_b, item_id, TriageStatus.OPEN, "the item node A opened on node B's console")
        await on_b.dismiss_triage(item_id, "known noise")
        await shows(on_a, item_id, TriageStatus.DISMISSED, "node B's dismissal on node A's console")
        stored = {i.id: i for i in await a.store.load_triage()}[item_id]
        assert stored.status is TriageStatus.DISMISSED
        assert stored.decided_by == "bob"


async def test_item_declared_on_two_nodes_at_once_makes_one_incident(pg_url: str) -> None:
    async with consoles_on_two_nodes(pg_url) as (a, _, on_a, on_b):
        for client in (on_a, on_b):
            await client.follow_triage()
        winners: list[int] = []
        for n in range(ROUNDS):
            await deliver(a, notification(f"dec{n}", f"Outage{n}"))
            item_id = max(a.integrations.triage.items)
            await shows(on_b, item_id, TriageStatus.OPEN, "node A's item on node B")
            item = a.integrations.triage.items[item_id]
            ack = await one_wins(
                (
                    c.execute(
                        DeclareIncident(
                            id=new_id(),
                            title=item.title,
                            severity=item.proposed_severity,
                            triage_id=item_id,
                        )
                    )
                    for c in (on_a, on_b)
                ),
                "already declared",
            )
            winners.append(ack.incident_id)
            for client in (on_a, on_b):
                await shows(client, item_id, TriageStatus.DECLARED, "the item declared")
        declared = sorted(
            e.incident_id
            for e in await a.store.load_events()
            if isinstance(e.body, IncidentDeclared) and e.body.detection is not None
        )
        assert declared == sorted(winners)
        stored = await a.store.load_triage()
        assert sorted(i.incident_id or 0 for i in stored if i.incident_id) == declared


async def test_items_whose_notification_was_lost_are_read_by_the_check(pg_url: str) -> None:
    url = parse_postgres_url(pg_url)
    writer, store = await PostgresStore.open(url), await PostgresStore.open(url)
    auth = Authenticator(store)
    await auth.refresh()
    hub = Hub(store, auth)
    await hub.load()
    tasks = TaskSet()
    desk = TriageDesk(hub, store, tasks, utc_now, configured=True)
    await desk.load()
    listed = asyncio.Event()
    desk.on_change = listed.set
    # Another node's item while this node follows nothing: its notification is lost here.
    opened = await writer.open_triage(
        TriageItem(
            id=1,
            group_key="alert:0ff",
            title="Disk full",
            labels={"alertname": "DiskFull"},
            starts_at=datetime.now(UTC),
            opened_at=datetime.now(UTC),
            proposed_severity=2,
        ),
        0,
    )
    assert desk.item(opened.id) is None
    # The cluster's check (at every connection of the feed, and every few seconds) reads it.
    following = asyncio.create_task(
        follow_other_nodes(hub, store, on_triage=desk.changed_elsewhere)
    )
    try:
        async with asyncio.timeout(10):
            await listed.wait()
        assert desk.item(opened.id) == opened
        assert [i.id for i in desk.listed()] == [opened.id]
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        await tasks.cancel()
        await writer.close()
        await store.close()


async def test_a_dismissal_decided_on_a_stale_copy_is_refused_at_the_commit(pg_url: str) -> None:
    async with consoles_on_two_nodes(pg_url, webhook=False) as (a, b, on_a, on_b):
        for node in (a, b):
            await node.integrations.triage.reconcile([waiting_alert(datetime.now(UTC))])
        item_id = max(b.integrations.triage.items)

        async def reads_nothing() -> None:
            """Node A's dismissal lands between node B's read of the item and its commit."""

        b.integrations.triage.catch_up = reads_nothing  # type: ignore[method-assign]
        await on_a.dismiss_triage(item_id, "noise")
        assert b.integrations.triage.items[item_id].status is TriageStatus.OPEN
        with pytest.raises(CommandRefused) as refused:
            await on_b.dismiss_triage(item_id, "noise too")
        assert refused.value.code is ErrorCode.CONFLICT
        assert refused.value.current == "dismissed"
        # Node B now holds the decision as stored; the log has node A's record only.
        assert b.integrations.triage.items[item_id].decided_by == "alice"
        assert [r.actor for r in await b.store.load_triage_log()] == ["alice"]
