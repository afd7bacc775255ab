"""The change notifications carry the committed events when they fit: a node applies another
node's write without reading it back, and reads back what does not fit or follows a gap (its
periodic check, which repairs a lost notification, is tested in test_periodic_check.py)."""

from __future__ import annotations

import asyncpg

from tests.support.client_sync import until
from tests.support.sequencers import close_hubs, two_hubs
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.domain.commands import AddEntry, DeclareIncident
from warroom.domain.events import EntryAdded
from warroom.domain.limits import MAX_ENTRY_TEXT
from warroom.domain.timeline import EntryKind
from warroom.node import WarroomNode, start_node
from warroom.store.postgres import CHANGES_CHANNEL, PostgresStore


def _count_read_backs(store: PostgresStore) -> list[int]:
    """Counts the store's reads of events after a seq (the read-back of a notification)."""
    calls: list[int] = []
    read = store.events_json

    async def counted(incident_id: int, after: int = 0) -> list[str]:
        calls.append(incident_id)
        return await read(incident_id, after)

    store.events_json = counted  # type: ignore[method-assign]
    return calls


async def _watch_write_from_other_node(
    a: WarroomNode, b: WarroomNode, token: str, text: str
) -> tuple[list[int], WarroomClient, int]:
    assert isinstance(a.store, PostgresStore)
    watcher = WarroomClient(a.url, token)
    writer = WarroomClient(b.url, token)
    await watcher.start()
    await writer.start()
    try:
        declared = await writer.execute(DeclareIncident(id=new_id(), title="Outage", severity=1))
        incident = declared.incident_id
        await watcher.follow(incident)
        read_backs = _count_read_backs(a.store)
        ack = await writer.execute(AddEntry(id=new_id(), incident_id=incident, text=text))
        await until(
            watcher,
            lambda: watcher.states[incident].seq >= ack.seq,
            what="node A's console to get node B's write",
        )
        assert watcher.states[incident].timeline[-1].text == text
        assert watcher.states[incident] == a.hub.incident_state(incident)
        return read_backs, watcher, incident
    finally:
        await watcher.close()
        await writer.close()


async def test_a_write_from_another_node_is_applied_from_the_notification_without_a_query(
    two_nodes: tuple[WarroomNode, WarroomNode], token: str
) -> None:
    a, b = two_nodes
    read_backs, _, _ = await _watch_write_from_other_node(a, b, token, "carried in the notify")
    assert read_backs == []


async def test_events_too_large_for_a_notification_are_read_back_from_the_table(
    two_nodes: tuple[WarroomNode, WarroomNode], token: str
) -> None:
    a, b = two_nodes
    text = "x" * MAX_ENTRY_TEXT  # more than a notification's 8000 bytes
    read_backs, _, incident = await _watch_write_from_other_node(a, b, token, text)
    assert read_backs == [incident]


async def _declared(pg_url: str, token: str, count: int) -> list[int]:
    """Declares `count` incidents on a node of their own; returns their ids."""
    async with await start_node(pg_url, TEST_SETTINGS) as node:
        client = WarroomClient(node.url, token)
        await client.start()
        try:
            return [
                (
                    await client.execute(DeclareIncident(id=new_id(), title="Outage", severity=1))
                ).incident_id
                for _ in range(count)
            ]
        finally:
            await client.close()


def _note(text: str) -> EntryAdded:
    return EntryAdded(kind=EntryKind.NOTE, text=text)


async def test_carried_events_after_a_gap_are_not_applied_the_gap_is_read_back(
    pg_url: str, token: str
) -> None:
    incident, barrier = await _declared(pg_url, token, 2)
    stores, (first, second), tasks = await two_hubs(pg_url)
    try:
        assert await first.record(incident, _note("one")) == 2
        assert await first.record(incident, _note("two")) == 3
        frames = await stores[0].events_json(incident, after=1)
        read_backs = _count_read_backs(stores[1])
        # The notification of seq 2 was lost; the one of seq 3 carries only seq 3.
        second.changed_elsewhere(incident, 3, (frames[1],))
        # Only this node writes to the barrier incident: its write is simply taken in turn.
        await second.record(barrier, _note("barrier"))
        assert read_backs == [incident]
        state = second.incident_state(incident)
        assert state is not None
        assert [e.text for e in state.timeline][-2:] == ["one", "two"]
        # Carried events that follow on are applied as they are.
        assert await first.record(incident, _note("three")) == 4
        (frame,) = await stores[0].events_json(incident, after=3)
        second.changed_elsewhere(incident, 4, (frame,))
        await second.record(barrier, _note("barrier"))
        assert read_backs == [incident]
        state = second.incident_state(incident)
        assert state is not None
        assert [e.text for e in state.timeline][-1] == "three"
    finally:
        await close_hubs(stores, tasks)


async def test_a_malformed_notification_changes_nothing_and_the_node_keeps_following(
    two_nodes: tuple[WarroomNode, WarroomNode], token: str, pg_url: str
) -> None:
    a, b = two_nodes
    conn = await asyncpg.connect(pg_url)
    try:
        # About an incident that never exists: a well-formed head with damaged events is a
        # hint, and the node may look that incident up whenever the hint is handed on (after
        # the role lookup of its sender); what matters is the incident being followed.
        for payload in (
            "nonsense",
            "424242:x",
            "424242:2:not an event",
            '424242:2:{"incident_id":424242,"seq":2,}',
        ):
            await conn.execute("SELECT pg_notify($1, $2)", CHANGES_CHANNEL, payload)
    finally:
        await conn.close()
    read_backs, _, incident = await _watch_write_from_other_node(a, b, token, "still followed")
    assert incident not in read_backs, "the write was applied from its notification"
