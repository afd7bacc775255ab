"""Several stateless nodes on one PostgreSQL database: every write is decided against the latest
state whichever node receives it, sequences stay gap-free, and every console sees every node's
writes (LISTEN/NOTIFY fan-out)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.support.client_sync import seq_reached, until
from tests.support.sequencers import close_hubs, two_hubs
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import CommandRefused, WarroomClient, new_id
from warroom.domain.checklist import ItemState
from warroom.domain.commands import (
    AddChecklistItem,
    AddEntry,
    AssignRole,
    DeclareIncident,
    SetItemState,
)
from warroom.domain.errors import ErrorCode
from warroom.domain.events import ChecklistItemAdded, ChecklistItemChanged, EntryAdded, Event
from warroom.domain.timeline import EntryKind
from warroom.node import WarroomNode, start_node
from warroom.users import create_user

WRITES_PER_CONSOLE = 10


async def _nodes(url: str, count: int) -> list[WarroomNode]:
    return [await start_node(url, TEST_SETTINGS) for _ in range(count)]


@pytest.fixture
async def tokens(pg_url: str) -> dict[str, str]:
    return {name: await create_user(pg_url, name) for name in ("alice", "bob", "carol")}


@pytest.fixture
async def three_nodes(pg_url: str, tokens: dict[str, str]) -> AsyncIterator[list[WarroomNode]]:
    nodes = await _nodes(pg_url, 3)
    try:
        yield nodes
    finally:
        for node in nodes:
            await node.close()


async def _client(node: WarroomNode, token: str) -> WarroomClient:
    client = WarroomClient(node.url, token)
    await client.start()
    return client


async def _declare(client: WarroomClient, *tls: str) -> int:
    ack = await client.execute(DeclareIncident(id=new_id(), title="Checkout down", severity=1))
    for user in tls:
        await client.execute(
            AssignRole(id=new_id(), incident_id=ack.incident_id, role="tl", user=user)
        )
    return ack.incident_id


async def test_a_write_on_one_node_is_seen_by_a_console_on_another(
    three_nodes: list[WarroomNode], tokens: dict[str, str]
) -> None:
    a, b, _ = three_nodes
    seen_on_a: list[Event] = []
    a.hub.add_observer(seen_on_a.extend)
    watcher = await _client(a, tokens["alice"])
    writer = await _client(b, tokens["alice"])
    try:
        incident = await _declare(writer)
        # Declared on B: A lists it and lets a console follow it.
        assert incident in {s.id for s in await watcher.list_incidents()}
        await watcher.follow(incident)
        ack = await writer.execute(
            AddEntry(id=new_id(), incident_id=incident, text="written on node B")
        )
        await until(
            watcher,
            lambda: watcher.states[incident].seq >= ack.seq,
            what="node A's console to get node B's write",
        )
        assert watcher.states[incident].timeline[-1].text == "written on node B"
        assert watcher.states[incident] == a.hub.incident_state(incident)
        # A feature one node runs for all (the integrations' leader) is told of B's write too.
        assert ack.seq in {e.seq for e in seen_on_a if e.incident_id == incident}
    finally:
        await watcher.close()
        await writer.close()


async def test_a_node_with_an_out_of_date_copy_catches_up_and_decides_again_without_a_gap(
    pg_url: str, tokens: dict[str, str]
) -> None:
    """Two sequencers on one database and no fan-out between them: the second one's copy is
    out of date, its append is refused, and it reads what it missed and numbers its event
    after it."""
    async with await start_node(pg_url, TEST_SETTINGS) as node:
        client = await _client(node, tokens["alice"])
        incident = await _declare(client)
        await client.close()
    stores, (first, second), tasks = await two_hubs(pg_url)
    try:
        entry = EntryAdded(kind=EntryKind.NOTE, text="from the first")
        assert await first.record(incident, entry) == 2
        stale = second.incident_state(incident)
        assert stale is not None
        assert stale.seq == 1  # it has not heard of seq 2
        later = EntryAdded(kind=EntryKind.NOTE, text="from the second")
        assert await second.record(incident, later) == 3
        state = second.incident_state(incident)
        assert state is not None
        assert [e.text for e in state.timeline][-2:] == ["from the first", "from the second"]
        assert [e.seq for e in await stores[0].load_events()] == [1, 2, 3]
        # A write that the out-of-date copy would refuse (the item is not in it) is checked
        # against the latest seq, decided again, and applied.
        added = ChecklistItemAdded(item_id=99, title="fail over the database")
        assert await first.record(incident, added) == 4
        done = ChecklistItemChanged(item_id=99, state=ItemState.DONE, previous=ItemState.TODO)
        assert await second.record(incident, done) == 5
        state = second.incident_state(incident)
        assert state is not None
        assert next(i.state for i in state.checklist if i.id == 99) is ItemState.DONE
    finally:
        await close_hubs(stores, tasks)


async def test_two_nodes_racing_on_one_checklist_item_one_wins_the_other_gets_a_conflict(
    three_nodes: list[WarroomNode], tokens: dict[str, str]
) -> None:
    a, b, _ = three_nodes
    alice = await _client(a, tokens["alice"])
    bob = await _client(b, tokens["bob"])
    try:
        incident = await _declare(alice, "bob")
        await alice.follow(incident)
        for round_ in range(5):
            title = f"roll back {round_}"
            added = await alice.execute(
                AddChecklistItem(id=new_id(), incident_id=incident, title=title)
            )
            await seq_reached(alice, incident, added.seq).wait()
            item = next(i.id for i in alice.states[incident].checklist if i.title == title)
            results = await asyncio.gather(
                *(
                    who.execute(
                        SetItemState(
                            id=new_id(),
                            incident_id=incident,
                            item_id=item,
                            state=state,
                            expected=ItemState.TODO,
                        )
                    )
                    for who, state in ((alice, ItemState.DONE), (bob, ItemState.IN_PROGRESS))
                ),
                return_exceptions=True,
            )
            refused = [r for r in results if isinstance(r, CommandRefused)]
            assert len(refused) == 1, results
            assert refused[0].code is ErrorCode.CONFLICT
            winner = ItemState.DONE if not isinstance(results[0], BaseException) else "in-progress"
            assert refused[0].current == winner
        seqs = [e.seq for e in await alice.read_log(incident)]
        assert seqs == list(range(1, len(seqs) + 1))
    finally:
        await alice.close()
        await bob.close()


async def test_declarations_on_every_node_get_distinct_ids(
    three_nodes: list[WarroomNode], tokens: dict[str, str]
) -> None:
    clients = [await _client(node, tokens["alice"]) for node in three_nodes]
    try:
        acks = await asyncio.gather(
            *(
                client.execute(DeclareIncident(id=new_id(), title=f"outage {n}", severity=2))
                for n in range(4)
                for client in clients
            )
        )
        ids = sorted(ack.incident_id for ack in acks)
        assert ids == list(range(1, len(acks) + 1))
        listed = {s.id for s in await clients[0].list_incidents()}
        assert set(ids) <= listed
    finally:
        for client in clients:
            await client.close()


async def test_a_command_retried_on_another_node_is_answered_with_its_original_seq(
    three_nodes: list[WarroomNode], tokens: dict[str, str]
) -> None:
    a, b, _ = three_nodes
    first = await _client(a, tokens["alice"])
    second = await _client(b, tokens["alice"])
    try:
        incident = await _declare(first)
        write = AddEntry(id=new_id(), incident_id=incident, text="sent once, retried elsewhere")
        original = await first.execute(write)
        retry = await second.execute(write)
        assert (retry.seq, retry.duplicate) == (original.seq, True)
        texts = [e.text for e in (await second.follow(incident)).timeline]
        assert texts.count(write.text) == 1
    finally:
        await first.close()
        await second.close()


async def test_three_nodes_with_consoles_spread_over_them_converge_without_gaps(
    three_nodes: list[WarroomNode], tokens: dict[str, str]
) -> None:
    users = ("alice", "bob", "carol")
    clients = [await _client(node, tokens[user]) for node in three_nodes for user in users]
    try:
        incident = await _declare(clients[0], "bob", "carol")
        for client in clients:
            await client.follow(incident)
        declared = clients[0].states[incident].seq
        writes = [
            (client, AddEntry(id=new_id(), incident_id=incident, text=f"console {c} write {n}"))
            for n in range(WRITES_PER_CONSOLE)
            for c, client in enumerate(clients)
        ]
        acks = await asyncio.gather(*(client.execute(w) for client, w in writes))
        last = max(ack.seq for ack in acks)
        # Every write got its own seq, right after the declaration: no gap, no duplicate.
        assert sorted(ack.seq for ack in acks) == list(range(declared + 1, last + 1))
        for client in clients:
            await seq_reached(client, incident, last).wait()
        states = [client.states[incident] for client in clients]
        assert all(state == states[0] for state in states)
        for node in three_nodes:
            assert node.hub.incident_state(incident) == states[0]
        texts = [e.text for e in states[0].timeline]
        assert all(texts.count(w.text) == 1 for _, w in writes)
    finally:
        for client in clients:
            await client.close()
